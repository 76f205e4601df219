#include "agent/media/opus_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "agent/media/soxr_resampler.h"
#include "agent/runtime/rng.h"

namespace callsim::agent {
namespace {

constexpr double kPi = std::numbers::pi;

OpusConfig Config(int sample_rate_hz, bool fec = true, int expected_loss_pct = 10) {
  OpusConfig config;
  config.sample_rate_hz = sample_rate_hz;
  config.fec = fec;
  config.expected_loss_pct = expected_loss_pct;
  return config;
}

std::unique_ptr<Codec> Make(const OpusConfig& config) {
  std::unique_ptr<Codec> codec = MakeOpusCodec(config, nullptr);
  EXPECT_NE(codec, nullptr);
  return codec;
}

Frame ToneFrame(double freq_hz, double amplitude, int frame_index) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) {
    const int n = frame_index * kFrameSamples + i;
    frame.samples[i] =
        static_cast<int16_t>(std::lround(amplitude * std::sin(2 * kPi * freq_hz * n / kSampleRateHz)));
  }
  return frame;
}

// Voiced-speech-like: a 160-240 Hz glide with its 2nd, 3rd and 5th harmonics and a 4 Hz
// syllable envelope. Unlike a steady tone it changes from frame to frame, so concealment, which
// extrapolates the past, cannot simply continue it.
Frame VoiceFrame(int frame_index) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) {
    const double t = static_cast<double>(frame_index * kFrameSamples + i) / kSampleRateHz;
    const double phase = 2 * kPi * 200 * t - 80 / 1.3 * std::cos(2 * kPi * 1.3 * t);
    const double envelope = 0.6 + 0.4 * std::sin(2 * kPi * 4 * t);
    const double v = envelope * (6000 * std::sin(phase) + 4000 * std::sin(2 * phase + 0.5) +
                                 2500 * std::sin(3 * phase + 1) + 1500 * std::sin(5 * phase));
    frame.samples[i] = static_cast<int16_t>(std::lround(v));
  }
  return frame;
}

// SNR of `x` (from sample `from`) against the sinusoid at `freq_hz` that fits it best (any phase
// and amplitude), so the codec's delay does not matter. Also returns that sinusoid's amplitude.
double ToneSnrDb(const std::vector<int16_t>& x, size_t from, double freq_hz, double* amplitude) {
  double s_dot = 0, c_dot = 0, s_norm = 0, c_norm = 0;
  for (size_t n = from; n < x.size(); ++n) {
    const double w = 2 * kPi * freq_hz * static_cast<double>(n) / kSampleRateHz;
    s_dot += x[n] * std::sin(w);
    c_dot += x[n] * std::cos(w);
    s_norm += std::sin(w) * std::sin(w);
    c_norm += std::cos(w) * std::cos(w);
  }
  const double a = s_dot / s_norm, b = c_dot / c_norm;
  double signal = 0, error = 0;
  for (size_t n = from; n < x.size(); ++n) {
    const double w = 2 * kPi * freq_hz * static_cast<double>(n) / kSampleRateHz;
    const double fit = a * std::sin(w) + b * std::cos(w);
    signal += fit * fit;
    error += (x[n] - fit) * (x[n] - fit);
  }
  *amplitude = std::hypot(a, b);
  return 10 * std::log10(signal / error);
}

void Append(const Frame& frame, std::vector<int16_t>* out) {
  out->insert(out->end(), frame.samples.begin(), frame.samples.end());
}

class OpusRateTest : public testing::TestWithParam<int> {};

TEST_P(OpusRateTest, RtpParametersFollowRfc7587WhateverTheInternalRate) {
  auto codec = Make(Config(GetParam()));
  EXPECT_EQ(codec->kind(), CodecKind::kOpus);
  EXPECT_EQ(codec->payload_type(), 111);
  EXPECT_EQ(codec->clock_rate_hz(), 48000u);
  EXPECT_EQ(codec->timestamp_step(), 960u);
}

// A 1 kHz tone at -10 dBFS through encoder and decoder, 1 s. After the first 100 ms (codec delay
// and start-up), the output is that tone at the same level with noise and distortion at least
// 25 dB below it (measured: 34.6 dB at 16 kHz, 33.7 dB at 48 kHz, 32 kbit/s).
TEST_P(OpusRateTest, ToneRoundTripHasHighSnr) {
  auto encoder = Make(Config(GetParam()));
  auto decoder = Make(Config(GetParam()));
  std::vector<uint8_t> payload;
  std::vector<int16_t> out;
  Frame decoded;
  for (int f = 0; f < 50; ++f) {
    encoder->Encode(ToneFrame(1000, 10000, f), &payload);
    ASSERT_TRUE(decoder->Decode(payload, &decoded)) << f;
    EXPECT_FALSE(decoded.concealed);
    Append(decoded, &out);
  }
  double amplitude = 0;
  EXPECT_GT(ToneSnrDb(out, kSampleRateHz / 10, 1000, &amplitude), 25.0);
  EXPECT_NEAR(20 * std::log10(amplitude / 10000), 0.0, 1.0);  // level within 1 dB
}

