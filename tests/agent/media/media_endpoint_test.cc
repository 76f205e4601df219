#include "agent/media/media_endpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "agent/runtime/rng.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;

// Delivers every packet after a fixed delay, in virtual time.
class DelayLink final : public Link {
 public:
  DelayLink(Scheduler& scheduler, int64_t delay_us) : scheduler_(scheduler), delay_us_(delay_us) {}
  void Send(Packet packet) override {
    ++sent_;
    scheduler_.After(delay_us_, [this, packet = std::move(packet)]() mutable {
      if (receiver_) receiver_(std::move(packet));
    });
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  int sent() const { return sent_; }

 private:
  Scheduler& scheduler_;
  int64_t delay_us_;
  Receiver receiver_;
  int sent_ = 0;
};

struct Heard {
  Frame frame;
  int64_t start_us;
};

// One side of a call: a source of numbered random frames, and a sink that records what it hears.
struct Side {
  explicit Side(uint64_t seed) : rng(seed) {}
  MediaEndpoint::Source Source() {
    return [this](Frame* out) {
      for (int16_t& s : out->samples) s = static_cast<int16_t>(rng.UniformInt(65536) - 32768);
      sent.push_back(*out);
    };
  }
  MediaEndpoint::Sink Sink() {
    return [this](const Frame& frame, int64_t start_us) { heard.push_back({frame, start_us}); };
  }
  Rng rng;
  std::vector<Frame> sent;
  std::vector<Heard> heard;
};

class MediaEndpointTest : public testing::Test {
 protected:
  void Wire(CodecKind codec) {
    MediaEndpointConfig config_a{.codec = codec, .ssrc = 0xA, .jitter = {.target_delay_ms = 40}};
    MediaEndpointConfig config_b{.codec = codec, .ssrc = 0xB, .jitter = {.target_delay_ms = 40}};
    a_ = std::make_unique<MediaEndpoint>(scheduler_, a_to_b_, config_a, side_a_.Source(),
                                         side_a_.Sink());
    b_ = std::make_unique<MediaEndpoint>(scheduler_, b_to_a_, config_b, side_b_.Source(),
                                         side_b_.Sink());
    a_to_b_.SetReceiver([this](Packet p) { b_->OnPacket(std::move(p)); });
    b_to_a_.SetReceiver([this](Packet p) { a_->OnPacket(std::move(p)); });
  }

