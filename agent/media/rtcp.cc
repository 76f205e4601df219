#include "agent/media/rtcp.h"

#include <algorithm>

namespace callsim::agent {
namespace {

void Put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint32_t Get32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

RtcpReportBlock ReadBlock(std::span<const uint8_t> b, size_t at) {
  RtcpReportBlock block;
  block.ssrc = Get32(b, at);
  block.fraction_lost = b[at + 4];
  const uint32_t lost = (uint32_t{b[at + 5]} << 16) | (uint32_t{b[at + 6]} << 8) | b[at + 7];
  block.cumulative_lost = (lost & 0x800000u) ? static_cast<int32_t>(lost) - 0x1000000
                                              : static_cast<int32_t>(lost);
  block.extended_highest_sequence = Get32(b, at + 8);
  block.jitter = Get32(b, at + 12);
  block.last_sr = Get32(b, at + 16);
  block.delay_since_last_sr = Get32(b, at + 20);
  return block;
}

constexpr uint8_t kSdesEnd = 0;
constexpr uint8_t kSdesCname = 1;

std::string At(size_t at) { return " at byte " + std::to_string(at); }

// An SR or RR; `at` is where it starts in the compound packet (for the error).
bool ParseReport(std::span<const uint8_t> p, size_t at, std::vector<RtcpReport>* out,
                 std::string* error) {
  const bool sr = p[1] == kRtcpSenderReport;
  const size_t count = p[0] & 0x1f;
  const size_t needed = 8 + (sr ? 20 : 0) + 24 * count;
  if (p.size() < needed) {
    *error = "RTCP " + std::string(sr ? "SR" : "RR") + At(at) + ": " + std::to_string(count) +
             " report blocks do not fit in " + std::to_string(p.size()) + " bytes";
    return false;
  }
  RtcpReport r;
  r.type = p[1];
  r.ssrc = Get32(p, 4);
  size_t block_at = 8;
  if (sr) {
    r.ntp_timestamp = (uint64_t{Get32(p, 8)} << 32) | Get32(p, 12);
    r.rtp_timestamp = Get32(p, 16);
    r.packet_count = Get32(p, 20);
    r.octet_count = Get32(p, 24);
    block_at = 28;
  }
  for (size_t i = 0; i < count; ++i) r.blocks.push_back(ReadBlock(p, block_at + 24 * i));
  out->push_back(std::move(r));
  return true;
}

// An SDES packet: each chunk is a source and its items, ended by a null octet and padded to a
// word. Only CNAME items are kept.
bool ParseSdes(std::span<const uint8_t> p, size_t at, std::vector<RtcpCname>* out,
               std::string* error) {
  const size_t chunks = p[0] & 0x1f;
  size_t i = 4;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    if (p.size() - i < 4) {
      *error = "RTCP SDES" + At(at) + ": chunk " + std::to_string(chunk + 1) + " of " +
               std::to_string(chunks) + " does not fit";
      return false;
    }
    const uint32_t ssrc = Get32(p, i);
    i += 4;
    while (i < p.size() && p[i] != kSdesEnd) {
      if (p.size() - i < 2 || p.size() - i - 2 < p[i + 1]) {
        *error = "RTCP SDES" + At(at) + ": an item of chunk " + std::to_string(chunk + 1) +
                 " runs past the packet";
        return false;
      }
      if (p[i] == kSdesCname) {
        const auto* text = reinterpret_cast<const char*>(p.data() + i + 2);
        out->push_back({ssrc, std::string(text, p[i + 1])});
      }
      i += 2 + p[i + 1];
    }
    i = std::min(p.size(), (i + 4) & ~size_t{3});  // past the null octet(s) to the next word
  }
  return true;
}

// A BYE: the sources leaving, then an optional reason (not kept).
bool ParseBye(std::span<const uint8_t> p, size_t at, std::vector<uint32_t>* out,
              std::string* error) {
  const size_t count = p[0] & 0x1f;
  if (p.size() < 4 + 4 * count) {
    *error = "RTCP BYE" + At(at) + ": " + std::to_string(count) + " sources do not fit in " +
             std::to_string(p.size()) + " bytes";
    return false;
  }
  for (size_t i = 0; i < count; ++i) out->push_back(Get32(p, 4 + 4 * i));
  return true;
}

}  // namespace

