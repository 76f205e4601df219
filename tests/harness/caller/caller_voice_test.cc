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
  const auto one = fakes::EncodeSpeech("my number is", voice.profile, nullptr).samples;
  const auto two = fakes::EncodeSpeech("four five", voice.profile, nullptr).samples;
  const Utterance u = EncodeUtterance({{"my number is", 900}, {"four five", 400}}, voice,
                                      nullptr);  // the last pause is dropped
  constexpr size_t kGap = 900 * 3 / 2 * 16;      // 1350 ms at 16 kHz
  ASSERT_EQ(u.samples.size(), one.size() + kGap + two.size());
  EXPECT_EQ(u.speech_begin, 0u);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), u.samples.begin()));
  const auto gap = u.samples.begin() + static_cast<std::ptrdiff_t>(one.size());
  EXPECT_TRUE(std::all_of(gap, gap + kGap, [](int16_t s) { return s == 0; }));
  EXPECT_TRUE(std::equal(two.begin(), two.end(), gap + kGap));
}

TEST(CallerVoiceTest, LeadingPausesAndEmptySegments) {
  CallerVoice voice;
  const auto word = fakes::EncodeSpeech("hello", voice.profile, nullptr).samples;
  const Utterance u = EncodeUtterance({{"", 200}, {"", 100}, {"hello", 0}}, voice, nullptr);
  EXPECT_EQ(u.speech_begin, 300u * 16);
  EXPECT_EQ(u.samples.size(), 300u * 16 + word.size());
  EXPECT_TRUE(EncodeUtterance({{"", 500}}, voice, nullptr).samples.empty());
  EXPECT_TRUE(EncodeUtterance({}, voice, nullptr).samples.empty());
}

}  // namespace
}  // namespace callsim::harness