// Where the latency comes from: libopus's look-ahead (6.5 ms for VOIP), plus at 48 kHz the two
// libsoxr passes. Found as the first output sample of a tone burst started at 200 ms.
TEST_P(OpusRateTest, LatencyIsLookaheadPlusResampling) {
  auto encoder = Make(Config(GetParam()));
  auto decoder = Make(Config(GetParam()));
  std::vector<uint8_t> payload;
  std::vector<int16_t> out;
  Frame decoded;
  for (int f = 0; f < 20; ++f) {
    encoder->Encode(f < 10 ? Frame{} : ToneFrame(1000, 10000, f), &payload);
    ASSERT_TRUE(decoder->Decode(payload, &decoded));
    Append(decoded, &out);
  }
  size_t onset = 0;
  while (onset < out.size() && std::abs(out[onset]) < 2000) ++onset;
  const double latency_ms = static_cast<double>(onset - 10 * kFrameSamples) / 16;
  double expected_ms = 6.5;
  if (GetParam() == 48000) {
    auto up = SoxrResampler::Create(16000, 48000, 320, SoxrQuality::kLowLatency, nullptr);
    auto down = SoxrResampler::Create(48000, 16000, 960, SoxrQuality::kLowLatency, nullptr);
    expected_ms += up->latency_samples() / 48.0 + down->latency_samples() / 16.0;
  }
  EXPECT_NEAR(latency_ms, expected_ms, 0.5);
  EXPECT_LT(latency_ms, GetParam() == 48000 ? 26.0 : 7.0);
}

TEST_P(OpusRateTest, GarbagePayloadsAreRejectedAndLeaveTheFrameUntouched) {
  auto decoder = Make(Config(GetParam()));
  const std::vector<std::vector<uint8_t>> garbage = {
      {},                        // empty (libopus would conceal)
      {0x00, 1, 2, 3},           // SILK NB 10 ms: not one 20 ms frame
      {0x18, 1, 2, 3},           // SILK NB 60 ms
      {0x0B},                    // SILK NB 20 ms, code 3 without its count byte
      {0x0B, 0x00},              // code 3, zero frames
      {0x0B, 0x3F, 1, 2},        // code 3, 63 frames (over 120 ms)
      {0x01, 0xFF, 0xFF, 0x01},  // 2 x 10 ms, code 1 (two equal frames) of odd length
      {0x02, 0xFE, 0x01},        // 2 x 10 ms, code 2: first frame longer than the packet
      std::vector<uint8_t>(4000, 0x48),  // longer than any 20 ms packet
  };
  for (size_t i = 0; i < garbage.size(); ++i) {
    Frame out;
    out.samples.fill(77);
    EXPECT_FALSE(decoder->Decode(garbage[i], &out)) << i;
    EXPECT_FALSE(decoder->RecoverFromNext(garbage[i], &out)) << i;
    EXPECT_EQ(out.samples[0], 77) << i;
  }
}

// Random bytes: whatever libopus accepts decodes to some frame, the rest is rejected; nothing
// crashes, and the decoder is usable again for a real stream afterwards.
TEST_P(OpusRateTest, RandomPayloadsNeverBreakTheDecoder) {
  auto decoder = Make(Config(GetParam()));
  Rng rng(7);
  std::vector<uint8_t> payload;
  Frame out;
  int accepted = 0;
  for (int i = 0; i < 300; ++i) {
    payload.resize(rng.UniformInt(200));
    for (uint8_t& b : payload) b = static_cast<uint8_t>(rng.UniformInt(256));
    if (decoder->Decode(payload, &out)) ++accepted;
    decoder->RecoverFromNext(payload, &out);
  }
  EXPECT_GT(accepted, 0);    // some random bytes are valid Opus: the test reached libopus
  EXPECT_LT(accepted, 300);  // and the checks rejected others
  auto encoder = Make(Config(GetParam()));
  std::vector<int16_t> tone;
  for (int f = 0; f < 50; ++f) {
    encoder->Encode(ToneFrame(1000, 10000, f), &payload);
    ASSERT_TRUE(decoder->Decode(payload, &out));
    Append(out, &tone);
  }
  double amplitude = 0;
  EXPECT_GT(ToneSnrDb(tone, kSampleRateHz / 5, 1000, &amplitude), 25.0);
}