std::vector<uint8_t> SerializeRtcp(const RtcpReport& r) {
  const size_t blocks = std::min<size_t>(r.blocks.size(), 31);
  const bool sr = r.type == kRtcpSenderReport;
  const size_t words = 1 + (sr ? 5 : 0) + 6 * blocks;  // after the header word
  std::vector<uint8_t> out;
  out.reserve(4 * (words + 1));
  out.push_back(static_cast<uint8_t>(0x80 | blocks));
  out.push_back(sr ? kRtcpSenderReport : kRtcpReceiverReport);
  out.push_back(static_cast<uint8_t>(words >> 8));
  out.push_back(static_cast<uint8_t>(words));
  Put32(out, r.ssrc);
  if (sr) {
    Put32(out, static_cast<uint32_t>(r.ntp_timestamp >> 32));
    Put32(out, static_cast<uint32_t>(r.ntp_timestamp));
    Put32(out, r.rtp_timestamp);
    Put32(out, r.packet_count);
    Put32(out, r.octet_count);
  }
  for (size_t i = 0; i < blocks; ++i) {
    const RtcpReportBlock& b = r.blocks[i];
    Put32(out, b.ssrc);
    const int32_t lost = std::clamp(b.cumulative_lost, -0x800000, 0x7fffff);
    Put32(out, (uint32_t{b.fraction_lost} << 24) | (static_cast<uint32_t>(lost) & 0xffffffu));
    Put32(out, b.extended_highest_sequence);
    Put32(out, b.jitter);
    Put32(out, b.last_sr);
    Put32(out, b.delay_since_last_sr);
  }
  return out;
}

std::vector<uint8_t> SerializeSdesCname(uint32_t ssrc, std::string_view cname) {
  const size_t text = std::min(cname.size(), kMaxSdesItemBytes);
  // SSRC, the item's type and length octets and its text, then at least one null octet ending
  // the item list, up to a whole word.
  const size_t chunk_words = 1 + (2 + text + 1 + 3) / 4;
  std::vector<uint8_t> out;
  out.reserve(4 * (chunk_words + 1));
  out.push_back(0x81);  // V=2, one chunk
  out.push_back(kRtcpSourceDescription);
  out.push_back(static_cast<uint8_t>(chunk_words >> 8));
  out.push_back(static_cast<uint8_t>(chunk_words));
  Put32(out, ssrc);
  out.push_back(kSdesCname);
  out.push_back(static_cast<uint8_t>(text));
  out.insert(out.end(), cname.begin(), cname.begin() + static_cast<std::ptrdiff_t>(text));
  out.resize(4 * (chunk_words + 1), 0);
  return out;
}

std::vector<uint8_t> SerializeBye(uint32_t ssrc) {
  std::vector<uint8_t> out = {0x81, kRtcpBye, 0, 1};  // V=2, one source; one word after the header
  Put32(out, ssrc);
  return out;
}

std::optional<RtcpCompound> ParseRtcp(std::span<const uint8_t> bytes, std::string* error) {
  RtcpCompound compound;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4 || (bytes[at] >> 6) != 2) {
      *error = "RTCP packet at byte " + std::to_string(at) + ": not version 2 or truncated";
      return std::nullopt;
    }
    const size_t length = 4 * (size_t{(uint32_t{bytes[at + 2]} << 8) | bytes[at + 3]} + 1);
    if (length > bytes.size() - at) {
      *error = "RTCP packet at byte " + std::to_string(at) + ": its length runs past the end";
      return std::nullopt;
    }
    const std::span<const uint8_t> packet = bytes.subspan(at, length);
    bool ok = true;
    switch (packet[1]) {
      case kRtcpSenderReport:
      case kRtcpReceiverReport: ok = ParseReport(packet, at, &compound.reports, error); break;
      case kRtcpSourceDescription: ok = ParseSdes(packet, at, &compound.cnames, error); break;
      case kRtcpBye: ok = ParseBye(packet, at, &compound.byes, error); break;
      default: break;  // APP, feedback, XR: skipped by their length
    }
    if (!ok) return std::nullopt;
    at += length;
  }
  return compound;
}

void RtpReceptionStats::Add(uint16_t sequence) {
  ++received_;
  if (!started_) {
    started_ = true;
    base_seq_ = max_seq_ = sequence;
    return;
  }
  const uint16_t delta = static_cast<uint16_t>(sequence - max_seq_);
  // Ahead of the highest by less than half the space: in order (or a gap); a wrap adds a cycle.
  if (delta != 0 && delta < 0x8000) {
    if (sequence < max_seq_) cycles_ += 0x10000;
    max_seq_ = sequence;
  }
}

int64_t RtpReceptionStats::expected() const {
  if (!started_) return 0;
  return static_cast<int64_t>(extended_highest()) - base_seq_ + 1;
}

RtcpReportBlock RtpReceptionStats::MakeBlock(uint32_t ssrc, uint32_t jitter) {
  RtcpReportBlock b;
  b.ssrc = ssrc;
  b.extended_highest_sequence = extended_highest();
  b.jitter = jitter;
  const int64_t lost = cumulative_lost();
  b.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7fffff));
  const int64_t expected_interval = expected() - expected_prior_;
  const int64_t received_interval = received_ - received_prior_;
  const int64_t lost_interval = expected_interval - received_interval;
  b.fraction_lost = expected_interval <= 0 || lost_interval <= 0
                        ? 0
                        : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  expected_prior_ = expected();
  received_prior_ = received_;
  return b;
}

}  // namespace callsim::agent
