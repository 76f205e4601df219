#include "agent/media/rtp_session.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/media/rtcp.h"
#include "agent/media/rtp.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr int64_t kMs = 1000;
constexpr int64_t kSecond = 1000 * kMs;
constexpr uint32_t kSsrcA = 0xA0A0A0A0;
constexpr uint32_t kSsrcB = 0xB0B0B0B0;
const std::string kKeyA = std::string(16, '\x11') + std::string(14, '\x22');
const std::string kKeyB = std::string(16, '\x33') + std::string(14, '\x44');
const std::string kAuthFailed = "SRTP authentication failed: wrong key or tampered packet";

// An impairment: drops every `drop_every`-th packet (counting from 1; 0: none) and delays the
// others by `delays_us` in turn, in virtual time (a long delay lets later packets pass).
class PatternLink final : public Link {
 public:
  PatternLink(Scheduler& scheduler, int drop_every, std::vector<int64_t> delays_us)
      : scheduler_(scheduler), drop_every_(drop_every), delays_us_(std::move(delays_us)) {}
  void Send(Packet packet) override {
    ++sent_;
    if (drop_every_ > 0 && sent_ % drop_every_ == 0) {
      ++dropped_;
      return;
    }
    const int64_t delay_us =
        delays_us_.empty() ? 0 : delays_us_[(sent_ - dropped_ - 1) % delays_us_.size()];
    scheduler_.After(delay_us, [this, packet = std::move(packet)]() mutable {
      receiver_(std::move(packet));
    });
  }
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  uint64_t dropped() const { return dropped_; }

 private:
  Scheduler& scheduler_;
  int drop_every_;
  std::vector<int64_t> delays_us_;
  Receiver receiver_;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

// An RTP packet of 20 ms of PCMU: sequence `n`, timestamp 160 n, a payload that names it.
Bytes Rtp(uint32_t ssrc, uint16_t n) {
  RtpPacket p;
  p.sequence = n;
  p.timestamp = 160u * n;
  p.ssrc = ssrc;
  p.payload.assign(160, static_cast<uint8_t>(n * 7));
  return SerializeRtp(p);
}

RtpSessionConfig Config(uint32_t ssrc, uint64_t seed, const std::string& cname) {
  RtpSessionConfig c;
  c.ssrc = ssrc;
  c.rng_seed = seed;
  c.cname = cname;
  return c;
}

// Two sessions back to back: what one hands to SendDatagram reaches the other's OnDatagram
// after `one_way_delay_us` (a task even at 0, so nothing re-enters a session). Every datagram
// is kept as sent; `tamper_a_to_b` (when set) decides what of A's datagrams B gets.
struct BackToBack {
  struct Side {
    std::unique_ptr<RtpSession> session;
    std::function<void(Packet)> forward;  // where on_rtp's packets go; unset: into `heard`
    std::vector<Packet> heard;
    std::vector<std::string> errors;
    std::vector<Bytes> wire;  // every datagram it sent, and when
    std::vector<int64_t> wire_us;
  };

  void Wire(RtpSessionConfig a, RtpSessionConfig b) {
    Make(a_, b_, std::move(a), /*a_to_b=*/true);
    Make(b_, a_, std::move(b), /*a_to_b=*/false);
  }

  void Make(Side& self, Side& peer, RtpSessionConfig config, bool a_to_b) {
    std::string error;
    self.session = RtpSession::Create(
        scheduler_, std::move(config),
        [this, &self, &peer, a_to_b](Bytes bytes) {
          self.wire.push_back(bytes);
          self.wire_us.push_back(scheduler_.NowUs());
          std::vector<Bytes> deliver = {bytes};
          if (a_to_b && tamper_a_to_b_) deliver = tamper_a_to_b_(std::move(bytes));
          for (Bytes& d : deliver) {
            scheduler_.After(one_way_delay_us_, [this, &peer, d = std::move(d)] {
              peer.session->OnDatagram(d, scheduler_.NowUs());
            });
          }
        },
        [&self](Packet packet) {
          if (self.forward) {
            self.forward(std::move(packet));
          } else {
            self.heard.push_back(std::move(packet));
          }
        },
        [&self](const std::string& what) { self.errors.push_back(what); }, &error);
    ASSERT_NE(self.session, nullptr) << error;
  }

