// The RTP and RTCP of one call's media over one UDP socket, between a MediaEndpoint and that
// socket. RTCP shares the RTP port (RFC 5761: a datagram whose second byte is 192..223 is RTCP).
// With keys, what we send is SRTP/SRTCP and what we receive must be (sip/srtp_session.h): a
// packet that fails authentication or replays is dropped and counted, never passed on. It keeps
// RFC 3550's reception statistics on the peer's stream (appendix A.3 loss, A.8 jitter), sends a
// compound report (SR or RR, SDES CNAME) on a randomized interval and a BYE on Stop, and reads
// the peer's reports about our stream (loss, jitter, round trip from LSR/DLSR). Optional
// impairment Links on our side of the socket simulate a network in the harness.
//
// Bounds: a datagram over kMaxRtpDatagramBytes is dropped as malformed; state is a fixed set of
// counters, so nothing grows per packet. Sans-I/O: bytes come in through OnDatagram and go out
// through SendDatagram; time is the Scheduler's. Not thread-safe; use it on the Scheduler's thread.
// The callbacks must not destroy the session.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/media/rtcp.h"
#include "agent/runtime/link.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/sip/srtp_session.h"

namespace callsim::agent {

using sip::SrtpStats;

// The largest datagram accepted: an Ethernet MTU. RTP for 20 ms of any codec callsim speaks fits
// with room to spare; anything larger is not from a well-behaved peer.
inline constexpr size_t kMaxRtpDatagramBytes = 1500;
// rtcp_interval_us must lie in this range: RFC 3550 allows shorter intervals than 5 s (6.2), but
// below 100 ms reports would rival the media; above an hour the peer would consider us gone.
inline constexpr int64_t kMinRtcpIntervalUs = 100'000;
inline constexpr int64_t kMaxRtcpIntervalUs = 3'600'000'000;

struct RtpSessionConfig {
  uint32_t ssrc = 1;              // ours (the MediaEndpoint's)
  uint32_t clock_rate_hz = 8000;  // the negotiated codec's RTP clock (jitter is in these units)
  std::string send_key_salt;      // 30 bytes: SRTP with this key for what we send; empty: plain RTP
  std::string receive_key_salt;   // the peer's key; empty: plain RTP expected
  // RFC 3550's minimum; the first report goes at half of it; each interval randomized in
  // [0.5, 1.5] from `rng_seed` (6.3.1), deterministic. There is no timer reconsideration (two
  // participants), so no 1/(e - 3/2) compensation either.
  int64_t rtcp_interval_us = 5'000'000;
  uint64_t rng_seed = 1;
  // The SDES CNAME item in every compound report (RFC 3550 6.1: a compound packet is SR/RR +
  // SDES); cut to 255 bytes.
  std::string cname = "callsim";
  // Impairment applied on our side of the socket (the harness's simulated network); null: none.
  // Outgoing RTP: MediaEndpoint -> link() [counted as sent] -> uplink_impairment -> protect ->
  // socket. Incoming RTP: socket -> unprotect -> downlink_impairment -> [reception statistics] ->
  // on_rtp. RTCP bypasses both. The session sets the impairment links' receivers; the links must
  // outlive it (it points their receivers at nothing when destroyed). Under SRTP, a duplicate the
  // uplink impairment makes is refused by libsrtp2 (the same index protected twice: counted in
  // srtp_send.malformed), so duplication there is a loss rather than a replay at the peer.
  Link* uplink_impairment = nullptr;
  Link* downlink_impairment = nullptr;
};

struct RtcpPeerReport {               // the latest report block the peer sent about OUR stream
  uint64_t reports = 0;               // SR/RR packets received that carried a block for our SSRC
  double fraction_lost = 0;           // 0..1
  int64_t cumulative_lost = 0;
  double jitter_ms = 0;               // the block's jitter converted with clock_rate_hz
  uint32_t extended_highest_sequence = 0;
  // From LSR/DLSR of the latest block that echoed one of our SRs (RFC 3550 6.4.1); -1 unknown.
  double round_trip_ms = -1;
  // Our uplink impairment's own A.8 jitter (RtpSessionStats::uplink_jitter_ms) when this report
  // arrived: what jitter_ms is to be compared with, since the running estimate moves with every
  // packet (with heavy-tailed jitter, by several milliseconds within one report interval).
  double uplink_jitter_ms_then = 0;
};

struct RtpSessionStats {
  // Sending
  uint64_t rtp_sent = 0;  // packets the MediaEndpoint sent (what our SR counts)
  // Lost by the uplink impairment (sent - put on the socket; packets a delaying impairment still
  // holds count until they come out, and duplicates it made are subtracted).
  uint64_t rtp_dropped_on_uplink = 0;
  // RFC 3550 A.8 jitter of the uplink impairment itself (media time vs when the packet reached
  // the socket): what the peer should measure when the real network adds nothing.
  double uplink_jitter_ms = 0;
  uint64_t rtcp_sent = 0;
  // Receiving (after the downlink impairment): RFC 3550 A.3 / A.8 on the peer's stream
  uint64_t rtp_received = 0;
  int64_t expected = 0;
  int64_t lost = 0;                   // expected - received (may be negative with duplicates)
  double jitter_ms = 0;
  uint64_t rtcp_received = 0;  // compound packets from the peer that parsed (looped ones aside)
  // RTCP whose sender SSRC is our own (an echoing peer such as SIPp -rtp_echo): ignored.
  uint64_t rtcp_looped = 0;
  // Neither RTP nor RTCP (too short, over kMaxRtpDatagramBytes), or RTCP that does not parse.
  uint64_t malformed = 0;
  uint64_t not_rtp_version_2 = 0;  // e.g. STUN; dropped
  RtcpPeerReport peer;             // what the peer reported about what we send
  // Zeros without SRTP; srtp_receive.auth_failures/replays are srtp_auth_failures/srtp_replays.
  SrtpStats srtp_send, srtp_receive;
  uint64_t rtp_on_socket = 0;      // our RTP packets handed to SendDatagram
  uint32_t peer_ssrc = 0;          // the source the receive statistics are about (0 before any)
  uint64_t peer_ssrc_changes = 0;  // a new SSRC from the peer restarts expected/lost/jitter
  std::string peer_cname;          // the peer's latest SDES CNAME, "" before any (<= 255 bytes)
  uint64_t bye_received = 0;       // compound packets from the peer with a BYE (6.6: it left)
};

class RtpSession {
 public:
  // Onto the socket, to the peer.
  using SendDatagram = std::function<void(std::vector<uint8_t> bytes)>;
  // A verified RTP packet for MediaEndpoint::OnPacket.
  using OnRtp = std::function<void(Packet packet)>;
  // Once per kind of trouble, for the call's events: the first SRTP authentication failure
  // ("SRTP authentication failed: wrong key or tampered packet"), the first replay, the first
  // malformed datagram, the first that is not RTP version 2, the first packet SRTP could not
  // protect.
  using OnError = std::function<void(const std::string& what)>;

