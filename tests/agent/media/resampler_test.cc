#include "agent/media/resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace callsim::agent {
namespace {

using Wide = std::array<int16_t, kFrameSamples>;
using Narrow = std::array<int16_t, kNarrowbandFrameSamples>;

// A sine at 16 kHz, continuous across frames: sample n of the whole stream.
int16_t Sine(double freq_hz, double amplitude, int n) {
  return static_cast<int16_t>(
      std::lround(amplitude * std::sin(2 * std::numbers::pi * freq_hz * n / kSampleRateHz)));
}

double Rms(const int16_t* samples, int count) {
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += static_cast<double>(samples[i]) * samples[i];
  return std::sqrt(sum / count);
}

TEST(ResamplerTest, TapsAreSymmetricWithUnityDcGainPerPhase) {
  int even = 0, odd = 0;
  for (int i = 0; i < kResamplerTaps; ++i) {
    EXPECT_EQ(kResamplerTapsQ15[i], kResamplerTapsQ15[kResamplerTaps - 1 - i]);
    (i % 2 == 0 ? even : odd) += kResamplerTapsQ15[i];
  }
  EXPECT_EQ(even, 16384);
  EXPECT_EQ(odd, 16384);
}

TEST(ResamplerTest, DcPassesExactlyOnceTheHistoryIsFull) {
  Decimator decimator;
  Interpolator interpolator;
  Wide in;
  in.fill(10000);
  Narrow narrow;
  Wide out;
  for (int frame = 0; frame < 3; ++frame) {
    decimator.Process(in, narrow);
    interpolator.Process(narrow, out);
  }
  for (int16_t s : narrow) EXPECT_EQ(s, 10000);
  for (int16_t s : out) EXPECT_EQ(s, 10000);
}

TEST(ResamplerTest, FullScaleDoesNotWrapAround) {
  Decimator decimator;
  Interpolator interpolator;
  Wide in;
  Narrow narrow;
  Wide out;
  // A full-scale square wave at 1 kHz: the filter's overshoot (Gibbs) must saturate, not wrap.
  for (int frame = 0; frame < 3; ++frame) {
    for (int i = 0; i < kFrameSamples; ++i) in[i] = (i / 8) % 2 == 0 ? 32767 : -32768;
    decimator.Process(in, narrow);
    interpolator.Process(narrow, out);
  }
  // A wrapped sample would flip sign against the square wave delayed by the round trip.
  for (int i = 64; i < kFrameSamples; ++i) {
    const int delayed = i - kResamplerRoundTripDelaySamples;
    const bool high = (delayed / 8) % 2 == 0;
    const int within = delayed % 8;
    if (within == 0 || within == 7) continue;  // transitions
    EXPECT_EQ(out[i] > 0, high) << i;
  }
}

TEST(ResamplerTest, RoundTripDelayIs45SamplesAtSixteenKilohertz) {
  Decimator decimator;
  Interpolator interpolator;
  Wide in{};
  in[100] = 16000;  // on an even index, which an 8 kHz sample represents exactly
  Narrow narrow;
  Wide out;
  decimator.Process(in, narrow);
  interpolator.Process(narrow, out);
  int peak = 0;
  for (int i = 0; i < kFrameSamples; ++i) {
    if (std::abs(out[i]) > std::abs(out[peak])) peak = i;
  }
  EXPECT_EQ(peak, 100 + kResamplerRoundTripDelaySamples);
  EXPECT_EQ(kResamplerRoundTripDelaySamples, 45);
}

struct ToneLevels {
  double narrow_db;  // after decimation, relative to the input
  double wide_db;    // after decimation and interpolation
};

ToneLevels MeasureTone(double freq_hz) {
  Decimator decimator;
  Interpolator interpolator;
  constexpr double kAmplitude = 10000;
  const double in_rms = kAmplitude / std::sqrt(2.0);
  Wide in;
  Narrow narrow;
  Wide out;
  ToneLevels levels{};
  for (int frame = 0; frame < 10; ++frame) {
    for (int i = 0; i < kFrameSamples; ++i)
      in[i] = Sine(freq_hz, kAmplitude, frame * kFrameSamples + i);
    decimator.Process(in, narrow);
    interpolator.Process(narrow, out);
  }
  // Mid-stream, so the measurement excludes the filters' start-up.
  levels.narrow_db =
      20 * std::log10(std::max(Rms(narrow.data(), kNarrowbandFrameSamples), 1e-3) / in_rms);
  levels.wide_db = 20 * std::log10(std::max(Rms(out.data(), kFrameSamples), 1e-3) / in_rms);
  return levels;
}

TEST(ResamplerTest, PassbandIsFlat) {
  for (double freq : {300.0, 1000.0, 2000.0, 3000.0}) {
    const ToneLevels levels = MeasureTone(freq);
    EXPECT_NEAR(levels.narrow_db, 0.0, 0.2) << freq;
    EXPECT_NEAR(levels.wide_db, 0.0, 0.3) << freq;
  }
}

TEST(ResamplerTest, StopbandIsAttenuatedSoNothingAliases) {
  for (double freq : {4500.0, 5000.0, 6000.0, 7000.0}) {
    const ToneLevels levels = MeasureTone(freq);
    EXPECT_LT(levels.narrow_db, -55.0) << freq;
    EXPECT_LT(levels.wide_db, -55.0) << freq;
  }
}

TEST(ResamplerTest, StreamsAcrossFrameEdgesWithoutClicks) {
  // A 440 Hz tone at amplitude 10000 changes by at most ~2 * pi * 440 / 16000 * 10000 = 1728 per
  // sample. A discontinuity at a frame edge would show as a larger step.
  Decimator decimator;
  Interpolator interpolator;
  Wide in;
  Narrow narrow;
  Wide out;
  int previous = 0;
  int max_step = 0;
  for (int frame = 0; frame < 20; ++frame) {
    for (int i = 0; i < kFrameSamples; ++i) in[i] = Sine(440, 10000, frame * kFrameSamples + i);
    decimator.Process(in, narrow);
    interpolator.Process(narrow, out);
    for (int i = 0; i < kFrameSamples; ++i) {
      if (frame > 0) max_step = std::max(max_step, std::abs(out[i] - previous));
      previous = out[i];
    }
  }
  EXPECT_LT(max_step, 1800);
  EXPECT_GT(max_step, 1600);  // and the tone really is there
}

}  // namespace
}  // namespace callsim::agent