// Every 10th packet lost (frames 5, 15, ...): the frame rebuilt from the next packet's FEC is
// much closer to what the decoder would have made of the packet itself than libopus's
// concealment. The reference is the same stream decoded without loss, so both sides carry the
// same coding noise and delay. Measured (SNR over the lost frames): 16 kHz FEC 14.1 dB, PLC
// 3.6 dB; 48 kHz FEC 13.7 dB, PLC 8.3 dB.
TEST_P(OpusRateTest, FecFromTheNextPacketBeatsConcealment) {
  auto encoder = Make(Config(GetParam(), /*fec=*/true, /*expected_loss_pct=*/10));
  std::vector<std::vector<uint8_t>> packets(150);
  for (int f = 0; f < 150; ++f) encoder->Encode(VoiceFrame(f), &packets[f]);

  auto reference = Make(Config(GetParam()));
  auto with_fec = Make(Config(GetParam()));
  auto with_plc = Make(Config(GetParam()));
  double signal = 0, fec_error = 0, plc_error = 0;
  int recovered = 0, lost = 0;
  for (int f = 0; f + 1 < 150; ++f) {
    Frame ref, a, b;
    ASSERT_TRUE(reference->Decode(packets[f], &ref));
    if (f % 10 != 5) {
      ASSERT_TRUE(with_fec->Decode(packets[f], &a));
      ASSERT_TRUE(with_plc->Decode(packets[f], &b));
      continue;
    }
    ++lost;
    if (with_fec->RecoverFromNext(packets[f + 1], &a)) {
      ++recovered;
      EXPECT_FALSE(a.concealed);
    } else {
      with_fec->Conceal(&a);
    }
    with_plc->Conceal(&b);
    EXPECT_TRUE(b.concealed);
    for (int i = 0; i < kFrameSamples; ++i) {
      const double r = ref.samples[i];
      signal += r * r;
      fec_error += (a.samples[i] - r) * (a.samples[i] - r);
      plc_error += (b.samples[i] - r) * (b.samples[i] - r);
    }
  }
  const double fec_snr_db = 10 * std::log10(signal / fec_error);
  const double plc_snr_db = 10 * std::log10(signal / plc_error);
  // libopus codes LBRR only for frames its VAD calls active enough: 13 of these 15.
  EXPECT_EQ(lost, 15);
  EXPECT_GE(recovered, 10);
  EXPECT_GT(fec_snr_db, 10.0);
  EXPECT_GT(fec_snr_db - plc_snr_db, 4.0) << "FEC " << fec_snr_db << " dB, PLC " << plc_snr_db;
}

// FEC is sent only when it is on and the encoder expects loss (and RecoverFromNext uses it only
// then: packet 40 carries LBRR in the first case).
TEST_P(OpusRateTest, PacketsCarryFecOnlyWhenOnWithALossHint) {
  struct Case {
    bool fec;
    int loss_pct;
    bool expect_fec;
  };
  for (const Case c : {Case{true, 10, true}, Case{false, 10, false}, Case{true, 0, false}}) {
    auto encoder = Make(Config(GetParam(), c.fec, c.loss_pct));
    auto decoder = Make(Config(GetParam(), c.fec, c.loss_pct));
    std::vector<uint8_t> payload, previous;
    int with_fec = 0;
    Frame out;
    for (int f = 0; f < 50; ++f) {
      encoder->Encode(VoiceFrame(f), &payload);
      if (OpusPacketHasFec(payload)) ++with_fec;
      if (f == 40) {
        EXPECT_EQ(decoder->RecoverFromNext(payload, &out), c.expect_fec);
      }
      ASSERT_TRUE(decoder->Decode(payload, &out));
    }
    if (c.expect_fec) {
      // Only frames libopus's VAD calls active get LBRR: 38 (16 kHz) and 39 (48 kHz) of 50.
      EXPECT_GE(with_fec, 35) << "fec " << c.fec << " loss " << c.loss_pct;
    } else {
      EXPECT_EQ(with_fec, 0) << "fec " << c.fec << " loss " << c.loss_pct;
    }
  }
}

