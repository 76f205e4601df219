// DTMF through MediaEndpoint: RFC 4733 event packets on the wire in place of audio, and keys
// reported once per event at the receiver whatever the repeats, losses and duplicates.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/media/telephone_event.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;

// Delivers each packet after 30 ms unless `drop` says otherwise; `copies` sends duplicates.
class TestLink final : public Link {
 public:
  explicit TestLink(Scheduler& scheduler) : scheduler_(scheduler) {}
  void Send(Packet packet) override {
    RtpPacket rtp;
    EXPECT_TRUE(ParseRtp(packet, &rtp, nullptr));
    sent.push_back(rtp);
    if (drop && drop(rtp)) return;
    for (int i = 0; i < copies; ++i) {
      scheduler_.After(30 * kMs, [this, packet] {
        if (receiver_) receiver_(packet);
      });
    }
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }

  std::vector<RtpPacket> sent;
  std::function<bool(const RtpPacket&)> drop;
  int copies = 1;

 private:
  Scheduler& scheduler_;
  Receiver receiver_;
};

struct Key {
  char key;
  int64_t t_us;
};

class MediaEndpointDtmfTest : public testing::Test {
 protected:
  void Wire(CodecKind codec) {
    MediaEndpointConfig config{.codec = codec, .ssrc = 0xA, .jitter = {.target_delay_ms = 40}};
    a_ = std::make_unique<MediaEndpoint>(
        scheduler_, a_to_b_, config,
        [this](Frame* out) { out->samples.fill(static_cast<int16_t>(1000 + sent_frames_++)); },
        [](const Frame&, int64_t) {});
    config.ssrc = 0xB;
    b_ = std::make_unique<MediaEndpoint>(
        scheduler_, b_to_a_, config, [](Frame*) {},
        [this](const Frame& f, int64_t) { heard_.push_back(f); });
    b_->set_dtmf_sink([this](char key, int64_t t_us) { keys_.push_back({key, t_us}); });
    a_to_b_.SetReceiver([this](Packet p) { b_->OnPacket(std::move(p)); });
  }

  agent::SimScheduler scheduler_;
  TestLink a_to_b_{scheduler_};
  TestLink b_to_a_{scheduler_};
  std::unique_ptr<MediaEndpoint> a_;
  std::unique_ptr<MediaEndpoint> b_;
  int sent_frames_ = 0;
  std::vector<Frame> heard_;
  std::vector<Key> keys_;
};

TEST_F(MediaEndpointDtmfTest, KeyReplacesAudioWithEventPacketsPerRfc4733) {
  Wire(CodecKind::kL16);
  a_->SendDtmf('7', 100);  // five frames
  a_->Start();
  scheduler_.RunUntil(130 * kMs);  // ticks at 0..120 ms
  const std::vector<RtpPacket>& sent = a_to_b_.sent;
  ASSERT_EQ(sent.size(), 9u);  // 4 packets, 3 end packets, then audio at 100 and 120 ms
  for (size_t i = 0; i < 7; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(sent[i].payload_type, kTelephoneEventPayloadType);
    EXPECT_EQ(sent[i].ssrc, 0xAu);
    EXPECT_EQ(sent[i].sequence, i);
    EXPECT_EQ(sent[i].timestamp, 0u);  // the event's start, in every packet
    EXPECT_EQ(sent[i].marker, i == 0);
    TelephoneEvent event;
    ASSERT_TRUE(ParseTelephoneEvent(sent[i].payload, &event, nullptr));
    EXPECT_EQ(event.event, 7);
    EXPECT_EQ(event.volume, kDefaultTelephoneEventVolume);
    EXPECT_EQ(event.end, i >= 4);
    EXPECT_EQ(event.duration, 320 * std::min<size_t>(i + 1, 5));  // L16: 320 units per frame
  }
  // Audio resumes on its own grid: tick 5 carries timestamp 5 * 320, a new talkspurt.
  EXPECT_EQ(sent[7].payload_type, 96);
  EXPECT_EQ(sent[7].sequence, 7);
  EXPECT_EQ(sent[7].timestamp, 1600u);
  EXPECT_TRUE(sent[7].marker);
  EXPECT_EQ(sent[8].timestamp, 1920u);
  EXPECT_FALSE(sent[8].marker);
  EXPECT_EQ(sent_frames_, 7);  // the source was still asked every tick

  ASSERT_EQ(keys_.size(), 1u);  // seven packets, one key
  EXPECT_EQ(keys_[0].key, '7');
  EXPECT_EQ(keys_[0].t_us, 30 * kMs);  // when the first packet arrived
  const MediaEndpointStats a = a_->stats();
  const MediaEndpointStats b = b_->stats();
  EXPECT_EQ(a.dtmf_packets_sent, 7u);
  EXPECT_EQ(a.packets_sent, 9u);
  EXPECT_EQ(b.dtmf_packets_received, 7u);
  EXPECT_EQ(b.dtmf_keys_received, 1u);
  EXPECT_EQ(b.jitter.received, 1u);  // only audio reaches the jitter buffer (tick 5 by 130 ms)
}

