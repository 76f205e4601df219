#include "agent/media/rtp_session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::agent {
namespace {

constexpr size_t kRtpHeaderBytes = 12;
constexpr size_t kRtcpHeaderBytes = 8;  // header word and the sender's SSRC
constexpr double kMicrosPerSecondD = 1e6;

uint32_t Get32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

// RFC 5761 section 4: RTCP packet types 192..223 put the second byte where RTP has its marker bit
// and payload type; RTP payload types 64..95 would collide and are not used.
bool IsRtcp(std::span<const uint8_t> datagram) {
  return datagram[1] >= 192 && datagram[1] <= 223;
}

// The NTP timestamp (32.32 fixed point seconds) of scheduler time `us`. The epoch is the
// scheduler's zero, not 1900: only differences matter to the peer (its LSR echoes our value back
// and our round trip is computed from our own clock).
uint64_t NtpFromUs(int64_t us) {
  const auto u = static_cast<uint64_t>(std::max<int64_t>(us, 0));
  const uint64_t seconds = u / kMicrosPerSecond;
  const uint64_t fraction = ((u % kMicrosPerSecond) << 32) / kMicrosPerSecond;
  return (seconds << 32) | fraction;
}

// The middle 32 bits of an NTP timestamp (16.16 seconds): what LSR carries.
uint32_t NtpMiddle(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

// RFC 3550 6.4.1's octet count: payload octets, without the header, CSRCs, extension or padding.
size_t PayloadBytes(const Packet& p) {
  size_t header = kRtpHeaderBytes + 4 * size_t{p[0] & 0x0fu};
  if ((p[0] & 0x10) != 0 && p.size() >= header + 4) {
    header += 4 + 4 * ((size_t{p[header + 2]} << 8) | p[header + 3]);
  }
  const size_t padding = (p[0] & 0x20) != 0 ? p.back() : 0;
  return p.size() > header + padding ? p.size() - header - padding : 0;
}

std::string Hex(uint8_t byte) {
  char text[5];
  std::snprintf(text, sizeof text, "0x%02x", byte);
  return text;
}

}  // namespace

void RtpSession::InterarrivalJitter::Add(uint32_t rtp_timestamp, int64_t arrival_us,
                                         uint32_t clock_rate_hz) {
  if (have_last_) {
    // D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1}), arrivals converted to timestamp units.
    const double arrival_units = static_cast<double>(arrival_us - last_arrival_us_) *
                                 clock_rate_hz / kMicrosPerSecondD;
    const auto media_units = static_cast<int32_t>(rtp_timestamp - last_timestamp_);
    jitter_ += (std::abs(arrival_units - media_units) - jitter_) / 16;
  }
  have_last_ = true;
  last_timestamp_ = rtp_timestamp;
  last_arrival_us_ = arrival_us;
}

void RtpSession::OutgoingLink::Send(Packet packet) { session_.OnMediaSent(std::move(packet)); }

std::unique_ptr<RtpSession> RtpSession::Create(Scheduler& scheduler, RtpSessionConfig config,
                                               SendDatagram send, OnRtp on_rtp, OnError on_error,
                                               std::string* error) {
  if (config.clock_rate_hz == 0) {
    *error = "RTP session: clock_rate_hz must be positive";
    return nullptr;
  }
  if (config.rtcp_interval_us < kMinRtcpIntervalUs ||
      config.rtcp_interval_us > kMaxRtcpIntervalUs) {
    *error = "RTP session: rtcp_interval_us must be in [" + std::to_string(kMinRtcpIntervalUs) +
             ", " + std::to_string(kMaxRtcpIntervalUs) + "], got " +
             std::to_string(config.rtcp_interval_us);
    return nullptr;
  }
  std::unique_ptr<sip::SrtpSession> srtp_send;
  std::unique_ptr<sip::SrtpSession> srtp_receive;
  std::string why;
  if (!config.send_key_salt.empty()) {
    srtp_send = sip::SrtpSession::Create(sip::SrtpSession::Direction::kSend, config.send_key_salt,
                                         &why);
    if (!srtp_send) {
      *error = "RTP session: our SRTP key: " + why;
      return nullptr;
    }
  }
  if (!config.receive_key_salt.empty()) {
    srtp_receive = sip::SrtpSession::Create(sip::SrtpSession::Direction::kReceive,
                                            config.receive_key_salt, &why);
    if (!srtp_receive) {
      *error = "RTP session: the peer's SRTP key: " + why;
      return nullptr;
    }
  }
  std::unique_ptr<RtpSession> session(new RtpSession(
      scheduler, std::move(config), std::move(send), std::move(on_rtp), std::move(on_error)));
  session->srtp_send_ = std::move(srtp_send);
  session->srtp_receive_ = std::move(srtp_receive);
  return session;
}

RtpSession::RtpSession(Scheduler& scheduler, RtpSessionConfig config, SendDatagram send,
                       OnRtp on_rtp, OnError on_error)
    : scheduler_(scheduler),
      config_(std::move(config)),
      send_(std::move(send)),
      on_rtp_(std::move(on_rtp)),
      on_error_(std::move(on_error)),
      rng_(config_.rng_seed) {
  CALLSIM_CHECK(send_ && on_rtp_);
  if (config_.uplink_impairment != nullptr) {
    config_.uplink_impairment->SetReceiver([this](Packet packet) { ToSocket(std::move(packet)); });
  }
  if (config_.downlink_impairment != nullptr) {
    config_.downlink_impairment->SetReceiver([this](Packet packet) {
      OnRtpReceived(std::move(packet), scheduler_.NowUs());
    });
  }
}

RtpSession::~RtpSession() {
  // Packets still inside an impairment must not reach a session that is gone.
  if (config_.uplink_impairment != nullptr) config_.uplink_impairment->SetReceiver([](Packet) {});
  if (config_.downlink_impairment != nullptr) {
    config_.downlink_impairment->SetReceiver([](Packet) {});
  }
}

Link& RtpSession::link() { return link_; }

void RtpSession::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  ScheduleReport(config_.rtcp_interval_us / 2);
}