  // `count` packets of `side`'s stream into its link(), one every 20 ms from `start_us`.
  void SendMedia(Side& side, uint32_t ssrc, int count, int64_t start_us = 0) {
    for (int n = 0; n < count; ++n) {
      scheduler_.At(start_us + n * 20 * kMs, [&side, ssrc, n] {
        side.session->link().Send(Rtp(ssrc, static_cast<uint16_t>(n)));
      });
    }
  }

  // An impairment for a session's config; it lives as long as the sessions may use it.
  PatternLink* NewLink(int drop_every, std::vector<int64_t> delays_us) {
    links_.push_back(std::make_unique<PatternLink>(scheduler_, drop_every, std::move(delays_us)));
    return links_.back().get();
  }

  SimScheduler scheduler_;
  int64_t one_way_delay_us_ = 0;
  std::function<std::vector<Bytes>(Bytes)> tamper_a_to_b_;
  std::vector<std::unique_ptr<PatternLink>> links_;  // before the sessions: it outlives them
  Side a_;
  Side b_;
};

class RtpSessionTest : public testing::Test, protected BackToBack {};

TEST_F(RtpSessionTest, PlainRtpCarriesPacketsFromLinkToOnRtpUnchanged) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  SendMedia(a_, kSsrcA, 50);
  scheduler_.RunAll();
  ASSERT_EQ(b_.heard.size(), 50u);
  for (uint16_t n = 0; n < 50; ++n) EXPECT_EQ(b_.heard[n], Rtp(kSsrcA, n));
  EXPECT_EQ(a_.wire[0], Rtp(kSsrcA, 0));  // plain on the wire
  const RtpSessionStats sent = a_.session->stats();
  EXPECT_EQ(sent.rtp_sent, 50u);
  EXPECT_EQ(sent.rtp_on_socket, 50u);
  EXPECT_EQ(sent.rtp_dropped_on_uplink, 0u);
  EXPECT_EQ(sent.srtp_send.protected_packets, 0u);
  const RtpSessionStats got = b_.session->stats();
  EXPECT_EQ(got.rtp_received, 50u);
  EXPECT_EQ(got.expected, 50);
  EXPECT_EQ(got.lost, 0);
  EXPECT_EQ(got.peer_ssrc, kSsrcA);
  EXPECT_EQ(got.jitter_ms, 0);
  EXPECT_TRUE(b_.errors.empty());
}

TEST_F(RtpSessionTest, SrtpCarriesPacketsEncryptedOnTheWireAndClearToOnRtp) {
  RtpSessionConfig a = Config(kSsrcA, 1, "alice");
  RtpSessionConfig b = Config(kSsrcB, 2, "bob");
  a.send_key_salt = b.receive_key_salt = kKeyA;
  b.send_key_salt = a.receive_key_salt = kKeyB;
  Wire(a, b);
  SendMedia(a_, kSsrcA, 50);
  SendMedia(b_, kSsrcB, 50);
  scheduler_.RunAll();
  ASSERT_EQ(b_.heard.size(), 50u);
  ASSERT_EQ(a_.heard.size(), 50u);
  for (uint16_t n = 0; n < 50; ++n) {
    EXPECT_EQ(b_.heard[n], Rtp(kSsrcA, n));
    EXPECT_EQ(a_.heard[n], Rtp(kSsrcB, n));
  }
  const Bytes clear = Rtp(kSsrcA, 0);
  ASSERT_EQ(a_.wire[0].size(), clear.size() + 10);  // the 80-bit tag
  EXPECT_NE(Bytes(a_.wire[0].begin() + 12, a_.wire[0].begin() + 172),
            Bytes(clear.begin() + 12, clear.end()));  // the payload is encrypted
  EXPECT_EQ(a_.session->stats().srtp_send.protected_packets, 50u);
  EXPECT_EQ(b_.session->stats().srtp_receive.unprotected_packets, 50u);
  EXPECT_TRUE(a_.errors.empty());
  EXPECT_TRUE(b_.errors.empty());
}

class SrtpTamperTest : public RtpSessionTest {
 protected:
  void SetUp() override {
    RtpSessionConfig a = Config(kSsrcA, 1, "alice");
    RtpSessionConfig b = Config(kSsrcB, 2, "bob");
    a.send_key_salt = b.receive_key_salt = kKeyA;
    b.send_key_salt = a.receive_key_salt = kKeyB;
    Wire(a, b);
  }
};

