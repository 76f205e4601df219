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

// The real clock as a stalled process sees it: every task due within [from, to) runs at `to`
// (NowUs says so), the rest at its time. Tasks still run in their order.
class StallingScheduler final : public Scheduler {
 public:
  StallingScheduler(SimScheduler& sim, int64_t from_us, int64_t to_us)
      : sim_(sim), from_us_(from_us), to_us_(to_us) {}
  int64_t NowUs() const override {
    const int64_t t = sim_.NowUs();
    return t >= from_us_ && t < to_us_ ? to_us_ : t;
  }
  TaskId At(int64_t when_us, std::function<void()> task) override {
    return sim_.At(when_us, std::move(task));
  }
  void Cancel(TaskId id) override { sim_.Cancel(id); }

 private:
  SimScheduler& sim_;
  int64_t from_us_;
  int64_t to_us_;
};

// A caller and its agent in one process that stalls from 300 to 400 ms: both sides' ticks in
// the stall run at its end, in a burst, and the packets sent in it leave then.
struct StalledCall {
  explicit StalledCall(int64_t link_delay_us)
      : a_to_b(scheduler, link_delay_us), b_to_a(scheduler, link_delay_us) {
    a_to_b.SetReceiver([this](Packet p) { b.OnPacket(std::move(p)); });
    b_to_a.SetReceiver([this](Packet p) { a.OnPacket(std::move(p)); });
    a.Start();
    b.Start();
  }
  SimScheduler sim;
  StallingScheduler scheduler{sim, 300 * kMs, 400 * kMs};
  DelayLink a_to_b;
  DelayLink b_to_a;
  Side side_a{1};
  Side side_b{2};
  std::vector<int64_t> delivered_at_us;  // when b's sink was called
  MediaEndpointConfig config{.codec = CodecKind::kL16, .jitter = {.target_delay_ms = 40}};
  MediaEndpoint a{scheduler, a_to_b, config, side_a.Source(), side_a.Sink()};
  MediaEndpoint b{scheduler, b_to_a, config, side_b.Source(),
                  [this](const Frame& frame, int64_t start_us) {
                    delivered_at_us.push_back(scheduler.NowUs());
                    side_b.heard.push_back({frame, start_us});
                  }};
};

// Playing the frames due in the burst at once would conceal them and drop their packets as
// late; held until their packets are in, every frame is heard, sample for sample, at its time.
TEST(MediaEndpointStall, AStallOfTheProcessDelaysPlayoutButLosesNoAudio) {
  StalledCall call(1 * kMs);
  call.sim.RunUntil(kMicrosPerSecond - 1);
  // Packet k arrives at 20k + 1 ms; playout starts at the first tick at or after 41 ms: 60 ms.
  const std::vector<Heard>& heard = call.side_b.heard;
  ASSERT_EQ(heard.size(), 47u);
  for (size_t k = 0; k < heard.size(); ++k) {
    EXPECT_EQ(heard[k].start_us, 60 * kMs + static_cast<int64_t>(k) * 20 * kMs) << k;
    EXPECT_FALSE(heard[k].frame.concealed) << k;
    EXPECT_EQ(heard[k].frame.samples, call.side_a.sent[k].samples) << k;
  }
  const MediaEndpointStats stats = call.b.stats();
  EXPECT_EQ(stats.jitter.concealed, 0u);
  EXPECT_EQ(stats.jitter.late_dropped, 0u);
  // The ticks due at 300..380 ms ran at 400 ms. The frames due at 300..340 ms had their packets
  // (sent before the stall) and played then; those due at 360 and 380 ms, and the one at 400 ms
  // behind them (order is kept), waited for their packets, sent in the burst, in at 401 ms.
  EXPECT_EQ(stats.playout_deferred, 3u);
  for (size_t k = 0; k < heard.size(); ++k) {
    const int64_t due = heard[k].start_us;
    int64_t expected = due;
    if (due >= 300 * kMs && due < 360 * kMs) expected = 400 * kMs;
    if (due >= 360 * kMs && due <= 400 * kMs) expected = 401 * kMs;
    EXPECT_EQ(call.delivered_at_us[k], expected) << k;
  }
}

// Over a 30 ms path the packets sent in the burst land at 430 ms, after the ticks due at 400 and
// 420 ms ran on time: in the stall's shadow those wait for their packets too.
TEST(MediaEndpointStall, FramesDueJustAfterTheStallWaitForPacketsSentInIt) {
  StalledCall call(30 * kMs);
  call.sim.RunUntil(kMicrosPerSecond - 1);
  // Packet k arrives at 20k + 30 ms; playout starts at the first tick at or after 70 ms: 80 ms.
  const std::vector<Heard>& heard = call.side_b.heard;
  ASSERT_EQ(heard.size(), 46u);
  for (size_t k = 0; k < heard.size(); ++k) {
    EXPECT_EQ(heard[k].start_us, 80 * kMs + static_cast<int64_t>(k) * 20 * kMs) << k;
    EXPECT_FALSE(heard[k].frame.concealed) << k;
    EXPECT_EQ(heard[k].frame.samples, call.side_a.sent[k].samples) << k;
  }
  const MediaEndpointStats stats = call.b.stats();
  EXPECT_EQ(stats.jitter.late_dropped, 0u);
  EXPECT_EQ(stats.playout_deferred, 3u);  // due at 380, 400 and 420 ms
  for (size_t k = 0; k < heard.size(); ++k) {
    const int64_t due = heard[k].start_us;
    if (due >= 380 * kMs && due <= 420 * kMs) {
      EXPECT_EQ(call.delivered_at_us[k], 430 * kMs) << k;
    }
  }
}

// In virtual time no task runs late: nothing is ever deferred.
TEST_F(MediaEndpointTest, InVirtualTimeNothingIsDeferred) {
  Wire(CodecKind::kL16);
  a_->Start();
  b_->Start();
  scheduler_.RunUntil(kMicrosPerSecond - 1);
  EXPECT_EQ(b_->stats().playout_deferred, 0u);
  EXPECT_EQ(side_b_.heard.size(), 46u);
}

// Stop plays what a stall held back before it stops; a deferred frame is never lost to it.
TEST(MediaEndpointStall, StopPlaysTheFramesAStallHeldBack) {
  StalledCall call(1 * kMs);
  call.sim.RunUntil(390 * kMs);  // the ticks at 300..380 ms ran (late); 360 and 380 ms wait
  const std::vector<Heard>& heard = call.side_b.heard;
  const size_t heard_before = heard.size();
  EXPECT_EQ(heard.back().start_us, 340 * kMs);
  call.b.Stop();
  EXPECT_EQ(call.b.stats().playout_deferred, 2u);
  ASSERT_EQ(heard.size(), heard_before + 2);
  EXPECT_EQ(heard.back().start_us, 380 * kMs);
  EXPECT_TRUE(heard.back().frame.concealed) << "its packet was not in";
  call.sim.RunUntil(kMicrosPerSecond);
  EXPECT_EQ(heard.size(), heard_before + 2) << "stopped: nothing more";
}

}  // namespace
}  // namespace callsim::agent
