#include "fakes/stt/modem_stt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/text/words.h"
#include "fakes/modem/vocabulary.h"
#include "fakes/modem/word_modem.h"
#include "agent/runtime/sim_scheduler.h"
#include "tests/fakes/modem/test_audio.h"

namespace callsim::fakes {
namespace {

using testing::DbfsToRms;
using testing::ToFrames;
using testing::WhiteNoise;
using testing::WordEditDistance;

struct Heard {
  int64_t t_us;
  std::string text;
};

struct Recorder {
  std::vector<Heard> interims, finals;
  agent::SttListener Listener(agent::SimScheduler* scheduler) {
    return {[this, scheduler](const std::string& t) {
              interims.push_back({scheduler->NowUs(), t});
            },
            [this, scheduler](const std::string& t) {
              finals.push_back({scheduler->NowUs(), t});
            },
            [](const std::string& e) { ADD_FAILURE() << e; }};
  }
};

ModemSttConfig WithProfile(SttRobustnessProfile profile) {
  ModemSttConfig config;
  config.profile = profile;
  return config;
}

// Plays frames in real time, each when its 20 ms have passed, adding noise if `noise` is set.
void Play(agent::SimScheduler& scheduler, agent::SttSession& session,
          std::vector<agent::Frame> frames, WhiteNoise* noise) {
  for (agent::Frame& f : frames) {
    if (noise) noise->AddTo(&f);
    scheduler.RunUntil(scheduler.NowUs() + agent::kFrameUs);
    session.PushAudio(f);
  }
}

// Sentences of `words_per_turn` random vocabulary words.
std::vector<std::string> RandomTurns(uint64_t seed, int turns, int words_per_turn) {
  const Vocabulary& vocabulary = Vocabulary::Builtin();
  agent::Rng rng(seed);
  std::vector<std::string> out;
  for (int t = 0; t < turns; ++t) {
    std::string text;
    for (int w = 0; w < words_per_turn; ++w) {
      text += vocabulary.WordAt(1 + static_cast<int>(rng.UniformInt(vocabulary.size() - 1)));
      text += w == words_per_turn / 2 ? ", " : " ";
    }
    out.push_back(text);
  }
  return out;
}

// Speaks every turn (with 300 ms of line after it), finalizes, and returns the word error rate of
// the finals against the turns. Noise, if any, is `snr_db` under the speech level.
double WordErrorRate(const std::vector<std::string>& turns, SttRobustnessProfile profile,
                     double snr_db, uint64_t seed, double loss = 0) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(seed), WithProfile(profile));
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  std::unique_ptr<WhiteNoise> noise;
  if (snr_db < 100)
    noise = std::make_unique<WhiteNoise>(seed, DbfsToRms(-20) / std::pow(10.0, snr_db / 20));
  agent::Rng variation(seed + 1);
  size_t errors = 0, words = 0;
  for (const std::string& turn : turns) {
    std::vector<agent::Frame> frames =
        ToFrames(EncodeSpeech(turn, VoiceProfile{}, &variation).samples, 15);
    frames.resize(frames.size() + 15);
    if (loss > 0) testing::ConcealRandomFrames(&frames, loss, seed + words);
    Play(scheduler, *session, std::move(frames), noise.get());
    session->Finalize();
    scheduler.RunAll();
    const std::vector<std::string> ref = agent::NormalizeWords(turn);
    errors += WordEditDistance(ref, agent::NormalizeWords(recorder.finals.back().text));
    words += ref.size();
  }
  EXPECT_EQ(recorder.finals.size(), turns.size());
  return static_cast<double>(errors) / words;
}

TEST(SttRobustnessProfileTest, DefaultCurve) {
  const SttRobustnessProfile p = SttRobustnessProfile::Default();
  EXPECT_NEAR(p.ErrorProbability(60, 0, 1), 0.03, 0.001);
  EXPECT_NEAR(p.ErrorProbability(10, 0, 1), 0.146, 0.005);
  EXPECT_GT(p.ErrorProbability(0, 0, 1), 0.7);
  EXPECT_NEAR(p.ErrorProbability(60, 0.05, 1) - p.ErrorProbability(60, 0, 1), 0.02, 0.001);
  EXPECT_GT(p.ErrorProbability(60, 0, 0.5), p.ErrorProbability(60, 0, 1));
  EXPECT_LE(p.ErrorProbability(-30, 1, 0), p.max_error);
  const SttRobustnessProfile perfect = SttRobustnessProfile::Perfect();
  EXPECT_EQ(perfect.ErrorProbability(-30, 1, 0), 0);
}