TEST_F(SrtpTamperTest, AReplayedDatagramIsDroppedAndCountedNeverReachingOnRtp) {
  int datagram = 0;
  tamper_a_to_b_ = [&datagram](Bytes bytes) {
    if (++datagram == 5) return std::vector<Bytes>{bytes, bytes};
    return std::vector<Bytes>{bytes};
  };
  SendMedia(a_, kSsrcA, 20);
  scheduler_.RunAll();
  ASSERT_EQ(b_.heard.size(), 20u);
  for (uint16_t n = 0; n < 20; ++n) EXPECT_EQ(b_.heard[n], Rtp(kSsrcA, n));
  const RtpSessionStats s = b_.session->stats();
  EXPECT_EQ(s.srtp_receive.replays, 1u);
  EXPECT_EQ(s.srtp_receive.unprotected_packets, 20u);
  EXPECT_EQ(s.rtp_received, 20u);
  ASSERT_EQ(b_.errors.size(), 1u);
  EXPECT_EQ(b_.errors[0],
            "SRTP replay: a packet arrived again, or behind the 128-packet replay window; "
            "dropped");
}

TEST_F(SrtpTamperTest, OneFlippedBitFailsAuthenticationAndOnlyThatPacketIsDropped) {
  int datagram = 0;
  tamper_a_to_b_ = [&datagram](Bytes bytes) {
    if (++datagram == 3) bytes[40] ^= 0x01;
    return std::vector<Bytes>{bytes};
  };
  SendMedia(a_, kSsrcA, 20);
  scheduler_.RunAll();
  ASSERT_EQ(b_.heard.size(), 19u);
  EXPECT_EQ(b_.heard[1], Rtp(kSsrcA, 1));
  EXPECT_EQ(b_.heard[2], Rtp(kSsrcA, 3));  // packet 2 is the one tampered with
  const RtpSessionStats s = b_.session->stats();
  EXPECT_EQ(s.srtp_receive.auth_failures, 1u);
  EXPECT_EQ(s.lost, 1);  // to the statistics it is a packet the network lost
  EXPECT_EQ(b_.errors, std::vector<std::string>{kAuthFailed});
}

TEST_F(RtpSessionTest, AWrongReceiveKeyDropsEveryPacketAndSaysSoOnce) {
  RtpSessionConfig a = Config(kSsrcA, 1, "alice");
  RtpSessionConfig b = Config(kSsrcB, 2, "bob");
  a.send_key_salt = kKeyA;
  b.receive_key_salt = kKeyB;  // not what A sends with
  Wire(a, b);
  a_.session->Start();
  SendMedia(a_, kSsrcA, 500);
  scheduler_.RunUntil(10 * kSecond);
  EXPECT_TRUE(b_.heard.empty());
  const RtpSessionStats s = b_.session->stats();
  EXPECT_GT(a_.session->stats().rtcp_sent, 0u);  // A's reports went too, and failed the same way
  EXPECT_EQ(s.rtp_received, 0u);
  EXPECT_EQ(s.rtcp_received, 0u);
  EXPECT_EQ(s.srtp_receive.auth_failures, 500 + a_.session->stats().rtcp_sent);
  EXPECT_EQ(s.srtp_receive.unprotected_packets, 0u);
  EXPECT_EQ(b_.errors, std::vector<std::string>{kAuthFailed});
}

