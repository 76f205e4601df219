#include "agent/media/rtp.h"

#include <algorithm>

#include "agent/runtime/check.h"

namespace callsim::agent {
namespace {

constexpr size_t kFixedHeaderBytes = 12;
constexpr size_t kExtensionHeaderBytes = 4;
constexpr uint8_t kVersion = 2;
constexpr size_t kMaxCsrcs = 15;

uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint32_t ReadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void AppendU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void AppendU32(std::vector<uint8_t>& out, uint32_t v) {
  AppendU16(out, static_cast<uint16_t>(v >> 16));
  AppendU16(out, static_cast<uint16_t>(v));
}

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

std::string Num(size_t n) { return std::to_string(n); }

// Where the parts of a packet lie; computed and checked before `out` is touched.
struct Layout {
  size_t csrc_count = 0;
  bool has_extension = false;
  size_t extension_offset = 0;  // of the 4-byte extension header
  size_t extension_bytes = 0;   // of extension data after that header
  size_t payload_offset = 0;
  size_t payload_end = 0;
};

bool CheckExtension(std::span<const uint8_t> bytes, Layout* layout, std::string* error) {
  const size_t at = layout->extension_offset;
  if (at + kExtensionHeaderBytes > bytes.size()) {
    return Fail(error, "RTP header extension header at byte " + Num(at) +
                           " runs past the end of the " + Num(bytes.size()) + "-byte packet");
  }
  const size_t words = ReadU16(bytes.data() + at + 2);
  layout->extension_bytes = 4 * words;
  layout->payload_offset = at + kExtensionHeaderBytes + layout->extension_bytes;
  if (layout->payload_offset > bytes.size()) {
    return Fail(error, "RTP header extension of " + Num(words) + " words at byte " + Num(at) +
                           " runs past the end of the " + Num(bytes.size()) + "-byte packet");
  }
  return true;
}

bool CheckPadding(std::span<const uint8_t> bytes, Layout* layout, std::string* error) {
  const size_t pad_bytes = bytes.back();
  const size_t after_header = bytes.size() - layout->payload_offset;
  if (pad_bytes == 0) return Fail(error, "RTP padding bit set but the pad length (last byte) is 0");
  if (pad_bytes > after_header) {
    return Fail(error, "RTP pad length " + Num(pad_bytes) + " exceeds the " + Num(after_header) +
                           " bytes after the header");
  }
  layout->payload_end = bytes.size() - pad_bytes;
  return true;
}

bool CheckLayout(std::span<const uint8_t> bytes, Layout* layout, std::string* error) {
  if (bytes.size() < kFixedHeaderBytes) {
    return Fail(error,
                "RTP packet too short: " + Num(bytes.size()) + " bytes, the fixed header needs 12");
  }
  const uint8_t version = bytes[0] >> 6;
  if (version != kVersion) return Fail(error, "RTP version " + Num(version) + ", expected 2");
  const bool has_padding = (bytes[0] & 0x20) != 0;
  layout->has_extension = (bytes[0] & 0x10) != 0;
  layout->csrc_count = bytes[0] & 0x0F;
  const size_t csrc_end = kFixedHeaderBytes + 4 * layout->csrc_count;
  if (csrc_end > bytes.size()) {
    return Fail(error, "RTP CSRC list (" + Num(layout->csrc_count) +
                           " entries) runs past the end of the " + Num(bytes.size()) +
                           "-byte packet");
  }
  layout->extension_offset = csrc_end;
  layout->payload_offset = csrc_end;
  if (layout->has_extension && !CheckExtension(bytes, layout, error)) return false;
  layout->payload_end = bytes.size();
  return !has_padding || CheckPadding(bytes, layout, error);
}

// The header fields and the payload of a packet whose layout passed CheckLayout.
RtpView ViewOf(std::span<const uint8_t> bytes, const Layout& layout) {
  const uint8_t* p = bytes.data();
  RtpView view;
  view.marker = (p[1] & 0x80) != 0;
  view.payload_type = p[1] & 0x7F;
  view.sequence = ReadU16(p + 2);
  view.timestamp = ReadU32(p + 4);
  view.ssrc = ReadU32(p + 8);
  view.payload = bytes.subspan(layout.payload_offset, layout.payload_end - layout.payload_offset);
  return view;
}

}  // namespace

std::vector<uint8_t> SerializeRtp(const RtpPacket& packet) {
  std::vector<uint8_t> out;
  SerializeRtpInto(packet, &out);
  return out;
}

void SerializeRtpInto(const RtpPacket& packet, std::vector<uint8_t>* out_bytes) {
  SerializeRtpHeaderInto(packet, out_bytes);
  out_bytes->insert(out_bytes->end(), packet.payload.begin(), packet.payload.end());
}

void SerializeRtpHeaderInto(const RtpPacket& packet, std::vector<uint8_t>* out_bytes) {
  CALLSIM_CHECK(packet.csrcs.size() <= kMaxCsrcs);
  CALLSIM_CHECK(packet.extension_data.size() % 4 == 0);
  // Out of contract input still yields a self-consistent packet: CSRCs beyond 15 are dropped and
  // the extension is zero-padded to whole words.
  const size_t csrc_count = std::min(packet.csrcs.size(), kMaxCsrcs);
  const size_t extension_words = (packet.extension_data.size() + 3) / 4;
  std::vector<uint8_t>& out = *out_bytes;
  out.clear();
  out.reserve(kFixedHeaderBytes + 4 * csrc_count +
              (packet.has_extension ? kExtensionHeaderBytes + 4 * extension_words : 0) +
              packet.payload.size());
  out.push_back(
      static_cast<uint8_t>((kVersion << 6) | (packet.has_extension ? 0x10 : 0) | csrc_count));
  out.push_back(static_cast<uint8_t>((packet.marker ? 0x80 : 0) | (packet.payload_type & 0x7F)));
  AppendU16(out, packet.sequence);
  AppendU32(out, packet.timestamp);
  AppendU32(out, packet.ssrc);
  for (size_t i = 0; i < csrc_count; ++i) AppendU32(out, packet.csrcs[i]);
  if (packet.has_extension) {
    AppendU16(out, packet.extension_profile);
    AppendU16(out, static_cast<uint16_t>(extension_words));
    out.insert(out.end(), packet.extension_data.begin(), packet.extension_data.end());
    out.resize(out.size() + (4 * extension_words - packet.extension_data.size()), 0);
  }
}

bool ParseRtp(std::span<const uint8_t> bytes, RtpPacket* out, std::string* error) {
  // Everything is checked first, so a rejected packet leaves `out` untouched.
  Layout layout;
  if (!CheckLayout(bytes, &layout, error)) return false;
  const RtpView view = ViewOf(bytes, layout);
  const uint8_t* p = bytes.data();
  out->marker = view.marker;
  out->payload_type = view.payload_type;
  out->sequence = view.sequence;
  out->timestamp = view.timestamp;
  out->ssrc = view.ssrc;
  out->csrcs.resize(layout.csrc_count);
  for (size_t i = 0; i < layout.csrc_count; ++i)
    out->csrcs[i] = ReadU32(p + kFixedHeaderBytes + 4 * i);
  out->has_extension = layout.has_extension;
  out->extension_profile = layout.has_extension ? ReadU16(p + layout.extension_offset) : 0;
  if (layout.has_extension) {
    const uint8_t* extension = p + layout.extension_offset + kExtensionHeaderBytes;
    out->extension_data.assign(extension, extension + layout.extension_bytes);
  } else {
    out->extension_data.clear();
  }
  out->payload.assign(view.payload.begin(), view.payload.end());
  return true;
}

bool ParseRtpView(std::span<const uint8_t> bytes, RtpView* out, std::string* error) {
  Layout layout;
  if (!CheckLayout(bytes, &layout, error)) return false;
  *out = ViewOf(bytes, layout);
  return true;
}

}  // namespace callsim::agent
