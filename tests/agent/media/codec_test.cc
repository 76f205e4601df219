#include "agent/media/codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "agent/media/resampler.h"
#include "agent/runtime/rng.h"

namespace callsim::agent {
namespace {

Frame SineFrame(double freq_hz, double amplitude, int frame_index) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) {
    const int n = frame_index * kFrameSamples + i;
    frame.samples[i] = static_cast<int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * freq_hz * n / kSampleRateHz)));
  }
  return frame;
}

Frame RampFrame(int start) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) frame.samples[i] = static_cast<int16_t>(start + 97 * i);
  return frame;
}

// Encodes and decodes `frames` frames of a tone through one encoder and one decoder; returns the
// input and output streams.
struct Streams {
  std::vector<int16_t> in;
  std::vector<int16_t> out;
};

Streams RoundTripTone(CodecKind kind, double freq_hz, double amplitude, int frames) {
  auto encoder = MakeCodec(kind);
  auto decoder = MakeCodec(kind);
  Streams s;
  std::vector<uint8_t> payload;
  Frame decoded;
  for (int f = 0; f < frames; ++f) {
    const Frame frame = SineFrame(freq_hz, amplitude, f);
    encoder->Encode(frame, &payload);
    EXPECT_TRUE(decoder->Decode(payload, &decoded));
    s.in.insert(s.in.end(), frame.samples.begin(), frame.samples.end());
    s.out.insert(s.out.end(), decoded.samples.begin(), decoded.samples.end());
  }
  return s;
}

TEST(CodecTest, NamesRoundTrip) {
  for (CodecKind kind : {CodecKind::kL16, CodecKind::kPcmu, CodecKind::kOpus}) {
    EXPECT_EQ(kCodecNames.Parse(kCodecNames.Name(kind)), kind);
  }
  EXPECT_EQ(kCodecNames.Name(CodecKind::kL16), "l16");
  EXPECT_EQ(kCodecNames.Name(CodecKind::kPcmu), "pcmu");
  EXPECT_EQ(kCodecNames.Name(CodecKind::kOpus), "opus");
  EXPECT_EQ(kCodecNames.Parse("PCMU"), std::nullopt);
  EXPECT_EQ(kCodecNames.Parse("g722"), std::nullopt);
  EXPECT_EQ(kCodecNames.Parse(""), std::nullopt);
}

TEST(CodecTest, OpusIsMadeWithDefaultsAndRejectsBadOptions) {
  auto opus = MakeCodec(CodecKind::kOpus);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->kind(), CodecKind::kOpus);
  CodecOptions bad;
  bad.opus.sample_rate_hz = 44100;
  std::string error;
  EXPECT_FALSE(ValidateCodecOptions(CodecKind::kOpus, bad, &error));
  EXPECT_EQ(error, "opus.sample_rate_hz must be 16000 or 48000, got 44100");
  EXPECT_EQ(MakeCodec(CodecKind::kOpus, bad), nullptr);
  // Other codecs have no settings to get wrong.
  EXPECT_TRUE(ValidateCodecOptions(CodecKind::kL16, bad, nullptr));
  EXPECT_NE(MakeCodec(CodecKind::kPcmu, bad), nullptr);
}

TEST(CodecTest, CodecsWithoutFecDoNotRecover) {
  for (CodecKind kind : {CodecKind::kL16, CodecKind::kPcmu}) {
    auto encoder = MakeCodec(kind);
    auto decoder = MakeCodec(kind);
    std::vector<uint8_t> payload;
    encoder->Encode(RampFrame(0), &payload);
    Frame out;
    out.samples[0] = 77;
    EXPECT_FALSE(decoder->RecoverFromNext(payload, &out));
    EXPECT_EQ(out.samples[0], 77);  // untouched
  }
}

TEST(CodecTest, RtpParametersFollowRfc3551) {
  auto l16 = MakeCodec(CodecKind::kL16);
  EXPECT_EQ(l16->payload_type(), 96);
  EXPECT_EQ(l16->clock_rate_hz(), 16000u);
  EXPECT_EQ(l16->timestamp_step(), 320u);
  auto pcmu = MakeCodec(CodecKind::kPcmu);
  EXPECT_EQ(pcmu->payload_type(), 0);
  EXPECT_EQ(pcmu->clock_rate_hz(), 8000u);
  EXPECT_EQ(pcmu->timestamp_step(), 160u);
}