  agent::SimScheduler scheduler_;
  DelayLink a_to_b_{scheduler_, 30 * kMs};
  DelayLink b_to_a_{scheduler_, 30 * kMs};
  Side side_a_{1};
  Side side_b_{2};
  std::unique_ptr<MediaEndpoint> a_;
  std::unique_ptr<MediaEndpoint> b_;
};

// Packet k leaves at 20k ms and arrives at 20k + 30 ms; playout starts at the first tick at or
// after 30 + 40 = 70 ms, i.e. 80 ms. So frame k is heard at 80 + 20k ms: 46 frames within 1 s.
constexpr int64_t kPlayoutDelayUs = 80 * kMs;

TEST_F(MediaEndpointTest, L16BackToBackDeliversEveryFrameSampleExact) {
  Wire(CodecKind::kL16);
  a_->Start();
  b_->Start();
  scheduler_.RunUntil(kMicrosPerSecond - 1);  // ticks at 0, 20, ..., 980 ms

  for (const auto* side : {&side_a_, &side_b_}) {
    const Side& sender = side == &side_a_ ? side_b_ : side_a_;
    ASSERT_EQ(sender.sent.size(), 50u);
    ASSERT_EQ(side->heard.size(), 46u);
    for (size_t k = 0; k < side->heard.size(); ++k) {
      EXPECT_EQ(side->heard[k].start_us, kPlayoutDelayUs + static_cast<int64_t>(k) * 20 * kMs) << k;
      EXPECT_FALSE(side->heard[k].frame.concealed) << k;
      EXPECT_EQ(side->heard[k].frame.samples, sender.sent[k].samples) << k;
    }
  }
  for (const auto* endpoint : {a_.get(), b_.get()}) {
    const MediaEndpointStats stats = endpoint->stats();
    EXPECT_EQ(stats.packets_sent, 50u);
    EXPECT_EQ(stats.packets_received, 49u);  // the 50th is still on the wire
    EXPECT_EQ(stats.malformed_packets, 0u);
    EXPECT_EQ(stats.jitter.played, 46u);
    EXPECT_EQ(stats.jitter.concealed, 0u);
    EXPECT_EQ(stats.jitter.reordered + stats.jitter.late_dropped + stats.jitter.duplicates, 0u);
  }
}

TEST_F(MediaEndpointTest, PacketsCarryHeaderFieldsInSequence) {
  Wire(CodecKind::kPcmu);
  std::vector<RtpPacket> seen;
  a_to_b_.SetReceiver([&](Packet p) {
    RtpPacket rtp;
    ASSERT_TRUE(ParseRtp(p, &rtp, nullptr));
    seen.push_back(rtp);
  });
  a_->Start();
  scheduler_.RunUntil(200 * kMs);
  ASSERT_EQ(seen.size(), 9u);  // sent at 0..160 ms, arrived by 190 ms
  for (size_t k = 0; k < seen.size(); ++k) {
    EXPECT_EQ(seen[k].marker, k == 0);
    EXPECT_EQ(seen[k].payload_type, 0);
    EXPECT_EQ(seen[k].ssrc, 0xAu);
    EXPECT_EQ(seen[k].sequence, k);
    EXPECT_EQ(seen[k].timestamp, 160 * k);
    EXPECT_EQ(seen[k].payload.size(), 160u);
  }
}

TEST_F(MediaEndpointTest, PcmuBackToBackPlaysEveryFrame) {
  Wire(CodecKind::kPcmu);
  a_->Start();
  b_->Start();
  scheduler_.RunUntil(kMicrosPerSecond - 1);
  const MediaEndpointStats stats = b_->stats();
  EXPECT_EQ(stats.packets_sent, 50u);
  EXPECT_EQ(stats.jitter.played, 46u);
  EXPECT_EQ(stats.jitter.concealed, 0u);
  ASSERT_EQ(side_b_.heard.size(), 46u);
  EXPECT_EQ(side_b_.heard[0].start_us, kPlayoutDelayUs);
}

TEST_F(MediaEndpointTest, MalformedPacketsAreCountedAndDropped) {
  Wire(CodecKind::kL16);
  b_->OnPacket(Packet{0x80, 0x60});  // too short
  b_->OnPacket(Packet(20, 0x40));    // version 1
  const MediaEndpointStats stats = b_->stats();
  EXPECT_EQ(stats.packets_received, 2u);
  EXPECT_EQ(stats.malformed_packets, 2u);
  EXPECT_EQ(stats.jitter.received, 0u);
}

TEST_F(MediaEndpointTest, StopCancelsTheTickAndStartResumesOnTheNewGrid) {
  Wire(CodecKind::kL16);
  std::vector<RtpPacket> seen;
  a_to_b_.SetReceiver([&](Packet p) {
    RtpPacket rtp;
    ASSERT_TRUE(ParseRtp(p, &rtp, nullptr));
    seen.push_back(rtp);
  });
  a_->Start();
  a_->Start();  // idempotent: still one tick per 20 ms
  scheduler_.RunUntil(100 * kMs);
  EXPECT_EQ(a_->stats().packets_sent, 6u);  // 0, 20, ..., 100 ms
  a_->Stop();
  a_->Stop();
  scheduler_.RunUntil(205 * kMs);
  EXPECT_EQ(a_->stats().packets_sent, 6u);
  a_->Start();  // ticks now at 205, 225, 245 ms
  scheduler_.RunUntil(250 * kMs);
  EXPECT_EQ(a_->stats().packets_sent, 9u);
  a_->Stop();
  scheduler_.RunUntil(300 * kMs);  // the last packet lands at 275 ms
  ASSERT_EQ(seen.size(), 9u);
  // The sequence number runs on; the timestamp jumps by the pause in whole frames (105 ms ~ 5
  // frames after the packet at 100 ms), and the marker starts the new talkspurt.
  EXPECT_EQ(seen[6].sequence, 6);
  EXPECT_EQ(seen[5].timestamp, 5u * 320);
  EXPECT_EQ(seen[6].timestamp, 10u * 320);
  EXPECT_EQ(seen[7].timestamp, 11u * 320);
  EXPECT_TRUE(seen[6].marker);
  EXPECT_FALSE(seen[7].marker);
}

TEST_F(MediaEndpointTest, DestructorCancelsThePendingTick) {
  Wire(CodecKind::kL16);
  a_->Start();
  scheduler_.RunUntil(10 * kMs);
  a_to_b_.SetReceiver(nullptr);  // b_ must not see packets after this
  const size_t pending_before = scheduler_.pending();
  a_.reset();
  EXPECT_EQ(scheduler_.pending(), pending_before - 1);
  scheduler_.RunUntil(200 * kMs);  // would crash (use after free) if the tick were still queued
  EXPECT_EQ(a_to_b_.sent(), 1);
}

TEST_F(MediaEndpointTest, InvalidCodecOptionsAreRejectedAtConstruction) {
  MediaEndpointConfig config;
  config.codec = CodecKind::kOpus;
  config.codec_options.opus.complexity = 11;
  EXPECT_THROW(MediaEndpoint(scheduler_, a_to_b_, config, side_a_.Source(), side_a_.Sink()),
               std::invalid_argument);
}

}  // namespace
}  // namespace callsim::agent
