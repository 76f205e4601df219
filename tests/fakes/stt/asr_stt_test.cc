// The ASR STT: espeak-ng speech in 20 ms frames, recognised with a grammar, interims while the
// caller speaks, one final per Finalize after the drawn latency, the same every run.
#include "fakes/stt/asr_stt.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "fakes/voice/espeak_voice.h"

namespace callsim::fakes {
namespace {

const std::vector<std::string> kPhrases = {"hi", "i want to check on my order",
                                           "number four five six seven", "great", "thank you",
                                           "bye"};

std::vector<int16_t> Speech(const std::string& text) {
  std::vector<int16_t> samples;
  std::string error;
  EspeakVoiceSpec voice;
  voice.words_per_minute = 150;  // the bundled scenarios' caller
  EXPECT_TRUE(EspeakSynth::Shared().Synthesize(text, voice, &samples, &error)) << error;
  return samples;
}

struct Heard {
  std::vector<std::string> interims;
  std::vector<std::string> finals;
  std::vector<int64_t> final_at_us;
  std::vector<std::string> errors;
};

// Pushes `silence_before_ms`, the speech, then `silence_after_ms` in real-time frames, then
// Finalize; runs 2 s more.
Heard Listen(AsrSttConfig config, const std::vector<int16_t>& speech, int silence_before_ms,
             int silence_after_ms, uint64_t seed = 1) {
  agent::SimScheduler scheduler;
  AsrStt stt(scheduler, agent::Rng(seed), std::move(config));
  Heard heard;
  agent::SttListener l;
  l.on_interim = [&](const std::string& t) { heard.interims.push_back(t); };
  l.on_final = [&](const std::string& t) {
    heard.finals.push_back(t);
    heard.final_at_us.push_back(scheduler.NowUs());
  };
  l.on_error = [&](const std::string& e) { heard.errors.push_back(e); };
  std::unique_ptr<agent::SttSession> session = stt.Open(std::move(l));
  std::vector<int16_t> audio(static_cast<size_t>(silence_before_ms) * 16, 0);
  audio.insert(audio.end(), speech.begin(), speech.end());
  audio.insert(audio.end(), static_cast<size_t>(silence_after_ms) * 16, 0);
  int64_t t = 0;
  for (size_t at = 0; at < audio.size(); at += agent::kFrameSamples, t += agent::kFrameUs) {
    agent::Frame frame;
    for (int k = 0; k < agent::kFrameSamples; ++k) {
      frame.samples[k] = at + k < audio.size() ? audio[at + k] : 0;
    }
    scheduler.RunUntil(t);
    session->PushAudio(frame);
  }
  scheduler.RunUntil(t);
  session->Finalize();
  scheduler.RunUntil(t + 2 * agent::kMicrosPerSecond);
  return heard;
}

AsrSttConfig Config() {
  AsrSttConfig c;
  c.phrases = kPhrases;
  c.final_latency = {100, 100};
  return c;
}

// Seconds of silence before the words (which pocketsphinx alone would lose) change nothing: the
// stretch of speech starts 100 ms before its first loud frame.
TEST(AsrSttTest, AFinalAfterLongSilenceHasEveryWord) {
  const Heard heard =
      Listen(Config(), Speech("hi, i want to check on my order, number four five six seven"), 15000, 1000);
  ASSERT_EQ(heard.finals.size(), 1u);
  EXPECT_EQ(heard.finals[0], "hi i want to check on my order number four five six seven");
  EXPECT_TRUE(heard.errors.empty());
  ASSERT_FALSE(heard.interims.empty());
  EXPECT_EQ(heard.interims.back(), heard.finals[0]) << "the last interim is the whole stretch";
}

TEST(AsrSttTest, TheSameSeedAndAudioGiveTheSameResultsAtTheSameTimes) {
  const std::vector<int16_t> speech = Speech("great, thank you. bye");
  AsrSttConfig c = Config();
  c.final_latency = {100, 250};
  const Heard a = Listen(c, speech, 500, 800, 7);
  const Heard b = Listen(c, speech, 500, 800, 7);
  EXPECT_EQ(a.finals, b.finals);
  EXPECT_EQ(a.final_at_us, b.final_at_us);
  EXPECT_EQ(a.interims, b.interims);
  EXPECT_EQ(a.finals, std::vector<std::string>{"great thank you bye"});
}

TEST(AsrSttTest, SilenceGivesAnEmptyFinalAndNoInterim) {
  const Heard heard = Listen(Config(), {}, 2000, 0);
  EXPECT_EQ(heard.finals, std::vector<std::string>{""});
  EXPECT_TRUE(heard.interims.empty());
}

TEST(AsrSttTest, AGrammarThatCannotBeMadeFailsEachFinalWithTheReason) {
  AsrSttConfig c = Config();
  c.phrases = {"zorblax"};
  const Heard heard = Listen(c, Speech("great"), 0, 600);
  EXPECT_TRUE(heard.finals.empty());
  ASSERT_EQ(heard.errors.size(), 1u);
  EXPECT_NE(heard.errors[0].find("ASR STT"), std::string::npos) << heard.errors[0];
}

}  // namespace
}  // namespace callsim::fakes