// A's uplink impairment drops every 7th packet and delays the rest by a pattern (reordering
// some); B reports what it saw; A compares that with what its impairment did.
TEST_F(RtpSessionTest, PeerReportsMatchWhatTheUplinkImpairmentDid) {
  PatternLink& uplink = *NewLink(7, {0, 4 * kMs, 9 * kMs, 2 * kMs, 31 * kMs, 500, 7 * kMs});
  RtpSessionConfig a = Config(kSsrcA, 1, "alice");
  a.uplink_impairment = &uplink;
  Wire(a, Config(kSsrcB, 2, "bob"));
  a_.session->Start();
  b_.session->Start();
  SendMedia(a_, kSsrcA, 1000);  // 20 s; packet 1000 is not a 7th, so B sees the last one
  SendMedia(b_, kSsrcB, 1000);

  scheduler_.RunUntil(19 * kSecond);
  // Mid-call: a report covers 2.5 s (125 packets) or more, of which 1 in 7 is lost, give or take
  // the packet or two still inside the impairment when the report went.
  const RtpSessionStats mid = a_.session->stats();
  EXPECT_GE(mid.peer.reports, 2u);
  EXPECT_NEAR(mid.peer.fraction_lost, 1.0 / 7, 0.03);
  EXPECT_GT(b_.session->stats().rtcp_received, 0u);
  EXPECT_GT(a_.session->stats().rtcp_received, 0u);

  scheduler_.RunUntil(21 * kSecond);  // the media is over and the impairment empty
  b_.session->Stop();                 // B's last report
  scheduler_.RunUntil(22 * kSecond);
  const RtpSessionStats s = a_.session->stats();
  EXPECT_EQ(s.rtp_sent, 1000u);
  EXPECT_EQ(uplink.dropped(), 142u);
  EXPECT_EQ(s.rtp_dropped_on_uplink, 142u);
  EXPECT_EQ(s.peer.cumulative_lost, 142);
  EXPECT_EQ(s.peer.extended_highest_sequence, 999u);
  EXPECT_GT(s.uplink_jitter_ms, 1);
  EXPECT_NEAR(s.peer.jitter_ms, s.uplink_jitter_ms, 0.1 * s.uplink_jitter_ms);
  // The estimate as of B's last report, which came after the media ended: the same figure.
  EXPECT_DOUBLE_EQ(s.peer.uplink_jitter_ms_then, s.uplink_jitter_ms);
  const RtpSessionStats got = b_.session->stats();
  EXPECT_EQ(got.expected, 1000);
  EXPECT_EQ(got.lost, 142);
  EXPECT_EQ(got.rtp_received, 858u);
  EXPECT_NEAR(got.jitter_ms, s.uplink_jitter_ms, 0.01 * s.uplink_jitter_ms);
}

TEST_F(RtpSessionTest, LossOnTheDownlinkImpairmentIsCountedAfterItAndReportedToThePeer) {
  RtpSessionConfig b = Config(kSsrcB, 2, "bob");
  b.downlink_impairment = NewLink(5, {});
  Wire(Config(kSsrcA, 1, "alice"), b);
  SendMedia(a_, kSsrcA, 101);
  scheduler_.RunAll();
  b_.session->Stop();
  scheduler_.RunAll();
  EXPECT_EQ(b_.heard.size(), 81u);
  EXPECT_EQ(b_.session->stats().lost, 20);
  EXPECT_EQ(a_.session->stats().peer.cumulative_lost, 20);
  EXPECT_EQ(a_.session->stats().rtp_dropped_on_uplink, 0u);
}

TEST_F(RtpSessionTest, ReportsAreSrWhileSendingElseRrOnARandomizedInterval) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  a_.session->Start();
  b_.session->Start();
  SendMedia(a_, kSsrcA, 3000);  // A sends for 60 s, B only listens
  scheduler_.RunUntil(60 * kSecond);
  std::string error;
  std::vector<int64_t> report_us;
  for (size_t i = 0; i < a_.wire.size(); ++i) {
    const auto compound = ParseRtcp(a_.wire[i], &error);
    if (a_.wire[i][1] != kRtcpSenderReport || !compound) continue;
    report_us.push_back(a_.wire_us[i]);
    ASSERT_EQ(compound->reports.size(), 1u);
    EXPECT_EQ(compound->reports[0].ssrc, kSsrcA);
    EXPECT_EQ(compound->reports[0].blocks.size(), 0u);  // B has sent nothing to report on
    EXPECT_EQ(compound->cnames, (std::vector<RtcpCname>{{kSsrcA, "alice"}}));
    EXPECT_EQ(compound->reports[0].packet_count, a_.wire_us[i] / (20 * kMs) + 1);
  }
  ASSERT_GE(report_us.size(), 8u);
  EXPECT_GE(report_us[0], 1250 * kMs);  // half the interval, randomized in [0.5, 1.5]
  EXPECT_LE(report_us[0], 3750 * kMs);
  bool varied = false;
  for (size_t i = 1; i < report_us.size(); ++i) {
    EXPECT_GE(report_us[i] - report_us[i - 1], 2500 * kMs);
    EXPECT_LE(report_us[i] - report_us[i - 1], 7500 * kMs);
    varied |= report_us[i] - report_us[i - 1] != report_us[1] - report_us[0];
  }
  EXPECT_TRUE(varied);
  // B sent no RTP: its reports are RRs with one block about A.
  ASSERT_FALSE(b_.wire.empty());
  for (const Bytes& d : b_.wire) {
    const auto compound = ParseRtcp(d, &error);
    ASSERT_TRUE(compound) << error;
    ASSERT_EQ(compound->reports.size(), 1u);
    EXPECT_EQ(compound->reports[0].type, kRtcpReceiverReport);
    ASSERT_EQ(compound->reports[0].blocks.size(), 1u);
    EXPECT_EQ(compound->reports[0].blocks[0].ssrc, kSsrcA);
  }
  EXPECT_EQ(b_.session->stats().peer_cname, "alice");
}