TEST(L16Test, PayloadIsBigEndian) {
  auto codec = MakeCodec(CodecKind::kL16);
  Frame frame;
  frame.samples[0] = 0x1234;
  frame.samples[1] = -2;
  frame.samples[319] = -32768;
  std::vector<uint8_t> payload = {9, 9, 9};  // cleared first
  codec->Encode(frame, &payload);
  ASSERT_EQ(payload.size(), 640u);
  EXPECT_EQ(payload[0], 0x12);
  EXPECT_EQ(payload[1], 0x34);
  EXPECT_EQ(payload[2], 0xFF);
  EXPECT_EQ(payload[3], 0xFE);
  EXPECT_EQ(payload[638], 0x80);
  EXPECT_EQ(payload[639], 0x00);
}

TEST(L16Test, RoundTripIsExact) {
  auto encoder = MakeCodec(CodecKind::kL16);
  auto decoder = MakeCodec(CodecKind::kL16);
  std::vector<uint8_t> payload;
  for (int f = 0; f < 3; ++f) {
    const Frame frame = RampFrame(-30000 + 1000 * f);
    encoder->Encode(frame, &payload);
    Frame out;
    out.concealed = true;
    ASSERT_TRUE(decoder->Decode(payload, &out));
    EXPECT_EQ(out.samples, frame.samples);
    EXPECT_FALSE(out.concealed);
  }
}

TEST(L16Test, RejectsWrongSizeAndLeavesOutputUntouched) {
  auto decoder = MakeCodec(CodecKind::kL16);
  Frame out = RampFrame(5);
  const Frame before = out;
  for (size_t size : {0u, 1u, 639u, 641u, 1280u}) {
    std::vector<uint8_t> payload(size, 0x11);
    EXPECT_FALSE(decoder->Decode(payload, &out)) << size;
    EXPECT_EQ(out.samples, before.samples);
  }
}

TEST(L16Test, ConcealmentFadesThenFallsSilent) {
  auto encoder = MakeCodec(CodecKind::kL16);
  auto decoder = MakeCodec(CodecKind::kL16);
  std::vector<uint8_t> payload;
  Frame frame;
  frame.samples.fill(10000);
  encoder->Encode(frame, &payload);
  Frame out;
  ASSERT_TRUE(decoder->Decode(payload, &out));
  const int expected[] = {7000, 3500, 1750, 0, 0};  // x0.7, then halving, then silence
  for (int value : expected) {
    decoder->Conceal(&out);
    EXPECT_TRUE(out.concealed);
    EXPECT_NEAR(out.samples[0], value, 1);
    EXPECT_NEAR(out.samples[319], value, 1);
  }
  // A good frame ends the run: the next loss starts the fade again from 0.7.
  ASSERT_TRUE(decoder->Decode(payload, &out));
  decoder->Conceal(&out);
  EXPECT_NEAR(out.samples[100], 7000, 1);
}

TEST(L16Test, ConcealmentBeforeAnyFrameIsSilence) {
  auto decoder = MakeCodec(CodecKind::kL16);
  Frame out = RampFrame(1);
  decoder->Conceal(&out);
  EXPECT_TRUE(out.concealed);
  for (int16_t s : out.samples) ASSERT_EQ(s, 0);
}

TEST(PcmuTest, PayloadIs160BytesAndOtherSizesAreRejected) {
  auto encoder = MakeCodec(CodecKind::kPcmu);
  auto decoder = MakeCodec(CodecKind::kPcmu);
  std::vector<uint8_t> payload;
  encoder->Encode(Frame{}, &payload);
  ASSERT_EQ(payload.size(), 160u);
  for (uint8_t b : payload) EXPECT_EQ(b, 0xFF);  // silence is mu-law 0xFF
  Frame out = RampFrame(3);
  const Frame before = out;
  for (size_t size : {0u, 159u, 161u, 320u, 640u}) {
    std::vector<uint8_t> bad(size, 0xFF);
    EXPECT_FALSE(decoder->Decode(bad, &out)) << size;
    EXPECT_EQ(out.samples, before.samples);
  }
}

