#include "harness/caller/caller_voice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace callsim::harness {
namespace {

TEST(CallerVoiceTest, NoVariationKeepsTheScenarioVoice) {
  CallerSpec spec;
  spec.words_per_minute = 170;
  agent::Rng rng(5);
  const CallerVoice voice = DrawCallerVoice(spec, rng);
  EXPECT_EQ(voice.rate_factor, 1.0);
  EXPECT_EQ(voice.pause_scale, 1.0);
  EXPECT_EQ(voice.profile.words_per_minute, 170);
  EXPECT_EQ(voice.profile.comma_pause_ms, fakes::VoiceProfile{}.comma_pause_ms);
  EXPECT_EQ(voice.profile.sentence_pause_ms, fakes::VoiceProfile{}.sentence_pause_ms);
}

// 4000 callers: the rate factor is Normal(1, 0.2) (clamping at +/-2.5 sigma barely matters), the
// pause scale Normal(1, 0.5) clamped to [0.3, 3]: P(below 0.3) = P(z < -1.4) = 8.1%.
TEST(CallerVoiceTest, VariationIsSeededNormalAndClamped) {
  CallerSpec spec;
  spec.variation.rate = 0.2;
  spec.variation.pauses = 0.5;
  const int n = 4000;
  double sum = 0, sum_sq = 0;
  int pause_floor = 0;
  for (int i = 0; i < n; ++i) {
    agent::Rng rng = agent::Rng(99).Fork("caller/" + std::to_string(i));
    const CallerVoice v = DrawCallerVoice(spec, rng);
    ASSERT_GE(v.rate_factor, kMinRateFactor);
    ASSERT_LE(v.rate_factor, kMaxRateFactor);
    ASSERT_GE(v.pause_scale, kMinPauseScale);
    ASSERT_LE(v.pause_scale, kMaxPauseScale);
    ASSERT_DOUBLE_EQ(v.profile.words_per_minute, 150 * v.rate_factor);
    ASSERT_DOUBLE_EQ(v.profile.comma_pause_ms, 300 * v.pause_scale);
    ASSERT_DOUBLE_EQ(v.profile.sentence_pause_ms, 500 * v.pause_scale);
    sum += v.rate_factor;
    sum_sq += v.rate_factor * v.rate_factor;
    pause_floor += v.pause_scale == kMinPauseScale;
  }
  const double mean = sum / n;
  const double sd = std::sqrt(sum_sq / n - mean * mean);
  EXPECT_NEAR(mean, 1.0, 0.015);
  EXPECT_NEAR(sd, 0.2, 0.015);
  EXPECT_NEAR(pause_floor / static_cast<double>(n), 0.081, 0.015);

  agent::Rng a(7), b(7);  // the same stream gives the same caller
  EXPECT_EQ(DrawCallerVoice(spec, a).rate_factor, DrawCallerVoice(spec, b).rate_factor);
}

TEST(CallerVoiceTest, UtteranceJoinsSegmentsWithScaledPauses) {
  CallerVoice voice;
  voice.pause_scale = 1.5;
  // "is" is not the utterance's last word: said without the turn-yielding cue.
  fakes::SpeechPlan first = fakes::PlanSpeech("my number is", voice.profile, nullptr);
  first.words.back().turn_end = false;
  fakes::ModemSpeech first_speech(voice.profile.level_dbfs);
  first_speech.Append(first, 0);
  std::vector<int16_t> one(static_cast<size_t>(first_speech.size()));
  first_speech.Read(0, static_cast<int>(one.size()), one.data());
  const auto two = fakes::EncodeSpeech("four five", voice.profile, nullptr).samples;
  const EncodedUtterance u = EncodeUtterance({{"my number is", 900}, {"four five", 400}}, voice,
                                      nullptr);  // the last pause is dropped
  constexpr size_t kGap = 900 * 3 / 2 * 16;      // 1350 ms at 16 kHz
  const std::vector<int16_t> samples = u.Samples();
  ASSERT_EQ(samples.size(), one.size() + kGap + two.size());
  EXPECT_EQ(u.speech_begin, 0u);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), samples.begin()));
  const auto gap = samples.begin() + static_cast<std::ptrdiff_t>(one.size());
  EXPECT_TRUE(std::all_of(gap, gap + kGap, [](int16_t s) { return s == 0; }));
  EXPECT_TRUE(std::equal(two.begin(), two.end(), gap + kGap));
}

