// RTP packets (RFC 3550): a fixed 12-byte header, optional CSRCs, an optional header extension
// (parsed and kept opaque) and optional padding. ParseRtp rejects anything malformed with a reason.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace callsim::agent {

struct RtpPacket {
  bool marker = false;
  uint8_t payload_type = 0;  // 7 bits
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::vector<uint32_t> csrcs;  // at most 15
  // Header extension (X bit): profile-defined 16 bits and the extension words, kept verbatim.
  bool has_extension = false;
  uint16_t extension_profile = 0;
  std::vector<uint8_t> extension_data;  // a multiple of 4 bytes
  std::vector<uint8_t> payload;
};

// A parsed packet's header fields and its payload in place: what a receiver needs, without
// copying the payload (or the CSRCs and extension, which it ignores). Valid while the bytes are.
struct RtpView {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::span<const uint8_t> payload;
};

// Serializes without padding. Precondition: csrcs.size() <= 15, extension_data.size() % 4 == 0.
std::vector<uint8_t> SerializeRtp(const RtpPacket& packet);
// The same bytes into *out, replacing what it held and reusing its memory (a sender that keeps a
// buffer allocates nothing per packet).
void SerializeRtpInto(const RtpPacket& packet, std::vector<uint8_t>* out);
// The header alone (everything before the payload; packet.payload is ignored), for a sender that
// then appends the payload where it is (Codec::EncodeAppend).
void SerializeRtpHeaderInto(const RtpPacket& packet, std::vector<uint8_t>* out);

// Parses `bytes` into `out`. Returns false and sets `error` (if non-null) when the packet is not
// valid RTP version 2 or its lengths (CSRC count, extension length, padding) do not fit.
bool ParseRtp(std::span<const uint8_t> bytes, RtpPacket* out, std::string* error);
// The same checks (a packet ParseRtp rejects, this rejects with the same reason), into a view.
bool ParseRtpView(std::span<const uint8_t> bytes, RtpView* out, std::string* error);

}  // namespace callsim::agent
