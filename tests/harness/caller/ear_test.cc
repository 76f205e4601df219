// The caller's ear: the ASR engine (pocketsphinx with a grammar of what the agent can say) on
// espeak-ng speech, and the phrases that grammar is built from.
#include "harness/caller/ear.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include "fakes/voice/espeak_voice.h"
#include "harness/caller/ear_phrases.h"
#include "harness/scenario/loader.h"

namespace callsim::harness {
namespace {

std::vector<int16_t> Speech(const std::string& text) {
  std::vector<int16_t> samples;
  std::string error;
  EXPECT_TRUE(fakes::EspeakSynth::Shared().Synthesize(text, fakes::EspeakVoiceSpec{}, &samples,
                                                      &error))
      << error;
  return samples;
}

// Feeds `samples` then `silence_ms` of silence in 20 ms frames from time 0; returns the words
// taken after each frame, joined, and the frame index at which the first words came.
struct Heard {
  std::string text;
  int first_words_frame = -1;
  std::string partial_mid;  // Partial() halfway through the speech
};

// Frame `i` of `samples` (zeros past the end).
agent::Frame FrameAt(const std::vector<int16_t>& samples, size_t i) {
  agent::Frame frame;
  for (int k = 0; k < agent::kFrameSamples; ++k) {
    const size_t at = i * agent::kFrameSamples + static_cast<size_t>(k);
    frame.samples[k] = at < samples.size() ? samples[at] : 0;
  }
  return frame;
}

Heard Listen(Ear& ear, const std::vector<int16_t>& samples, int silence_ms) {
  Heard heard;
  const size_t speech_frames = (samples.size() + agent::kFrameSamples - 1) / agent::kFrameSamples;
  const size_t frames = speech_frames + static_cast<size_t>(silence_ms / 20);
  for (size_t i = 0; i < frames; ++i) {
    ear.Hear(FrameAt(samples, i), static_cast<int64_t>(i) * agent::kFrameUs);
    if (i == speech_frames / 2) heard.partial_mid = ear.Partial();
    for (const std::string& w : ear.TakeWords()) {
      if (heard.first_words_frame < 0) heard.first_words_frame = static_cast<int>(i);
      if (!heard.text.empty()) heard.text += ' ';
      heard.text += w;
    }
  }
  return heard;
}

const std::vector<std::string> kPhrases = {"hello", "thanks for calling", "how can I help you today",
                                           "let me check that for you",
                                           "your order number 4567 has shipped", "have a nice day"};

TEST(EarAsrTest, AStretchOfSpeechIsHeardWhenItEnds) {
  Ear ear(kPhrases);
  ASSERT_EQ(ear.error(), "");
  const std::vector<int16_t> speech =
      Speech("Let me check that for you. Your order number 4567 has shipped.");
  const Heard heard = Listen(ear, speech, 1000);
  EXPECT_EQ(heard.text, "let me check that for you your order number four five six seven has shipped");
  EXPECT_FALSE(heard.partial_mid.empty()) << "the open stretch says something halfway";
  // The words come once kAsrGapMs of silence has followed the last active sample.
  const int last_speech_frame = static_cast<int>(ear.last_active_us() / agent::kFrameUs);
  EXPECT_GE(heard.first_words_frame, last_speech_frame + Ear::kAsrGapMs / 20 - 1);
  EXPECT_LE(heard.first_words_frame, last_speech_frame + Ear::kAsrGapMs / 20 + 1);
}

TEST(EarAsrTest, TheSameAudioIsHeardTheSameByAnotherEar) {
  const std::vector<int16_t> speech = Speech("Hello, thanks for calling. How can I help you today?");
  Ear a(kPhrases);
  Ear b(kPhrases);
  const std::string first = Listen(a, speech, 600).text;
  EXPECT_EQ(first, "hello thanks for calling how can i help you today");
  EXPECT_EQ(Listen(a, speech, 600).text, first) << "after hearing it once";
  EXPECT_EQ(Listen(b, speech, 600).text, first);
}

// Off the thread (a caller on the real clock), the same words, in the order of the stretches; Hear
// does not decode, and Pending() holds the reply's judgement until they are in.
TEST(EarAsrTest, OffTheThreadTheSameWordsInOrder) {
  const std::vector<int16_t> first = Speech("Let me check that for you.");
  const std::vector<int16_t> second = Speech("Your order number 4567 has shipped. Have a nice day.");
  std::vector<int16_t> both = first;
  both.insert(both.end(), static_cast<size_t>(Ear::kAsrGapMs + 200) * 16, 0);  // two stretches
  both.insert(both.end(), second.begin(), second.end());
  Ear inline_ear(kPhrases);
  const std::string expected = Listen(inline_ear, both, 600).text;
  EXPECT_EQ(expected, "let me check that for you your order number four five six seven has shipped "
                      "have a nice day");

  Ear ear(kPhrases);
  ear.DecodeOffThread();
  // The test's frames come far faster than the real clock's: after each, the decodes in flight
  // are given the time the clock would have (bounded), so none is given up on.
  std::string text;
  bool was_pending = false;
  const size_t frames = both.size() / agent::kFrameSamples + 30;
  for (size_t i = 0; i < frames; ++i) {
    ear.Hear(FrameAt(both, i), static_cast<int64_t>(i) * agent::kFrameUs);
    was_pending = was_pending || ear.Pending();
    for (int wait = 0; wait < 500 && ear.Pending(); ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ear.Hear(agent::Frame{}, static_cast<int64_t>(i) * agent::kFrameUs);
    }
    for (const std::string& w : ear.TakeWords()) text += (text.empty() ? "" : " ") + w;
  }
  EXPECT_TRUE(was_pending) << "a closed stretch is decoded on a worker, not in Hear";
  EXPECT_FALSE(ear.Pending());
  EXPECT_EQ(text, expected);
  EXPECT_EQ(ear.late_stretches(), 0);
}

// Words that take longer than kAsrMaxPendingMs at the ear's clock are given up on, and counted.
TEST(EarAsrTest, OffTheThreadWordsTooLateAreCounted) {
  Ear ear(kPhrases);
  ear.DecodeOffThread();
  const std::vector<int16_t> speech = Speech("Have a nice day.");
  Listen(ear, speech, Ear::kAsrGapMs + 20);  // the stretch closes on the last frame
  ASSERT_TRUE(ear.Pending() || !ear.TakeWords().empty());
  // The ear's clock jumps past the bound before the next frame: what is still pending is late.
  // (A decode that already finished is taken instead; either way nothing stays pending.)
  ear.Hear(agent::Frame{}, agent::MsToUs(60'000));
  EXPECT_FALSE(ear.Pending());
}

TEST(EarAsrTest, SilenceIsNothing) {
  Ear ear(kPhrases);
  EXPECT_EQ(Listen(ear, {}, 1000).text, "");
  EXPECT_EQ(ear.last_active_us(), -1);
  EXPECT_EQ(ear.Partial(), "");
}

TEST(EarPhrasesTest, ClausesSplitAtPunctuation) {
  EXPECT_EQ(Clauses("Hello, thanks for calling. How can I help you today?"),
            (std::vector<std::string>{"Hello", "thanks for calling", "How can I help you today"}));
  EXPECT_EQ(Clauses(" one ;two:  three! "), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_TRUE(Clauses("...").empty());
}

TEST(EarPhrasesTest, TheGreetingTheScriptAndTheExpectationsOnce) {
  const LoadResult r = LoadScenarioFile(std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml");
  ASSERT_TRUE(r.ok());
  const std::vector<std::string> phrases = EarPhrases(*r.scenario);
  auto has = [&](const std::string& p) {
    return std::find(phrases.begin(), phrases.end(), p) != phrases.end();
  };
  EXPECT_TRUE(has("How can I help you today")) << "the greeting";
  EXPECT_TRUE(has("One moment while I check that")) << "a canned line";
  EXPECT_TRUE(has("Let me check that for you")) << "the script's say";
  EXPECT_TRUE(has("your order number four five six seven has shipped")) << "an agent_says";
  std::vector<std::string> sorted = phrases;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "each once";
}

}  // namespace
}  // namespace callsim::harness