TEST_F(RtpSessionTest, LoopedRtcpIsCountedAndLeavesThePeerReportAlone) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  a_.session->Start();
  b_.session->Start();
  SendMedia(a_, kSsrcA, 500);
  SendMedia(b_, kSsrcB, 500);
  scheduler_.RunUntil(10 * kSecond);
  const RtpSessionStats before = a_.session->stats();
  ASSERT_GT(before.peer.reports, 0u);
  // What an echoing peer sends back: A's own report (its SSRC first) ...
  Bytes echoed;
  for (const Bytes& d : a_.wire) {
    if (d[1] == kRtcpSenderReport) echoed = d;
  }
  ASSERT_FALSE(echoed.empty());
  a_.session->OnDatagram(echoed, scheduler_.NowUs());
  // ... and one that would rewrite `peer` if it were believed: a block about A, 99 lost.
  RtcpReport forged;
  forged.ssrc = kSsrcA;
  forged.blocks = {{kSsrcA, 128, 99, 5, 80, 0, 0}};
  a_.session->OnDatagram(SerializeRtcp(forged), scheduler_.NowUs());
  const RtpSessionStats after = a_.session->stats();
  EXPECT_EQ(after.rtcp_looped, 2u);
  EXPECT_EQ(after.rtcp_received, before.rtcp_received);
  EXPECT_EQ(after.peer.reports, before.peer.reports);
  EXPECT_EQ(after.peer.cumulative_lost, before.peer.cumulative_lost);
  EXPECT_EQ(after.peer.fraction_lost, before.peer.fraction_lost);
  EXPECT_EQ(after.peer.jitter_ms, before.peer.jitter_ms);
  EXPECT_EQ(after.peer.round_trip_ms, before.peer.round_trip_ms);
  EXPECT_TRUE(a_.errors.empty());
}

TEST_F(RtpSessionTest, RoundTripIsTwiceTheOneWayDelay) {
  one_way_delay_us_ = 40 * kMs;
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  EXPECT_EQ(a_.session->stats().peer.round_trip_ms, -1);
  a_.session->Start();
  b_.session->Start();
  SendMedia(a_, kSsrcA, 1000);
  SendMedia(b_, kSsrcB, 1000);
  scheduler_.RunUntil(20 * kSecond);
  // LSR, DLSR and the arrival time are each cut to 1/65536 s (15 us).
  EXPECT_NEAR(a_.session->stats().peer.round_trip_ms, 80, 0.05);
  EXPECT_NEAR(b_.session->stats().peer.round_trip_ms, 80, 0.05);
}

TEST_F(RtpSessionTest, StopSendsAFinalReportWithAByeOnceAndStopsTheTimer) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  a_.session->Start();
  SendMedia(a_, kSsrcA, 100);
  scheduler_.RunUntil(2 * kSecond);
  a_.session->Stop();
  scheduler_.RunUntil(2 * kSecond + 1);
  std::string error;
  const auto last = ParseRtcp(a_.wire.back(), &error);
  ASSERT_TRUE(last) << error;
  ASSERT_EQ(last->reports.size(), 1u);
  EXPECT_EQ(last->reports[0].type, kRtcpSenderReport);
  EXPECT_EQ(last->cnames, (std::vector<RtcpCname>{{kSsrcA, "alice"}}));
  EXPECT_EQ(last->byes, std::vector<uint32_t>{kSsrcA});
  EXPECT_EQ(b_.session->stats().bye_received, 1u);
  EXPECT_EQ(b_.session->stats().peer_cname, "alice");
  const uint64_t reports = a_.session->stats().rtcp_sent;
  a_.session->Stop();
  a_.session->Start();  // a stopped session stays stopped
  scheduler_.RunUntil(60 * kSecond);
  EXPECT_EQ(a_.session->stats().rtcp_sent, reports);
  EXPECT_EQ(b_.session->stats().bye_received, 1u);
}