void RtpSession::Stop() {
  if (stopped_) return;
  stopped_ = true;
  report_task_.Cancel();
  SendReport(/*bye=*/true);
}

// --- Sending -------------------------------------------------------------------------------

void RtpSession::OnMediaSent(Packet packet) {
  // The MediaEndpoint sends RTP it serialized itself; anything shorter would corrupt the counts.
  CALLSIM_CHECK(packet.size() >= kRtpHeaderBytes);
  ++stats_.rtp_sent;
  octets_sent_ += static_cast<uint32_t>(PayloadBytes(packet));
  last_sent_timestamp_ = Get32(packet, 4);
  last_sent_us_ = scheduler_.NowUs();
  sent_since_report_ = true;
  if (config_.uplink_impairment != nullptr) {
    config_.uplink_impairment->Send(std::move(packet));
  } else {
    ToSocket(std::move(packet));
  }
}

void RtpSession::ToSocket(Packet packet) {
  const uint32_t timestamp = Get32(packet, 4);
  if (srtp_send_ && !srtp_send_->ProtectRtp(&packet)) {
    Report(kProtectFailed,
           "SRTP protect failed: libsrtp2 refused an outgoing RTP packet (e.g. the same sequence "
           "number twice); dropped");
    return;
  }
  uplink_jitter_.Add(timestamp, scheduler_.NowUs(), config_.clock_rate_hz);
  ++stats_.rtp_on_socket;
  send_(std::move(packet));
}

void RtpSession::ScheduleReport(int64_t base_interval_us) {
  const double factor = rng_.Uniform(0.5, 1.5);
  const int64_t delay_us = std::llround(static_cast<double>(base_interval_us) * factor);
  report_task_.After(delay_us, [this] {
    SendReport(/*bye=*/false);
    ScheduleReport(config_.rtcp_interval_us);
  });
}