TEST_F(MediaEndpointDtmfTest, AudioAfterTheKeyPlaysSampleExact) {
  Wire(CodecKind::kL16);
  a_->SendDtmf('1', 40);
  a_->Start();
  b_->Start();
  scheduler_.RunUntil(400 * kMs);
  ASSERT_FALSE(heard_.empty());
  // The first audio packet is frame 2 (value 1002); everything heard is audio, in order.
  for (size_t k = 0; k < heard_.size(); ++k) {
    EXPECT_FALSE(heard_[k].concealed) << k;
    EXPECT_EQ(heard_[k].samples[0], 1002 + static_cast<int>(k)) << k;
  }
}

TEST_F(MediaEndpointDtmfTest, QueuedKeysFollowEachOtherWithTheirOwnTimestamps) {
  Wire(CodecKind::kPcmu);
  a_->SendDtmf('1', 60);
  a_->SendDtmf('#', 20);
  a_->SendDtmf('d', 40);
  a_->Start();
  scheduler_.RunUntil(300 * kMs);
  ASSERT_EQ(keys_.size(), 3u);
  EXPECT_EQ(keys_[0].key, '1');
  EXPECT_EQ(keys_[1].key, '#');
  EXPECT_EQ(keys_[2].key, 'D');
  EXPECT_EQ(keys_[0].t_us, 30 * kMs);
  EXPECT_EQ(keys_[1].t_us, 90 * kMs);   // after three frames of '1'
  EXPECT_EQ(keys_[2].t_us, 110 * kMs);  // after one frame of '#'
  // PCMU: 160 timestamp units per frame; '#' started at frame 3, 'D' at frame 4.
  std::vector<uint32_t> starts;
  for (const RtpPacket& p : a_to_b_.sent) {
    if (p.payload_type == kTelephoneEventPayloadType && p.marker) starts.push_back(p.timestamp);
  }
  EXPECT_EQ(starts, (std::vector<uint32_t>{0, 480, 640}));
}

TEST_F(MediaEndpointDtmfTest, OneKeyPerEventDespiteDuplicatesAndLostPackets) {
  Wire(CodecKind::kL16);
  a_to_b_.copies = 2;
  // Only the end packets get through: the key is still reported, once.
  a_to_b_.drop = [](const RtpPacket& p) {
    TelephoneEvent event;
    return p.payload_type == kTelephoneEventPayloadType &&
           ParseTelephoneEvent(p.payload, &event, nullptr) && !event.end;
  };
  a_->SendDtmf('9', 100);
  a_->SendDtmf('9', 100);  // the same key again is a new event
  a_->Start();
  scheduler_.RunUntil(400 * kMs);
  ASSERT_EQ(keys_.size(), 2u);
  EXPECT_EQ(keys_[0].key, '9');
  EXPECT_EQ(keys_[0].t_us, (80 + 30) * kMs);  // the first end packet, at the fifth tick
  EXPECT_EQ(keys_[1].t_us, (180 + 30) * kMs);
  EXPECT_EQ(b_->stats().dtmf_packets_received, 12u);  // 2 events x 3 end packets x 2 copies
}

TEST_F(MediaEndpointDtmfTest, BadKeysAndAFullQueueAreDroppedAndCounted) {
  Wire(CodecKind::kL16);
  a_->SendDtmf('x', 100);
  for (size_t i = 0; i < kMaxQueuedDtmfKeys + 3; ++i) a_->SendDtmf('5', 20);
  EXPECT_EQ(a_->stats().dtmf_dropped, 4u);
  a_->Start();
  scheduler_.RunUntil(2000 * kMs);
  EXPECT_EQ(keys_.size(), kMaxQueuedDtmfKeys);
}

TEST_F(MediaEndpointDtmfTest, MalformedEventPayloadIsCountedNotReported) {
  Wire(CodecKind::kL16);
  RtpPacket bad;
  bad.payload_type = kTelephoneEventPayloadType;
  bad.payload = {1, 2};
  b_->OnPacket(SerializeRtp(bad));
  RtpPacket flash;  // event 16 (flash): valid, not a key
  flash.payload_type = kTelephoneEventPayloadType;
  const auto payload = SerializeTelephoneEvent({.event = 16, .end = true, .duration = 160});
  flash.payload.assign(payload.begin(), payload.end());
  b_->OnPacket(SerializeRtp(flash));
  EXPECT_TRUE(keys_.empty());
  EXPECT_EQ(b_->stats().malformed_packets, 1u);
  EXPECT_EQ(b_->stats().dtmf_packets_received, 1u);
  EXPECT_EQ(b_->stats().jitter.received, 0u);
}

}  // namespace
}  // namespace callsim::agent