TEST_F(RtpSessionTest, MalformedShortOversizedAndNonVersion2DatagramsAreCountedAndDropped) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  RtpSession& s = *b_.session;
  Bytes oversized = Rtp(kSsrcA, 1);
  oversized.resize(kMaxRtpDatagramBytes + 1);
  Bytes at_limit = Rtp(kSsrcA, 2);
  at_limit.resize(kMaxRtpDatagramBytes);
  const std::vector<Bytes> bad = {
      {},                                           // empty
      {0x80, 0x00, 0x00},                           // too short for anything
      {0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0},         // 10 bytes: RTCP-length, RTP by its type
      {0x81, 201, 0, 1, 0, 0, 0, 9},                // an RR whose block is missing
      {0x80, 200, 0, 9, 0, 0, 0, 9},                // an SR longer than the datagram
      oversized,
  };
  for (const Bytes& d : bad) s.OnDatagram(d, 0);
  s.OnDatagram(Bytes{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}, 0);  // a STUN header
  s.OnDatagram(Bytes{0x40, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 0);       // RTP version 1
  s.OnDatagram(at_limit, 0);                                                // accepted
  const RtpSessionStats st = s.stats();
  EXPECT_EQ(st.malformed, 6u);
  EXPECT_EQ(st.not_rtp_version_2, 2u);
  EXPECT_EQ(st.rtp_received, 1u);
  EXPECT_EQ(st.rtcp_received, 0u);
  ASSERT_EQ(b_.heard.size(), 1u);
  EXPECT_EQ(b_.heard[0], at_limit);
  ASSERT_EQ(b_.errors.size(), 2u);  // once per kind
  EXPECT_EQ(b_.errors[0],
            "malformed datagram from the peer: a 0-byte datagram, too short for RTP or RTCP; "
            "dropped");
  EXPECT_EQ(b_.errors[1],
            "a datagram from the peer that is not RTP version 2 (first byte 0x00, STUN or "
            "DTLS?); dropped");
}

TEST_F(RtpSessionTest, ANewPeerSsrcRestartsTheReceptionStatistics) {
  Wire(Config(kSsrcA, 1, "alice"), Config(kSsrcB, 2, "bob"));
  for (uint16_t n = 0; n < 10; ++n) b_.session->OnDatagram(Rtp(kSsrcA, n), 0);
  for (uint16_t n = 5000; n < 5004; ++n) b_.session->OnDatagram(Rtp(0x5555, n), 0);
  const RtpSessionStats s = b_.session->stats();
  EXPECT_EQ(s.peer_ssrc, 0x5555u);
  EXPECT_EQ(s.peer_ssrc_changes, 1u);
  EXPECT_EQ(s.expected, 4);  // not 5004 - 0 + 1: the new source's own numbering
  EXPECT_EQ(s.lost, 0);
  EXPECT_EQ(s.rtp_received, 14u);
}

TEST_F(RtpSessionTest, TheSameSeedGivesTheSameDatagrams) {
  const auto run = [](uint64_t seed) {
    BackToBack t;
    RtpSessionConfig a = Config(kSsrcA, seed, "alice");
    RtpSessionConfig b = Config(kSsrcB, seed + 1, "bob");
    a.send_key_salt = b.receive_key_salt = kKeyA;
    b.send_key_salt = a.receive_key_salt = kKeyB;
    a.uplink_impairment = t.NewLink(9, {0, 3 * kMs, 12 * kMs});
    t.one_way_delay_us_ = 15 * kMs;
    t.Wire(a, b);
    t.a_.session->Start();
    t.b_.session->Start();
    t.SendMedia(t.a_, kSsrcA, 500);
    t.SendMedia(t.b_, kSsrcB, 500);
    t.scheduler_.RunUntil(12 * kSecond);
    t.a_.session->Stop();
    t.b_.session->Stop();
    t.scheduler_.RunAll();
    std::vector<Bytes> all = t.a_.wire;
    all.insert(all.end(), t.b_.wire.begin(), t.b_.wire.end());
    std::vector<int64_t> times = t.a_.wire_us;
    times.insert(times.end(), t.b_.wire_us.begin(), t.b_.wire_us.end());
    return std::make_pair(all, times);
  };
  const auto first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first.second, run(8).second);  // another seed: other report times
}

