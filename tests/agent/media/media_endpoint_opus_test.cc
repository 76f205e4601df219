// Opus through MediaEndpoint, as the harness sets it up: RFC 7587 packets on the wire, every 10th
// packet lost on the link, and the receiver's statistics showing what FEC recovered.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/media/opus_codec.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;

// Delivers packets after 30 ms, except every 10th (the 6th, 16th, ...).
class LossyLink final : public Link {
 public:
  explicit LossyLink(Scheduler& scheduler) : scheduler_(scheduler) {}
  void Send(Packet packet) override {
    RtpPacket rtp;
    EXPECT_TRUE(ParseRtp(packet, &rtp, nullptr));
    sent.push_back(rtp);
    if (sent.size() % 10 == 6) return;
    scheduler_.After(30 * kMs, [this, packet = std::move(packet)] {
      if (receiver_) receiver_(packet);
    });
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  std::vector<RtpPacket> sent;

 private:
  Scheduler& scheduler_;
  Receiver receiver_;
};

struct Case {
  int sample_rate_hz;
  bool fec;
};

class MediaEndpointOpusTest : public testing::TestWithParam<Case> {
 protected:
  // Sends 2 s of speech-like audio from a to b, with `config` on both sides, in a fresh
  // simulated world (so a test may run two calls).
  void RunCall(MediaEndpointConfig config) {
    scheduler_ = std::make_unique<agent::SimScheduler>();
    link_ = std::make_unique<LossyLink>(*scheduler_);
    back_ = std::make_unique<LossyLink>(*scheduler_);
    sample_ = 0;
    heard_.clear();
    config.ssrc = 0xA;
    MediaEndpoint a(*scheduler_, *link_, config, [this](Frame* out) { Voice(out); },
                    [](const Frame&, int64_t) {});
    config.ssrc = 0xB;
    MediaEndpoint b(*scheduler_, *back_, config, [](Frame*) {},
                    [this](const Frame& f, int64_t) { heard_.push_back(f); });
    link_->SetReceiver([&b](Packet p) { b.OnPacket(std::move(p)); });
    a.Start();
    b.Start();
    scheduler_->RunUntil(2000 * kMs - 1);
    a.Stop();
    b.Stop();
    stats_ = b.stats();
  }

  // Talkspurts: 200 ms syllables of a gliding 200 Hz voice with harmonics, 50 ms pauses between.
  // libopus's VAD sends FEC for active frames only (and would take a steady tone for background
  // noise within half a second).
  void Voice(Frame* out) {
    constexpr double kPi = std::numbers::pi;
    for (int i = 0; i < kFrameSamples; ++i, ++sample_) {
      const double t = static_cast<double>(sample_) / kSampleRateHz;
      const double phase = 2 * kPi * 200 * t - 80 / 1.3 * std::cos(2 * kPi * 1.3 * t);
      const double in_syllable_s = std::fmod(t, 0.25);
      const double envelope = in_syllable_s < 0.2 ? std::sin(kPi * in_syllable_s / 0.2) : 0.0;
      out->samples[i] = static_cast<int16_t>(std::lround(
          envelope * (6000 * std::sin(phase) + 4000 * std::sin(2 * phase + 0.5) +
                      2500 * std::sin(3 * phase + 1))));
    }
  }

  MediaEndpointConfig OpusConfigFor(const Case& c) {
    MediaEndpointConfig config;
    config.codec = CodecKind::kOpus;
    config.codec_options.opus.sample_rate_hz = c.sample_rate_hz;
    config.codec_options.opus.fec = c.fec;
    config.codec_options.opus.expected_loss_pct = 10;
    config.jitter = {.target_delay_ms = 40, .max_packets = 50, .adaptive = true, .min_delay_ms = 20};
    return config;
  }

  std::unique_ptr<agent::SimScheduler> scheduler_;
  std::unique_ptr<LossyLink> link_;
  std::unique_ptr<LossyLink> back_;
  int64_t sample_ = 0;
  std::vector<Frame> heard_;
  MediaEndpointStats stats_;
};

TEST_P(MediaEndpointOpusTest, LostPacketsAreRecoveredByFecOrConcealed) {
  const Case c = GetParam();
  RunCall(OpusConfigFor(c));
  // On the wire: payload type 111 and the 48 kHz RTP clock whatever the codec's rate.
  ASSERT_EQ(link_->sent.size(), 100u);
  for (size_t k = 0; k < link_->sent.size(); ++k) {
    EXPECT_EQ(link_->sent[k].payload_type, 111);
    EXPECT_EQ(link_->sent[k].timestamp, 960u * k);
  }
  // Sent at 0..1980 ms, arriving 30 ms later: 99 reach b by 2 s, 10 of them lost (frames 5, 15,
  // ..., 95). Playout starts at 80 ms. With no jitter the adaptive target falls to its 20 ms
  // minimum at 580 ms, and the frame then due, 25, is skipped to shrink the delay: it was lost
  // anyway, so 9 lost frames are played out, each while its next packet is buffered.
  const JitterBufferStats& j = stats_.jitter;
  EXPECT_EQ(stats_.packets_received, 89u);
  EXPECT_EQ(j.delay_shrink_frames, 1u);
  EXPECT_EQ(j.target_delay_ms, 20.0);
  const uint64_t lost_frames = j.fec_recovered + j.concealed;
  EXPECT_EQ(lost_frames, 9u);
  // Exactly the lost frames whose next packet carries LBRR are recovered (libopus's VAD decides
  // which frames get it: those in a syllable).
  uint64_t next_has_fec = 0;
  for (int k = 5; k <= 95; k += 10) {
    if (k != 25 && OpusPacketHasFec(link_->sent[k + 1].payload)) ++next_has_fec;
  }
  if (c.fec) {
    EXPECT_GE(next_has_fec, 6u);
    EXPECT_EQ(j.fec_recovered, next_has_fec);
  } else {
    EXPECT_EQ(next_has_fec, 0u);
    EXPECT_EQ(j.fec_recovered, 0u);
  }
  EXPECT_EQ(j.played + lost_frames, heard_.size());
  EXPECT_EQ(j.late_dropped, 0u);
  EXPECT_DOUBLE_EQ(j.concealed_share, static_cast<double>(j.concealed) / heard_.size());
}

// The whole path, run twice with the same settings and input: bit-identical audio at the ear.
TEST_P(MediaEndpointOpusTest, SameCallTwiceIsBitIdentical) {
  RunCall(OpusConfigFor(GetParam()));
  const std::vector<Frame> first = heard_;
  const JitterBufferStats first_stats = stats_.jitter;
  RunCall(OpusConfigFor(GetParam()));
  ASSERT_EQ(heard_.size(), first.size());
  for (size_t k = 0; k < first.size(); ++k) {
    EXPECT_EQ(heard_[k].samples, first[k].samples) << k;
    EXPECT_EQ(heard_[k].concealed, first[k].concealed) << k;
  }
  EXPECT_EQ(stats_.jitter.fec_recovered, first_stats.fec_recovered);
  EXPECT_EQ(stats_.jitter.mean_buffer_delay_ms, first_stats.mean_buffer_delay_ms);
}

INSTANTIATE_TEST_SUITE_P(Cases, MediaEndpointOpusTest,
                         testing::Values(Case{16000, true}, Case{16000, false}, Case{48000, true},
                                         Case{48000, false}),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::to_string(info.param.sample_rate_hz / 1000) + "kHzFec" +
                                  (info.param.fec ? "On" : "Off");
                         });

}  // namespace
}  // namespace callsim::agent
