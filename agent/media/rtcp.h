// RTCP (RFC 3550 section 6) as bytes and back: sender and receiver reports (6.4), SDES CNAME
// items (6.5) and BYE (6.6), and the receiver statistics a report block carries (appendix A.3:
// the extended highest sequence number across wraps, cumulative and fractional loss since the
// last report). A compound packet is walked packet by packet with every length checked; types
// other than SR, RR, SDES and BYE (APP, feedback, XR) are skipped by their length. Pure functions
// and one small struct of counters: no sockets, no clock. What a parse returns is bounded by the
// bytes given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

inline constexpr uint8_t kRtcpSenderReport = 200;
inline constexpr uint8_t kRtcpReceiverReport = 201;
inline constexpr uint8_t kRtcpSourceDescription = 202;
inline constexpr uint8_t kRtcpBye = 203;
// An SDES item's text is at most 255 bytes (its length is one octet).
inline constexpr size_t kMaxSdesItemBytes = 255;

struct RtcpReportBlock {
  uint32_t ssrc = 0;               // the source this block is about
  uint8_t fraction_lost = 0;       // since the last report, out of 256
  int32_t cumulative_lost = 0;     // 24-bit signed on the wire (duplicates can make it negative)
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;             // interarrival jitter, RTP timestamp units
  uint32_t last_sr = 0;            // middle 32 bits of the last SR's NTP time
  uint32_t delay_since_last_sr = 0;  // units of 1/65536 s

  bool operator==(const RtcpReportBlock&) const = default;
};

struct RtcpReport {
  uint8_t type = kRtcpReceiverReport;  // SR or RR
  uint32_t ssrc = 0;                   // the reporter
  // Sender info (SR only).
  uint64_t ntp_timestamp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<RtcpReportBlock> blocks;  // at most 31

  bool operator==(const RtcpReport&) const = default;
};

// A source's canonical name (SDES item 1): what ties its streams together across SSRC changes.
struct RtcpCname {
  uint32_t ssrc = 0;
  std::string cname;  // at most kMaxSdesItemBytes

  bool operator==(const RtcpCname&) const = default;
};

// What a compound RTCP packet says, each part in the order it came.
struct RtcpCompound {
  std::vector<RtcpReport> reports;  // SR and RR packets
  std::vector<RtcpCname> cnames;    // the CNAME items of SDES chunks (other items are skipped)
  std::vector<uint32_t> byes;       // the sources BYE packets say have left (a reason is skipped)
};

std::vector<uint8_t> SerializeRtcp(const RtcpReport& report);
// An SDES packet of one chunk: `ssrc` and its CNAME item (cut to kMaxSdesItemBytes).
std::vector<uint8_t> SerializeSdesCname(uint32_t ssrc, std::string_view cname);
// A BYE packet for `ssrc`, without a reason.
std::vector<uint8_t> SerializeBye(uint32_t ssrc);

// Parses a compound RTCP packet. nullopt with *error when any packet's header or length is
// malformed, or when an SR's or RR's blocks, an SDES chunk or a BYE's sources do not fit in its
// length (a compound packet is accepted whole or not at all). An SDES chunk may end at the end
// of its packet without the null item RFC 3550 asks for.
std::optional<RtcpCompound> ParseRtcp(std::span<const uint8_t> bytes, std::string* error);

// What a receiver knows of one source, for its report blocks (RFC 3550 appendix A.3).
class RtpReceptionStats {
 public:
  // One packet's sequence number as it arrived (in any order; duplicates count as received).
  void Add(uint16_t sequence);
  // The block for the source, with `jitter` (RTP units) from the jitter estimator; resets the
  // interval that fraction_lost is measured over.
  RtcpReportBlock MakeBlock(uint32_t ssrc, uint32_t jitter);

  uint32_t extended_highest() const { return cycles_ + max_seq_; }
  int64_t expected() const;
  int64_t received() const { return received_; }
  int64_t cumulative_lost() const { return expected() - received_; }

 private:
  bool started_ = false;
  uint16_t base_seq_ = 0;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // sequence wraps, times 65536
  int64_t received_ = 0;
  int64_t expected_prior_ = 0;
  int64_t received_prior_ = 0;
};

}  // namespace callsim::agent