  // nullptr with *error when SRTP keys are refused (length) or libsrtp2 cannot start, or when
  // clock_rate_hz is 0 or rtcp_interval_us is outside [kMinRtcpIntervalUs, kMaxRtcpIntervalUs].
  // `send` and `on_rtp` are required; `on_error` may be empty.
  static std::unique_ptr<RtpSession> Create(Scheduler& scheduler, RtpSessionConfig config,
                                            SendDatagram send, OnRtp on_rtp, OnError on_error,
                                            std::string* error);
  ~RtpSession();
  RtpSession(const RtpSession&) = delete;
  RtpSession& operator=(const RtpSession&) = delete;

  Link& link();  // the MediaEndpoint's outgoing Link
  // Everything the socket receives from the peer; `arrival_us` on the Scheduler's clock (its
  // NowUs when the socket read the datagram). With a downlink impairment, a packet arrives for
  // the statistics when the impairment delivers it (the Scheduler's NowUs then).
  void OnDatagram(std::span<const uint8_t> bytes, int64_t arrival_us);
  // The RTCP timer, from now. Idempotent; nothing after Stop.
  void Start();
  // Sends a final report (SR/RR + SDES + BYE, RFC 3550 6.6) and stops the timer; idempotent.
  // RTP still flows both ways afterwards (the call's teardown stops the MediaEndpoint).
  void Stop();
  RtpSessionStats stats() const;