TEST_F(RtpSessionTest, MediaEndpointsHearEachOtherThroughSrtpSessions) {
  RtpSessionConfig a = Config(kSsrcA, 1, "alice");
  RtpSessionConfig b = Config(kSsrcB, 2, "bob");
  a.send_key_salt = b.receive_key_salt = kKeyA;
  b.send_key_salt = a.receive_key_salt = kKeyB;
  one_way_delay_us_ = 30 * kMs;
  Wire(a, b);
  int heard_b = 0;
  MediaEndpoint endpoint_a(scheduler_, a_.session->link(),
                           {.codec = CodecKind::kPcmu, .ssrc = kSsrcA}, [](Frame*) {},
                           [](const Frame&, int64_t) {});
  MediaEndpoint endpoint_b(scheduler_, b_.session->link(),
                           {.codec = CodecKind::kPcmu, .ssrc = kSsrcB}, [](Frame*) {},
                           [&heard_b](const Frame& frame, int64_t) {
                             heard_b += frame.concealed ? 0 : 1;
                           });
  a_.forward = [&endpoint_a](Packet p) { endpoint_a.OnPacket(std::move(p)); };
  b_.forward = [&endpoint_b](Packet p) { endpoint_b.OnPacket(std::move(p)); };
  endpoint_a.Start();
  endpoint_b.Start();
  a_.session->Start();
  b_.session->Start();
  scheduler_.RunUntil(3 * kSecond);
  endpoint_a.Stop();
  endpoint_b.Stop();
  a_.session->Stop();
  b_.session->Stop();
  scheduler_.RunAll();
  EXPECT_EQ(endpoint_b.stats().packets_received, endpoint_a.stats().packets_sent);
  EXPECT_EQ(endpoint_b.stats().malformed_packets, 0u);
  EXPECT_GT(heard_b, 100);  // of 150 ticks, all but the first jitter-buffer delay played
  EXPECT_EQ(a_.session->stats().rtp_sent, endpoint_a.stats().packets_sent);
  EXPECT_EQ(b_.session->stats().peer.cumulative_lost, 0);
  EXPECT_GE(b_.session->stats().peer.reports, 1u);  // at least A's last report
}

TEST(RtpSessionCreate, RefusesBadKeysAndSettingsWithAReason) {
  SimScheduler scheduler;
  const auto make = [&scheduler](RtpSessionConfig config, std::string* error) {
    return RtpSession::Create(scheduler, std::move(config), [](Bytes) {}, [](Packet) {}, nullptr,
                              error);
  };
  std::string error;
  RtpSessionConfig short_key;
  short_key.send_key_salt = std::string(29, 'k');
  EXPECT_EQ(make(short_key, &error), nullptr);
  EXPECT_EQ(error, "RTP session: our SRTP key: SRTP needs a 30-byte key and salt, got 29");
  RtpSessionConfig long_key;
  long_key.receive_key_salt = std::string(31, 'k');
  EXPECT_EQ(make(long_key, &error), nullptr);
  EXPECT_EQ(error, "RTP session: the peer's SRTP key: SRTP needs a 30-byte key and salt, got 31");
  RtpSessionConfig no_clock;
  no_clock.clock_rate_hz = 0;
  EXPECT_EQ(make(no_clock, &error), nullptr);
  EXPECT_EQ(error, "RTP session: clock_rate_hz must be positive");
  RtpSessionConfig busy;
  busy.rtcp_interval_us = 1000;
  EXPECT_EQ(make(busy, &error), nullptr);
  EXPECT_EQ(error, "RTP session: rtcp_interval_us must be in [100000, 3600000000], got 1000");
  EXPECT_NE(make(RtpSessionConfig{}, &error), nullptr);
}

}  // namespace
}  // namespace callsim::agent