TEST(ModemSttTest, PerfectProfileHearsCleanSpeechExactly) {
  EXPECT_EQ(WordErrorRate(RandomTurns(1, 20, 15), SttRobustnessProfile::Perfect(), 200, 1), 0);
}

TEST(ModemSttTest, DefaultProfileOnACleanLineMissesAFewPercent) {
  const double wer =
      WordErrorRate(RandomTurns(2, 200, 15), SttRobustnessProfile::Default(), 200, 2);
  EXPECT_GE(wer, 0.01);
  EXPECT_LE(wer, 0.06);
}

TEST(ModemSttTest, DefaultProfileAtTenDbSnrMissesAboutFifteenPercent) {
  const double wer = WordErrorRate(RandomTurns(3, 120, 15), SttRobustnessProfile::Default(), 10, 3);
  EXPECT_GE(wer, 0.10);
  EXPECT_LE(wer, 0.22);
}

TEST(ModemSttTest, DefaultProfileAtFivePercentLossMissesAFewPointsMore) {
  const double wer =
      WordErrorRate(RandomTurns(4, 100, 15), SttRobustnessProfile::Default(), 200, 4, 0.05);
  EXPECT_GE(wer, 0.04);
  EXPECT_LE(wer, 0.11);
}

TEST(ModemSttTest, InterimsThenOneFinalAtPlausibleTimes) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(5), WithProfile(SttRobustnessProfile::Perfect()));
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  const std::string text = "i want to check on my order";
  const ModemAudio audio = EncodeSpeech(text, VoiceProfile{}, nullptr);
  std::vector<agent::Frame> frames = ToFrames(audio.samples);
  frames.resize(frames.size() + 20);  // 400 ms of silence: the endpoint
  Play(scheduler, *session, frames, nullptr);
  const int64_t finalize_us = scheduler.NowUs();
  session->Finalize();
  scheduler.RunAll();

  ASSERT_EQ(recorder.interims.size(), audio.words.size());
  for (size_t i = 0; i < recorder.interims.size(); ++i) {
    // Each interim is everything so far, shortly after its word ended; the voice falls on the
    // last word (its turn-yielding cue), which the transcript shows as a period.
    std::string expected;
    for (size_t j = 0; j <= i; ++j) expected += (j ? " " : "") + audio.words[j].word;
    if (i + 1 == audio.words.size()) expected += ".";
    EXPECT_EQ(recorder.interims[i].text, expected);
    const int64_t word_end_us =
        audio.words[i].end_sample * agent::kMicrosPerSecond / agent::kSampleRateHz;
    EXPECT_GT(recorder.interims[i].t_us, word_end_us);  // decoded when its last frame arrived
    EXPECT_LE(recorder.interims[i].t_us, word_end_us + agent::kFrameUs + 300'000);
  }
  ASSERT_EQ(recorder.finals.size(), 1u);
  EXPECT_EQ(recorder.finals[0].text, text + ".");
  EXPECT_GT(recorder.finals[0].t_us, finalize_us);
  EXPECT_LE(recorder.finals[0].t_us, finalize_us + 1'000'000);
}

TEST(ModemSttTest, FinalizeWithoutSpeechGivesOneEmptyFinal) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(6), ModemSttConfig{});
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  Play(scheduler, *session, std::vector<agent::Frame>(50), nullptr);
  session->Finalize();
  session->Finalize();
  scheduler.RunAll();
  EXPECT_TRUE(recorder.interims.empty());
  ASSERT_EQ(recorder.finals.size(), 2u);
  EXPECT_EQ(recorder.finals[0].text, "");
  EXPECT_EQ(recorder.finals[1].text, "");
  EXPECT_LE(recorder.finals[0].t_us, recorder.finals[1].t_us);
}

// "hello there friend" with a Finalize `ms_into_friend` milliseconds into the last word's burst
// and one more at the end: the text of both finals.
std::vector<std::string> FinalsWithACutInsideFriend(int ms_into_friend) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(7), WithProfile(SttRobustnessProfile::Perfect()));
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  const ModemAudio audio = EncodeSpeech("hello there friend", VoiceProfile{}, nullptr);
  std::vector<agent::Frame> frames = ToFrames(audio.samples);
  const size_t cut = static_cast<size_t>((audio.words[2].start_sample + ms_into_friend * 16) /
                                         agent::kFrameSamples);
  Play(scheduler, *session, {frames.begin(), frames.begin() + cut}, nullptr);
  session->Finalize();
  Play(scheduler, *session, {frames.begin() + cut, frames.end()}, nullptr);
  session->Finalize();
  scheduler.RunAll();
  std::vector<std::string> texts;
  for (const auto& final : recorder.finals) texts.push_back(final.text);
  return texts;
}

