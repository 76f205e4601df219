#include "agent/media/soxr_resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace callsim::agent {
namespace {

constexpr double kPi = std::numbers::pi;

std::unique_ptr<SoxrResampler> Make(int in_hz, int out_hz, int block,
                                    SoxrQuality quality = SoxrQuality::kLowLatency) {
  std::string error;
  auto resampler = SoxrResampler::Create(in_hz, out_hz, block, quality, &error);
  EXPECT_NE(resampler, nullptr) << error;
  return resampler;
}

// Block `b` of a tone at `rate_hz`.
std::vector<int16_t> ToneBlock(double freq_hz, int rate_hz, int block, int b) {
  std::vector<int16_t> samples(block);
  for (int i = 0; i < block; ++i) {
    const double n = static_cast<double>(b) * block + i;
    samples[i] = static_cast<int16_t>(std::lround(10000 * std::sin(2 * kPi * freq_hz * n / rate_hz)));
  }
  return samples;
}

// SNR of `out` (from sample `from`) against the tone it should be: `freq_hz` at `rate_hz`,
// delayed by `delay_samples` (fractional allowed).
double SnrDb(const std::vector<int16_t>& out, size_t from, double freq_hz, int rate_hz,
             double delay_samples) {
  double signal = 0, error = 0;
  for (size_t n = from; n < out.size(); ++n) {
    const double want =
        10000 * std::sin(2 * kPi * freq_hz * (static_cast<double>(n) - delay_samples) / rate_hz);
    signal += want * want;
    error += (out[n] - want) * (out[n] - want);
  }
  return 10 * std::log10(signal / error);
}

TEST(SoxrResamplerTest, CreateRejectsBlocksThatDoNotMapToWholeSamples) {
  std::string error;
  EXPECT_EQ(SoxrResampler::Create(16000, 11025, 320, SoxrQuality::kLowLatency, &error), nullptr);
  EXPECT_EQ(error,
            "resampler: a block of 320 samples at 16000 Hz is not a whole number of samples at "
            "11025 Hz");
  EXPECT_EQ(SoxrResampler::Create(0, 16000, 320, SoxrQuality::kLowLatency, &error), nullptr);
  EXPECT_EQ(SoxrResampler::Create(16000, 48000, 0, SoxrQuality::kLowLatency, &error), nullptr);
  auto ok = Make(16000, 48000, 320);
  EXPECT_EQ(ok->in_block_samples(), 320);
  EXPECT_EQ(ok->out_block_samples(), 960);
}

TEST(SoxrResamplerTest, WrongBlockSizesAreRefusedAndLeaveTheOutputUntouched) {
  auto up = Make(16000, 48000, 320);
  std::vector<int16_t> in(320, 5), out(960, 77), short_out(959, 77);
  EXPECT_FALSE(up->Process(std::span(in.data(), 319), out));
  EXPECT_FALSE(up->Process(in, short_out));
  EXPECT_EQ(out[0], 77);
  EXPECT_EQ(short_out[0], 77);
  EXPECT_TRUE(up->Process(in, out));
}

// 16 -> 48 kHz, 1 s of a 1 kHz tone: the output is that tone, delayed by exactly
// latency_samples(), with error over 70 dB below it (measured 88 dB: near 16-bit rounding);
// libsoxr never falls behind the block schedule; and the low-latency recipe stays under 10 ms.
TEST(SoxrResamplerTest, UpsampledToneIsTheToneDelayedByTheLatency) {
  for (SoxrQuality quality : {SoxrQuality::kLowLatency, SoxrQuality::kHigh}) {
    auto up = Make(16000, 48000, 320, quality);
    std::vector<int16_t> out;
    std::vector<int16_t> block(960);
    for (int b = 0; b < 50; ++b) {
      ASSERT_TRUE(up->Process(ToneBlock(1000, 16000, 320, b), block));
      out.insert(out.end(), block.begin(), block.end());
    }
    const int latency = up->latency_samples();
    EXPECT_GT(SnrDb(out, latency + 4800, 1000, 48000, latency), 70.0);
    EXPECT_EQ(up->underruns(), 0u);
    if (quality == SoxrQuality::kLowLatency) {
      EXPECT_LT(latency, 480);  // 10 ms at 48 kHz
    }
  }
}

// 16 -> 48 -> 16 kHz: a 3 kHz tone comes back unchanged but for the two latencies (the first in
// 48 kHz samples, so a fractional delay at 16 kHz): error over 70 dB down (measured 94 dB).
TEST(SoxrResamplerTest, RoundTripPreservesATone) {
  auto up = Make(16000, 48000, 320);
  auto down = Make(48000, 16000, 960);
  std::vector<int16_t> wide(960), narrow(320), out;
  for (int b = 0; b < 50; ++b) {
    ASSERT_TRUE(up->Process(ToneBlock(3000, 16000, 320, b), wide));
    ASSERT_TRUE(down->Process(wide, narrow));
    out.insert(out.end(), narrow.begin(), narrow.end());
  }
  const double delay = up->latency_samples() / 3.0 + down->latency_samples();
  EXPECT_GT(SnrDb(out, 1600, 3000, 16000, delay), 70.0);
  EXPECT_LT(down->latency_samples(), 160);  // 10 ms at 16 kHz
  EXPECT_EQ(up->underruns() + down->underruns(), 0u);
}

// 60 s in 20 ms blocks: the start-up silence measured for this block size covers every burst.
TEST(SoxrResamplerTest, NeverUnderrunsOverAMinute) {
  auto down = Make(48000, 16000, 960);
  std::vector<int16_t> in(960, 1000), out(320);
  for (int b = 0; b < 3000; ++b) ASSERT_TRUE(down->Process(in, out));
  EXPECT_EQ(down->underruns(), 0u);
  EXPECT_EQ(out[0], 1000);  // DC passes at unity gain
}

TEST(SoxrResamplerTest, SameInputGivesBitIdenticalOutputAndResetStartsOver) {
  auto a = Make(16000, 48000, 320);
  auto b = Make(16000, 48000, 320);
  std::vector<int16_t> out_a(960), out_b(960);
  std::vector<int16_t> first_run, second_run, after_reset;
  for (int k = 0; k < 20; ++k) {
    const auto in = ToneBlock(440, 16000, 320, k);
    a->Process(in, out_a);
    b->Process(in, out_b);
    first_run.insert(first_run.end(), out_a.begin(), out_a.end());
    second_run.insert(second_run.end(), out_b.begin(), out_b.end());
  }
  EXPECT_EQ(first_run, second_run);
  a->Reset();
  for (int k = 0; k < 20; ++k) {
    a->Process(ToneBlock(440, 16000, 320, k), out_a);
    after_reset.insert(after_reset.end(), out_a.begin(), out_a.end());
  }
  EXPECT_EQ(after_reset, first_run);
}

}  // namespace
}  // namespace callsim::agent