// The same input and settings give the same bytes and the same samples, loss and FEC included.
TEST_P(OpusRateTest, SameInputGivesBitIdenticalOutput) {
  auto run = [&] {
    auto encoder = Make(Config(GetParam()));
    auto decoder = Make(Config(GetParam()));
    std::vector<std::vector<uint8_t>> packets(40);
    for (int f = 0; f < 40; ++f) encoder->Encode(VoiceFrame(f), &packets[f]);
    std::vector<uint8_t> bytes;
    std::vector<int16_t> samples;
    Frame out;
    for (int f = 0; f + 1 < 40; ++f) {
      bytes.insert(bytes.end(), packets[f].begin(), packets[f].end());
      if (f % 7 == 3) {
        if (!decoder->RecoverFromNext(packets[f + 1], &out)) decoder->Conceal(&out);
      } else if (f % 7 == 5) {
        decoder->Conceal(&out);
      } else {
        EXPECT_TRUE(decoder->Decode(packets[f], &out));
      }
      Append(out, &samples);
    }
    return std::make_pair(bytes, samples);
  };
  const auto first = run();
  const auto second = run();
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

// Tone bursts of 200 ms with 300 ms of digital silence between them. From the third silent frame
// on the encoder sends one constant packet without running libopus, and the decoder plays it (and
// a gap after it) as zeros; each burst after a silence still comes through at full quality.
TEST_P(OpusRateTest, DigitalSilenceIsOneConstantPacketAndPlaysAsZeros) {
  auto encoder = Make(Config(GetParam()));
  auto decoder = Make(Config(GetParam()));
  std::vector<uint8_t> payload;
  std::vector<std::vector<uint8_t>> silent_packets;
  std::vector<int16_t> burst_out;
  Frame decoded;
  for (int burst = 0; burst < 3; ++burst) {
    for (int f = 0; f < 15; ++f) {
      encoder->Encode(Frame{}, &payload);
      silent_packets.push_back(payload);
      ASSERT_TRUE(decoder->Decode(payload, &decoded));
      if (f >= 3) {
        for (int16_t v : decoded.samples) ASSERT_EQ(v, 0) << burst << " " << f;
      }
    }
    // A lost packet in the silence is concealed as silence.
    decoder->Conceal(&decoded);
    EXPECT_TRUE(decoded.concealed);
    for (int16_t v : decoded.samples) ASSERT_EQ(v, 0);
    for (int f = 0; f < 10; ++f) {
      encoder->Encode(ToneFrame(1000, 10000, burst * 10 + f), &payload);
      EXPECT_NE(payload, silent_packets.back());
      ASSERT_TRUE(decoder->Decode(payload, &decoded));
      if (burst == 2) Append(decoded, &burst_out);
    }
  }
  // The first two silent frames of every run are encoded (the speech's tail, then settling); the
  // rest are one packet, the same in every run, and valid Opus for any other decoder.
  for (size_t i = 0; i < silent_packets.size(); ++i) {
    if (i % 15 >= 3) {
      EXPECT_EQ(silent_packets[i], silent_packets[3]) << i;
    }
  }
  auto other = Make(Config(GetParam()));
  EXPECT_TRUE(other->Decode(silent_packets[3], &decoded));
  double amplitude = 0;
  EXPECT_GT(ToneSnrDb(burst_out, kSampleRateHz / 20, 1000, &amplitude), 20.0);
  EXPECT_NEAR(20 * std::log10(amplitude / 10000), 0.0, 1.5);
}

INSTANTIATE_TEST_SUITE_P(Rates, OpusRateTest, testing::Values(16000, 48000),
                         [](const testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param / 1000) + "kHz";
                         });

TEST(OpusConfigTest, ValidationNamesTheBadField) {
  std::string error;
  EXPECT_TRUE(ValidateOpusConfig(OpusConfig{}, &error));
  OpusConfig config;
  config.expected_loss_pct = 101;
  EXPECT_FALSE(ValidateOpusConfig(config, &error));
  EXPECT_EQ(error, "opus.expected_loss_pct must be in 0..100, got 101");
  config = OpusConfig{};
  config.bitrate_bps = 5000;
  EXPECT_FALSE(ValidateOpusConfig(config, &error));
  EXPECT_EQ(error, "opus.bitrate_bps must be in 6000..510000, got 5000");
  config = OpusConfig{};
  config.complexity = -1;
  EXPECT_FALSE(ValidateOpusConfig(config, &error));
  EXPECT_EQ(error, "opus.complexity must be in 0..10, got -1");
  EXPECT_EQ(MakeOpusCodec(config, nullptr), nullptr);
}

TEST(OpusFecTest, CeltOnlyAndMalformedPacketsCarryNoFec) {
  EXPECT_FALSE(OpusPacketHasFec({}));
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{0xF8, 0xFF, 0xFF}));  // CELT FB 20 ms
  EXPECT_TRUE(OpusPacketHasFec(std::vector<uint8_t>{0x48, 0x40}));  // SILK WB 20 ms, LBRR bit set
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{0x48, 0x80}));  // only the VAD bit set
  EXPECT_FALSE(OpusPacketHasFec(std::vector<uint8_t>{0x40, 0x40}));  // SILK WB 10 ms
}

}  // namespace
}  // namespace callsim::agent