TEST(ModemSttTest, FinalizeMidWordFinishesIt) {
  // Most of "friend" heard: it is finished into the first final; the rest is not a new word.
  EXPECT_EQ(FinalsWithACutInsideFriend(170),
            (std::vector<std::string>{"hello there friend", ""}));
}

TEST(ModemSttTest, FinalizeAtAWordsStartLeavesItToTheNextFinal) {
  // A frame or two into "friend": cutting it there would lose the word. It goes to the next
  // final, with its turn-yielding cue (the last word of the line).
  EXPECT_EQ(FinalsWithACutInsideFriend(30), (std::vector<std::string>{"hello there", "friend."}));
}

TEST(ModemSttTest, UnknownWordsAreHeardAsOtherWords) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(8), WithProfile(SttRobustnessProfile::Perfect()));
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  Play(scheduler, *session,
       ToFrames(EncodeSpeech("ask for kowalski please", VoiceProfile{}, nullptr).samples), nullptr);
  session->Finalize();
  scheduler.RunAll();
  ASSERT_EQ(recorder.finals.size(), 1u);
  const std::vector<std::string> heard = agent::NormalizeWords(recorder.finals[0].text);
  ASSERT_EQ(heard.size(), 4u);
  EXPECT_EQ(heard[0], "ask");
  EXPECT_NE(heard[2], "kowalski");
  EXPECT_GT(Vocabulary::Builtin().IndexOf(heard[2]), 0);
  EXPECT_EQ(heard[3], "please");
}

std::vector<Heard> RunNoisyCall(uint64_t seed) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(seed), ModemSttConfig{});
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  WhiteNoise noise(42, DbfsToRms(-20) / std::pow(10.0, 0.5));  // 10 dB SNR, the same each run
  for (const std::string& turn : RandomTurns(9, 6, 12)) {
    std::vector<agent::Frame> frames =
        ToFrames(EncodeSpeech(turn, VoiceProfile{}, nullptr).samples, 10);
    frames.resize(frames.size() + 10);
    Play(scheduler, *session, std::move(frames), &noise);
    session->Finalize();
  }
  scheduler.RunAll();
  std::vector<Heard> all = recorder.interims;
  all.insert(all.end(), recorder.finals.begin(), recorder.finals.end());
  return all;
}

TEST(ModemSttTest, SameSeedSameTranscripts) {
  const std::vector<Heard> a = RunNoisyCall(10), b = RunNoisyCall(10), c = RunNoisyCall(11);
  ASSERT_EQ(a.size(), b.size());
  bool differs = a.size() != c.size();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].t_us, b[i].t_us);
    EXPECT_EQ(a[i].text, b[i].text);
    differs = differs || i >= c.size() || a[i].text != c[i].text || a[i].t_us != c[i].t_us;
  }
  EXPECT_TRUE(differs);
}

TEST(ModemSttTest, DestroyingTheSessionCancelsCallbacks) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(12), ModemSttConfig{});
  Recorder recorder;
  auto session = stt.Open(recorder.Listener(&scheduler));
  const std::vector<agent::Frame> frames =
      ToFrames(EncodeSpeech("yes please", VoiceProfile{}, nullptr).samples);
  for (const agent::Frame& f : frames) session->PushAudio(f);  // words decode; interims pending
  session->Finalize();
  session.reset();
  scheduler.RunAll();
  EXPECT_TRUE(recorder.interims.empty());
  EXPECT_TRUE(recorder.finals.empty());
}

TEST(ModemSttTest, AListenerMayCloseTheSessionFromItsCallback) {
  agent::SimScheduler scheduler;
  ModemStt stt(scheduler, agent::Rng(13), ModemSttConfig{});
  std::unique_ptr<agent::SttSession> session;
  int interims = 0;
  session = stt.Open({[&](const std::string&) {
                        ++interims;
                        session.reset();
                      },
                      nullptr, nullptr});
  const std::vector<agent::Frame> frames =
      ToFrames(EncodeSpeech("yes please now", VoiceProfile{}, nullptr).samples);
  for (const agent::Frame& f : frames) session->PushAudio(f);
  scheduler.RunAll();
  EXPECT_EQ(interims, 1);
  EXPECT_EQ(session, nullptr);
}

}  // namespace
}  // namespace callsim::fakes