// Finds the lag (0..max_lag) at which `out` best matches `in` by cross-correlation, over one
// window of the same length for every lag.
int BestLag(const std::vector<int16_t>& in, const std::vector<int16_t>& out, int max_lag) {
  int best_lag = 0;
  double best = -1e300;
  const size_t window = out.size() - max_lag;
  for (int lag = 0; lag <= max_lag; ++lag) {
    double sum = 0;
    for (size_t n = 0; n < window; ++n) sum += static_cast<double>(in[n]) * out[n + lag];
    if (sum > best) {
      best = sum;
      best_lag = lag;
    }
  }
  return best_lag;
}

TEST(PcmuTest, DelayIsTheFiltersConstant45Samples) {
  // Broadband noise makes the correlation peak unambiguous (a tone repeats every period).
  Rng rng(7);
  auto encoder = MakeCodec(CodecKind::kPcmu);
  auto decoder = MakeCodec(CodecKind::kPcmu);
  std::vector<int16_t> in, out;
  std::vector<uint8_t> payload;
  Frame frame, decoded;
  for (int f = 0; f < 10; ++f) {
    for (int16_t& sample : frame.samples) sample = static_cast<int16_t>(rng.Uniform(-3000, 3000));
    encoder->Encode(frame, &payload);
    ASSERT_TRUE(decoder->Decode(payload, &decoded));
    in.insert(in.end(), frame.samples.begin(), frame.samples.end());
    out.insert(out.end(), decoded.samples.begin(), decoded.samples.end());
  }
  EXPECT_EQ(BestLag(in, out, 100), kResamplerRoundTripDelaySamples);
}

TEST(PcmuTest, OneKilohertzAtMinus20DbfsHasSnrAbove25Db) {
  const double amplitude = 32767 * 0.1;  // -20 dBFS peak
  const Streams s = RoundTripTone(CodecKind::kPcmu, 1000, amplitude, 25);
  // A 1 kHz tone repeats every 16 samples, so its lag is only known modulo 16.
  const int lag = BestLag(s.in, s.out, 100);
  EXPECT_EQ(lag % 16, kResamplerRoundTripDelaySamples % 16);
  double signal = 0, residual = 0;
  for (size_t n = kFrameSamples; n + lag < s.out.size(); ++n) {  // skip the filters' start-up
    const double x = s.in[n];
    const double y = s.out[n + lag];
    signal += x * x;
    residual += (y - x) * (y - x);
  }
  const double snr_db = 10 * std::log10(signal / residual);
  EXPECT_GT(snr_db, 25.0);
  EXPECT_LT(snr_db, 45.0);  // mu-law's own limit (~38 dB): the measurement is not vacuous
}

TEST(PcmuTest, SixKilohertzIsAttenuatedByMoreThan30Db) {
  const double amplitude = 32767 * 0.1;
  const Streams s = RoundTripTone(CodecKind::kPcmu, 6000, amplitude, 25);
  double in_power = 0, out_power = 0;
  for (size_t n = kFrameSamples; n < s.out.size(); ++n) {
    in_power += static_cast<double>(s.in[n]) * s.in[n];
    out_power += static_cast<double>(s.out[n]) * s.out[n];
  }
  const double gain_db = 10 * std::log10(std::max(out_power, 1.0) / in_power);
  EXPECT_LT(gain_db, -30.0);
}

TEST(PcmuTest, ConcealmentFadesToExactSilence) {
  auto encoder = MakeCodec(CodecKind::kPcmu);
  auto decoder = MakeCodec(CodecKind::kPcmu);
  std::vector<uint8_t> payload;
  Frame frame;
  frame.samples.fill(8000);
  Frame out;
  for (int f = 0; f < 3; ++f) {  // settle the filters on DC
    encoder->Encode(frame, &payload);
    ASSERT_TRUE(decoder->Decode(payload, &out));
  }
  const int level = out.samples[160];
  EXPECT_NEAR(level, 8000, 8000 / 30);  // within a mu-law step
  const double gains[] = {0.7, 0.35, 0.175};
  for (double gain : gains) {
    decoder->Conceal(&out);
    EXPECT_TRUE(out.concealed);
    EXPECT_NEAR(out.samples[160], level * gain, 2);  // mid-frame, past the filter's transition
  }
  // The fourth carries only the filter's tail from the third; from the fifth on, exact silence.
  decoder->Conceal(&out);
  EXPECT_EQ(out.samples[319], 0);
  decoder->Conceal(&out);
  for (int16_t s : out.samples) ASSERT_EQ(s, 0);
}

}  // namespace
}  // namespace callsim::agent