TEST(CallerVoiceTest, LeadingPausesAndEmptySegments) {
  CallerVoice voice;
  const auto word = fakes::EncodeSpeech("hello", voice.profile, nullptr).samples;
  const EncodedUtterance u = EncodeUtterance({{"", 200}, {"", 100}, {"hello", 0}}, voice, nullptr);
  EXPECT_EQ(u.speech_begin, 300u * 16);
  EXPECT_EQ(u.size(), 300 * 16 + static_cast<int64_t>(word.size()));
  EXPECT_EQ(u.Samples().size(), 300u * 16 + word.size());
  EXPECT_EQ(EncodeUtterance({{"", 500}}, voice, nullptr).size(), 0);
  EXPECT_EQ(EncodeUtterance({}, voice, nullptr).size(), 0);
}

// espeak-ng: real speech, trimmed to its first and last audible sample, the same every time.
TEST(CallerVoiceEspeakTest, AnUtteranceIsTrimmedSpeechAndTheSameEveryTime) {
  CallerSpec spec;
  spec.voice.engine = VoiceEngine::kEspeak;
  spec.words_per_minute = 160;
  agent::Rng rng(1);
  const CallerVoice voice = DrawCallerVoice(spec, rng);
  EXPECT_EQ(voice.engine, VoiceEngine::kEspeak);
  EXPECT_EQ(voice.espeak.voice, "en-us+f2");
  EXPECT_EQ(voice.espeak.words_per_minute, 160);
  std::string error;
  const std::vector<int16_t> a =
      EncodeUtterance({{"where is my order", 0}}, voice, nullptr, &error).Samples();
  ASSERT_TRUE(error.empty()) << error;
  const double seconds = static_cast<double>(a.size()) / agent::kSampleRateHz;
  EXPECT_GT(seconds, 0.6);  // four words at 160 wpm: about 1.2 s
  EXPECT_LT(seconds, 2.0);
  EXPECT_EQ(EncodeUtterance({{"where is my order", 0}}, voice, nullptr, &error).speech_begin, 0u);
  EXPECT_GT(std::abs(static_cast<int>(a.front())), kEspeakSilenceLevel);
  EXPECT_GT(std::abs(static_cast<int>(a.back())), kEspeakSilenceLevel);
  EXPECT_EQ(a, EncodeUtterance({{"where is my order", 0}}, voice, nullptr, &error).Samples());
}

// Segments keep their pauses (scaled) between them, and a leading pause is before speech_begin.
TEST(CallerVoiceEspeakTest, PausesBetweenSegmentsAreSilence) {
  CallerSpec spec;
  spec.voice.engine = VoiceEngine::kEspeak;
  agent::Rng rng(1);
  const CallerVoice voice = DrawCallerVoice(spec, rng);
  std::string error;
  const std::vector<int16_t> one = EncodeUtterance({{"yes", 0}}, voice, nullptr, &error).Samples();
  const EncodedUtterance two = EncodeUtterance({{"", 500}, {"yes", 700}, {"yes", 900}}, voice, nullptr,
                                        &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(two.speech_begin, 8000u);  // 500 ms at 16 kHz
  // 500 ms + yes + 700 ms + yes; the trailing 900 ms is not part of it.
  const std::vector<int16_t> samples = two.Samples();
  EXPECT_EQ(samples.size(), 8000 + 2 * one.size() + 11200);
  const auto gap_begin = samples.begin() + 8000 + static_cast<ptrdiff_t>(one.size());
  EXPECT_TRUE(std::all_of(gap_begin, gap_begin + 11200, [](int16_t v) { return v == 0; }));
}

TEST(CallerVoiceEspeakTest, TheRateIsHeldToWhatEspeakCanSay) {
  CallerSpec spec;
  spec.voice.engine = VoiceEngine::kEspeak;
  spec.words_per_minute = 40;
  agent::Rng rng(1);
  EXPECT_EQ(DrawCallerVoice(spec, rng).espeak.words_per_minute, kMinEspeakWordsPerMinute);
  spec.words_per_minute = 900;
  EXPECT_EQ(DrawCallerVoice(spec, rng).espeak.words_per_minute, kMaxEspeakWordsPerMinute);
}

TEST(CallerVoiceEspeakTest, AVoiceEspeakDoesNotKnowIsAnErrorNotSilence) {
  CallerSpec spec;
  spec.voice.engine = VoiceEngine::kEspeak;
  spec.voice.voice = "xx-nowhere";
  agent::Rng rng(1);
  std::string error;
  const EncodedUtterance u = EncodeUtterance({{"hello", 0}}, DrawCallerVoice(spec, rng), nullptr, &error);
  EXPECT_EQ(u.size(), 0);
  EXPECT_NE(error.find("xx-nowhere"), std::string::npos) << error;
}

}  // namespace
}  // namespace callsim::harness