 private:
  // RFC 3550 appendix A.8's interarrival jitter, in RTP timestamp units, over packets in the
  // order they arrive. Differences of consecutive timestamps, so wraps need no care.
  class InterarrivalJitter {
   public:
    void Add(uint32_t rtp_timestamp, int64_t arrival_us, uint32_t clock_rate_hz);
    double units() const { return jitter_; }

   private:
    bool have_last_ = false;
    uint32_t last_timestamp_ = 0;
    int64_t last_arrival_us_ = 0;
    double jitter_ = 0;
  };
  // link(): counts what the MediaEndpoint sends, then on to the uplink impairment or the socket.
  class OutgoingLink final : public Link {
   public:
    explicit OutgoingLink(RtpSession& session) : session_(session) {}
    void Send(Packet packet) override;
    void SetReceiver(Receiver) override {}  // the session is the receiving end

   private:
    RtpSession& session_;
  };
  // The kinds of trouble OnError reports, once each.
  enum Trouble : uint32_t {
    kAuthFailure = 1,
    kReplay = 2,
    kMalformed = 4,
    kNotVersion2 = 8,
    kProtectFailed = 16,
    kSrtpMalformed = 32,
  };

  RtpSession(Scheduler& scheduler, RtpSessionConfig config, SendDatagram send, OnRtp on_rtp,
             OnError on_error);

  void OnMediaSent(Packet packet);
  void ToSocket(Packet packet);             // after the uplink impairment
  void OnRtpDatagram(std::vector<uint8_t> bytes, int64_t arrival_us);
  void OnRtpReceived(Packet packet, int64_t arrival_us);  // after the downlink impairment
  void OnRtcpDatagram(std::vector<uint8_t> bytes, int64_t arrival_us);
  void OnReport(const RtcpReport& report, int64_t arrival_us);
  // False (counted and reported) when the receive SrtpSession dropped the packet.
  bool Unprotect(std::vector<uint8_t>* bytes, bool rtcp);
  void Malformed(const std::string& why);
  void Report(Trouble kind, const std::string& what);

  void ScheduleReport(int64_t base_interval_us);
  void SendReport(bool bye);
  RtcpReport MakeReport();

  Scheduler& scheduler_;
  RtpSessionConfig config_;
  SendDatagram send_;
  OnRtp on_rtp_;
  OnError on_error_;
  std::unique_ptr<sip::SrtpSession> srtp_send_;     // null: plain RTP out
  std::unique_ptr<sip::SrtpSession> srtp_receive_;  // null: plain RTP in
  OutgoingLink link_{*this};
  Rng rng_;
  ScopedTask report_task_{scheduler_};
  bool started_ = false;
  bool stopped_ = false;
  uint32_t troubles_reported_ = 0;  // Trouble bits

  RtpSessionStats stats_;
  // Sending: for the SR's sender info, and whether we sent since the last report.
  uint32_t octets_sent_ = 0;  // payload octets, wrapping as RFC 3550 6.4.1 allows
  uint32_t last_sent_timestamp_ = 0;
  int64_t last_sent_us_ = 0;
  bool sent_since_report_ = false;
  InterarrivalJitter uplink_jitter_;

  // Receiving.
  bool have_peer_ = false;
  RtpReceptionStats reception_;
  InterarrivalJitter jitter_;
  // The peer's last SR (for LSR/DLSR in our block): the middle 32 bits of its NTP time, and when
  // it arrived. have_peer_sr_ false: LSR and DLSR are 0.
  bool have_peer_sr_ = false;
  uint32_t peer_sr_ntp_middle_ = 0;
  int64_t peer_sr_arrival_us_ = 0;
};

}  // namespace callsim::agent