RtcpReport RtpSession::MakeReport() {
  const int64_t now_us = scheduler_.NowUs();
  RtcpReport r;
  r.ssrc = config_.ssrc;
  if (sent_since_report_) {
    r.type = kRtcpSenderReport;
    r.ntp_timestamp = NtpFromUs(now_us);
    // The RTP timestamp of this instant, extrapolated from the last packet sent (6.4.1).
    const double since_units = static_cast<double>(now_us - last_sent_us_) *
                               config_.clock_rate_hz / kMicrosPerSecondD;
    r.rtp_timestamp = last_sent_timestamp_ + static_cast<uint32_t>(std::llround(since_units));
    r.packet_count = static_cast<uint32_t>(stats_.rtp_sent);  // wraps, as 6.4.1 allows
    r.octet_count = octets_sent_;
    sent_since_report_ = false;
  }
  if (have_peer_) {
    RtcpReportBlock block = reception_.MakeBlock(
        stats_.peer_ssrc, static_cast<uint32_t>(std::llround(jitter_.units())));
    if (have_peer_sr_) {
      block.last_sr = peer_sr_ntp_middle_;
      const int64_t delay_us = now_us - peer_sr_arrival_us_;
      block.delay_since_last_sr = static_cast<uint32_t>(
          std::clamp<int64_t>(delay_us * 65536 / kMicrosPerSecond, 0, UINT32_MAX));
    }
    r.blocks.push_back(block);
  }
  return r;
}

void RtpSession::SendReport(bool bye) {
  std::vector<uint8_t> compound = SerializeRtcp(MakeReport());
  const std::vector<uint8_t> sdes = SerializeSdesCname(config_.ssrc, config_.cname);
  compound.insert(compound.end(), sdes.begin(), sdes.end());
  if (bye) {
    const std::vector<uint8_t> goodbye = SerializeBye(config_.ssrc);
    compound.insert(compound.end(), goodbye.begin(), goodbye.end());
  }
  if (srtp_send_ && !srtp_send_->ProtectRtcp(&compound)) {
    Report(kProtectFailed, "SRTCP protect failed: libsrtp2 refused our RTCP report; dropped");
    return;
  }
  ++stats_.rtcp_sent;
  send_(std::move(compound));
}

// --- Receiving -----------------------------------------------------------------------------

void RtpSession::OnDatagram(std::span<const uint8_t> bytes, int64_t arrival_us) {
  if (bytes.size() > kMaxRtpDatagramBytes) {
    Malformed("a " + std::to_string(bytes.size()) + "-byte datagram, over the " +
              std::to_string(kMaxRtpDatagramBytes) + " accepted");
    return;
  }
  if (!bytes.empty() && (bytes[0] >> 6) != 2) {
    ++stats_.not_rtp_version_2;
    Report(kNotVersion2, "a datagram from the peer that is not RTP version 2 (first byte " +
                             Hex(bytes[0]) + ", STUN or DTLS?); dropped");
    return;
  }
  if (bytes.size() < kRtcpHeaderBytes) {
    Malformed("a " + std::to_string(bytes.size()) + "-byte datagram, too short for RTP or RTCP");
    return;
  }
  if (IsRtcp(bytes)) {
    OnRtcpDatagram({bytes.begin(), bytes.end()}, arrival_us);
  } else if (bytes.size() < kRtpHeaderBytes) {
    Malformed("a " + std::to_string(bytes.size()) + "-byte RTP packet, shorter than its header");
  } else {
    OnRtpDatagram({bytes.begin(), bytes.end()}, arrival_us);
  }
}

void RtpSession::OnRtpDatagram(std::vector<uint8_t> bytes, int64_t arrival_us) {
  if (!Unprotect(&bytes, /*rtcp=*/false)) return;
  if (config_.downlink_impairment != nullptr) {
    config_.downlink_impairment->Send(std::move(bytes));
  } else {
    OnRtpReceived(std::move(bytes), arrival_us);
  }
}

void RtpSession::OnRtpReceived(Packet packet, int64_t arrival_us) {
  // Unprotected SRTP keeps its 12-byte header, but an impairment Link is the harness's code.
  if (packet.size() < kRtpHeaderBytes) {
    Malformed("a " + std::to_string(packet.size()) + "-byte packet out of the downlink impairment");
    return;
  }
  const uint32_t ssrc = Get32(packet, 8);
  if (!have_peer_ || ssrc != stats_.peer_ssrc) {
    // A new source (the peer restarted its stream): its sequence and timing start afresh.
    if (have_peer_) ++stats_.peer_ssrc_changes;
    have_peer_ = true;
    stats_.peer_ssrc = ssrc;
    reception_ = RtpReceptionStats();
    jitter_ = InterarrivalJitter();
  }
  reception_.Add(static_cast<uint16_t>((packet[2] << 8) | packet[3]));
  jitter_.Add(Get32(packet, 4), arrival_us, config_.clock_rate_hz);
  ++stats_.rtp_received;
  on_rtp_(std::move(packet));
}

