// The jitter buffer with Opus: a missing frame whose next packet is already buffered is rebuilt
// from that packet's in-band FEC (counted apart, not marked concealed); otherwise concealed.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <set>
#include <vector>

#include "agent/media/jitter_buffer.h"
#include "agent/media/opus_codec.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;
constexpr int kFrames = 20;

// A voiced-speech-like signal (a 200 Hz glide with harmonics), so that libopus's VAD sends LBRR.
Frame VoiceFrame(int frame_index) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) {
    const double t = static_cast<double>(frame_index * kFrameSamples + i) / kSampleRateHz;
    const double phase = 2 * std::numbers::pi * (200 * t + 20 * t * t);
    frame.samples[i] = static_cast<int16_t>(
        std::lround(6000 * std::sin(phase) + 3000 * std::sin(2 * phase) + 1500 * std::sin(3 * phase)));
  }
  return frame;
}

struct Out {
  int concealed = 0;
  int frames = 0;
};

class JitterBufferFecTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    OpusConfig config;
    config.sample_rate_hz = GetParam();
    encoder_ = MakeOpusCodec(config, nullptr);
    decoder_ = MakeOpusCodec(config, nullptr);
    no_fec_config_ = config;
    no_fec_config_.fec = false;
    for (int k = 0; k < kFrames; ++k) {
      RtpPacket& p = packets_[k];
      p.payload_type = kOpusPayloadType;
      p.sequence = static_cast<uint16_t>(k);
      p.timestamp = 960u * k;
      encoder_->Encode(VoiceFrame(k), &p.payload);
    }
  }

  // Packet k arrives at 20k + 10 ms unless it is in `lost`; pulls every 20 ms through 20 frames.
  // Playout starts at 60 ms (40 ms target), so packet k + 1 is buffered when frame k is due.
  Out Run(JitterBuffer& jb, const std::set<int>& lost) {
    Out out;
    int next = 0;
    for (int64_t t = 0; out.frames < kFrames - 1; t += 20 * kMs) {
      for (; next < kFrames && 20 * next + 10 <= t / kMs; ++next) {
        if (lost.count(next) == 0) jb.Insert(packets_[next], (20 * next + 10) * kMs);
      }
      Frame frame;
      if (!jb.Pull(t, &frame)) continue;
      ++out.frames;
      if (frame.concealed) ++out.concealed;
    }
    return out;
  }

  std::unique_ptr<Codec> encoder_;
  std::unique_ptr<Codec> decoder_;
  OpusConfig no_fec_config_;
  RtpPacket packets_[kFrames];
};

TEST_P(JitterBufferFecTest, PacketsOfThisSignalCarryFec) {
  for (int k = 1; k < kFrames; ++k) EXPECT_TRUE(OpusPacketHasFec(packets_[k].payload)) << k;
}

TEST_P(JitterBufferFecTest, MissingFrameIsRecoveredFromTheNextPacket) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  const Out out = Run(jb, {6});
  EXPECT_EQ(out.concealed, 0);  // the recovered frame is real audio
  const JitterBufferStats& s = jb.stats();
  EXPECT_EQ(s.fec_recovered, 1u);
  EXPECT_EQ(s.concealed, 0u);
  EXPECT_EQ(s.played, static_cast<uint64_t>(kFrames - 2));
  EXPECT_EQ(s.concealed_share, 0.0);
}

// Two in a row: the first has no next packet in the buffer (it is lost too), so it is concealed;
// the second is recovered from the packet after it.
TEST_P(JitterBufferFecTest, OfTwoLostInARowTheFirstIsConcealedAndTheSecondRecovered) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  const Out out = Run(jb, {6, 7});
  EXPECT_EQ(out.concealed, 1);
  EXPECT_EQ(jb.stats().concealed, 1u);
  EXPECT_EQ(jb.stats().fec_recovered, 1u);
  EXPECT_DOUBLE_EQ(jb.stats().concealed_share, 1.0 / (kFrames - 1));
}

// The next packet is not in the buffer yet when the frame is due (no target delay): conceal.
TEST_P(JitterBufferFecTest, WithoutTheNextPacketBufferedTheFrameIsConcealed) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 0, .max_packets = 50});
  const Out out = Run(jb, {6});
  EXPECT_EQ(out.concealed, 1);
  EXPECT_EQ(jb.stats().fec_recovered, 0u);
  EXPECT_EQ(jb.stats().concealed, 1u);
}

TEST_P(JitterBufferFecTest, AnUndecodablePayloadIsRecoveredFromTheNextPacketToo) {
  packets_[6].payload.assign({0x00, 1, 2});  // a 10 ms packet: rejected
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  Run(jb, {});
  EXPECT_EQ(jb.stats().decode_errors, 1u);
  EXPECT_EQ(jb.stats().fec_recovered, 1u);
  EXPECT_EQ(jb.stats().concealed, 0u);
}

TEST_P(JitterBufferFecTest, ADecoderWithFecOffConceals) {
  auto decoder = MakeOpusCodec(no_fec_config_, nullptr);
  JitterBuffer jb(*decoder, {.target_delay_ms = 40, .max_packets = 50});
  const Out out = Run(jb, {6});
  EXPECT_EQ(out.concealed, 1);
  EXPECT_EQ(jb.stats().fec_recovered, 0u);
  EXPECT_EQ(jb.stats().concealed, 1u);
}

INSTANTIATE_TEST_SUITE_P(Rates, JitterBufferFecTest, testing::Values(16000, 48000),
                         [](const testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param / 1000) + "kHz";
                         });

}  // namespace
}  // namespace callsim::agent
