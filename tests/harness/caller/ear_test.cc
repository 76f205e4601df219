// The caller's ear: the ASR engine (pocketsphinx with a grammar of what the agent can say) on
// espeak-ng speech, and the phrases that grammar is built from.
#include "harness/caller/ear.h"

#include <gtest/gtest.h>

#include <algorithm>
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

Heard Listen(Ear& ear, const std::vector<int16_t>& samples, int silence_ms) {
  Heard heard;
  const size_t speech_frames = (samples.size() + agent::kFrameSamples - 1) / agent::kFrameSamples;
  const size_t frames = speech_frames + static_cast<size_t>(silence_ms / 20);
  for (size_t i = 0; i < frames; ++i) {
    agent::Frame frame;
    for (int k = 0; k < agent::kFrameSamples; ++k) {
      const size_t at = i * agent::kFrameSamples + static_cast<size_t>(k);
      frame.samples[k] = at < samples.size() ? samples[at] : 0;
    }
    ear.Hear(frame, static_cast<int64_t>(i) * agent::kFrameUs);
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