void RtpSession::OnRtcpDatagram(std::vector<uint8_t> bytes, int64_t arrival_us) {
  if (!Unprotect(&bytes, /*rtcp=*/true)) return;
  std::string why;
  const std::optional<RtcpCompound> compound = ParseRtcp(bytes, &why);
  if (!compound) {
    Malformed(why);
    return;
  }
  // RFC 3550 6.1: a compound packet starts with an SR or RR from its sender.
  if (!compound->reports.empty() && compound->reports[0].ssrc == config_.ssrc) {
    ++stats_.rtcp_looped;
    return;
  }
  ++stats_.rtcp_received;
  for (const RtcpReport& report : compound->reports) OnReport(report, arrival_us);
  if (!compound->cnames.empty()) stats_.peer_cname = compound->cnames[0].cname;
  if (!compound->byes.empty()) ++stats_.bye_received;
}

void RtpSession::OnReport(const RtcpReport& report, int64_t arrival_us) {
  if (report.type == kRtcpSenderReport) {
    have_peer_sr_ = true;
    peer_sr_ntp_middle_ = NtpMiddle(report.ntp_timestamp);
    peer_sr_arrival_us_ = arrival_us;
  }
  for (const RtcpReportBlock& block : report.blocks) {
    if (block.ssrc != config_.ssrc) continue;
    RtcpPeerReport& peer = stats_.peer;
    ++peer.reports;
    peer.fraction_lost = block.fraction_lost / 256.0;
    peer.cumulative_lost = block.cumulative_lost;
    peer.jitter_ms = block.jitter * 1000.0 / config_.clock_rate_hz;
    peer.uplink_jitter_ms_then = uplink_jitter_.units() * 1000.0 / config_.clock_rate_hz;
    peer.extended_highest_sequence = block.extended_highest_sequence;
    if (block.last_sr != 0) {
      // 6.4.1: A - LSR - DLSR in 1/65536 s, all on our clock; a hair below zero is rounding.
      const uint32_t now = NtpMiddle(NtpFromUs(arrival_us));
      const auto rtt = static_cast<int32_t>(now - block.last_sr - block.delay_since_last_sr);
      peer.round_trip_ms = std::max(rtt, 0) * 1000.0 / 65536;
    }
  }
}

bool RtpSession::Unprotect(std::vector<uint8_t>* bytes, bool rtcp) {
  if (!srtp_receive_) return true;
  const SrtpStats before = srtp_receive_->stats();
  if (rtcp ? srtp_receive_->UnprotectRtcp(bytes) : srtp_receive_->UnprotectRtp(bytes)) return true;
  const SrtpStats& after = srtp_receive_->stats();
  if (after.auth_failures > before.auth_failures) {
    Report(kAuthFailure, "SRTP authentication failed: wrong key or tampered packet");
  } else if (after.replays > before.replays) {
    Report(kReplay,
           "SRTP replay: a packet arrived again, or behind the 128-packet replay window; dropped");
  } else {
    Report(kSrtpMalformed, "SRTP: a packet too short to be SRTP, or refused by libsrtp2; dropped");
  }
  return false;
}

void RtpSession::Malformed(const std::string& why) {
  ++stats_.malformed;
  Report(kMalformed, "malformed datagram from the peer: " + why + "; dropped");
}

void RtpSession::Report(Trouble kind, const std::string& what) {
  if ((troubles_reported_ & kind) != 0) return;
  troubles_reported_ |= kind;
  if (on_error_) on_error_(what);
}

RtpSessionStats RtpSession::stats() const {
  RtpSessionStats s = stats_;
  s.rtp_dropped_on_uplink = s.rtp_sent > s.rtp_on_socket ? s.rtp_sent - s.rtp_on_socket : 0;
  s.uplink_jitter_ms = uplink_jitter_.units() * 1000.0 / config_.clock_rate_hz;
  s.expected = reception_.expected();
  s.lost = reception_.cumulative_lost();
  s.jitter_ms = jitter_.units() * 1000.0 / config_.clock_rate_hz;
  if (srtp_send_) s.srtp_send = srtp_send_->stats();
  if (srtp_receive_) s.srtp_receive = srtp_receive_->stats();
  return s;
}

}  // namespace callsim::agent
