#include "agent/sip/sdp.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "agent/server/base64.h"
#include "agent/sip/sip_message.h"

namespace callsim::agent::sip {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= s.size()) {
    const size_t next = s.find(sep, at);
    const std::string_view part = s.substr(at, next == std::string_view::npos ? next : next - at);
    if (!part.empty()) out.push_back(part);
    if (next == std::string_view::npos) break;
    at = next + 1;
  }
  return out;
}

template <typename T>
bool Number(std::string_view s, T* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

// The codec a format names (by encoding and clock rate), if callsim speaks it.
std::optional<CodecKind> CodecOf(const SdpFormat& f) {
  if (EqualsNoCase(f.encoding, "PCMU") && f.clock_rate_hz == 8000) return CodecKind::kPcmu;
  if (EqualsNoCase(f.encoding, "L16") && f.clock_rate_hz == 16000 && f.channels == 1) {
    return CodecKind::kL16;
  }
  if (EqualsNoCase(f.encoding, "opus") && f.clock_rate_hz == 48000) return CodecKind::kOpus;
  return std::nullopt;
}

SdpFormat FormatOf(CodecKind kind) {
  switch (kind) {
    case CodecKind::kPcmu: return {0, "PCMU", 8000, 1, ""};
    case CodecKind::kL16: return {96, "L16", 16000, 1, ""};
    case CodecKind::kOpus: return {111, "opus", 48000, 2, "useinbandfec=1"};
  }
  return {0, "PCMU", 8000, 1, ""};
}

// RFC 3551's static payload types callsim knows, for an m= format with no a=rtpmap.
void StaticFormat(SdpFormat* f) {
  if (f->payload_type == 0) *f = {0, "PCMU", 8000, 1, ""};
}

bool ParseRtpmap(std::string_view v, SdpMedia* m, std::string* error) {
  const size_t sp = v.find(' ');
  uint8_t pt = 0;
  if (sp == std::string_view::npos || !Number(v.substr(0, sp), &pt)) {
    *error = "bad a=rtpmap: expected \"PT ENCODING/RATE[/CHANNELS]\"";
    return false;
  }
  const std::vector<std::string_view> parts = Split(v.substr(sp + 1), '/');
  SdpFormat f{pt, "", 0, 1, ""};
  if (parts.size() < 2 || parts.size() > 3 || !Number(parts[1], &f.clock_rate_hz) ||
      (parts.size() == 3 && (!Number(parts[2], &f.channels) || f.channels < 1 || f.channels > 8))) {
    *error = "bad a=rtpmap: expected \"PT ENCODING/RATE[/CHANNELS]\"";
    return false;
  }
  f.encoding = std::string(parts[0]);
  for (SdpFormat& existing : m->formats) {
    if (existing.payload_type == pt) {
      f.fmtp = existing.fmtp;
      existing = f;
    }
  }
  return true;
}

bool ParseCrypto(std::string_view v, SdpMedia* m, std::string* error) {
  const std::vector<std::string_view> parts = Split(v, ' ');
  SdpCrypto c;
  if (parts.size() < 3 || !Number(parts[0], &c.tag) || parts[2].rfind("inline:", 0) != 0) {
    *error = "bad a=crypto: expected \"TAG SUITE inline:KEY\"";
    return false;
  }
  c.suite = std::string(parts[1]);
  // inline:<key||salt>[|lifetime][|MKI:length]
  const std::string_view key = parts[2].substr(7, parts[2].find('|') - 7);
  const std::optional<std::string> decoded = Base64Decode(key);
  if (!decoded) {
    *error = "bad a=crypto: the inline key is not base64";
    return false;
  }
  c.key_salt = *decoded;
  if (c.suite == kSrtpSuite && c.key_salt.size() != kSrtpKeySaltBytes) {
    *error = "bad a=crypto: " + c.suite + " needs a 30-byte key and salt, got " +
             std::to_string(c.key_salt.size());
    return false;
  }
  m->crypto.push_back(std::move(c));
  return true;
}

bool ParseAttribute(std::string_view a, SdpMedia* m, std::string* error) {
  const size_t colon = a.find(':');
  const std::string_view name = a.substr(0, colon);
  const std::string_view value = colon == std::string_view::npos ? "" : a.substr(colon + 1);
  if (name == "rtpmap") return ParseRtpmap(value, m, error);
  if (name == "crypto") return ParseCrypto(value, m, error);
  if (name == "fmtp") {
    const size_t sp = value.find(' ');
    uint8_t pt = 0;
    if (sp == std::string_view::npos || !Number(value.substr(0, sp), &pt)) {
      *error = "bad a=fmtp: expected \"PT PARAMETERS\"";
      return false;
    }
    for (SdpFormat& f : m->formats) {
      if (f.payload_type == pt) f.fmtp = std::string(value.substr(sp + 1));
    }
    return true;
  }
  if (name == "ptime") {
    if (!Number(value, &m->ptime_ms) || m->ptime_ms < 1 || m->ptime_ms > 1000) {
      *error = "bad a=ptime: expected milliseconds in 1..1000";
      return false;
    }
    return true;
  }
  if (name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive") {
    m->direction = std::string(name);
  }
  if (name == "rtcp-mux") m->rtcp_mux = true;
  return true;  // an attribute we do not know is ignored (RFC 4566 section 5.13)
}

bool ParseMediaLine(std::string_view v, SessionDescription* d, bool* in_audio, std::string* error) {
  const std::vector<std::string_view> parts = Split(v, ' ');
  if (parts.size() < 4) {
    *error = "bad m= line: expected \"MEDIA PORT PROTO FMT...\"";
    return false;
  }
  *in_audio = parts[0] == "audio";
  if (!*in_audio) return true;
  SdpMedia m;
  if (!Number(parts[1].substr(0, parts[1].find('/')), &m.port)) {
    *error = "bad m= line: the port is not a number in 0..65535";
    return false;
  }
  m.protocol = std::string(parts[2]);
  if (parts.size() - 3 > kMaxSdpFormats) {
    *error = "more than " + std::to_string(kMaxSdpFormats) + " formats on one m= line";
    return false;
  }
  for (size_t i = 3; i < parts.size(); ++i) {
    SdpFormat f;
    if (!Number(parts[i], &f.payload_type) || f.payload_type > 127) {
      *error = "bad m= line: format \"" + std::string(parts[i]) + "\" is not an RTP payload type";
      return false;
    }
    StaticFormat(&f);
    m.formats.push_back(f);
  }
  d->audio.push_back(std::move(m));
  return true;
}

bool ParseLine(char type, std::string_view v, SessionDescription* d, bool* in_audio,
               std::string* error) {
  SdpMedia* media = *in_audio && !d->audio.empty() ? &d->audio.back() : nullptr;
  switch (type) {
    case 'o': {
      const std::vector<std::string_view> p = Split(v, ' ');
      if (p.size() != 6 || !Number(p[1], &d->session_id) || !Number(p[2], &d->session_version)) {
        *error = "bad o= line: expected \"USER ID VERSION IN IP4 ADDRESS\"";
        return false;
      }
      return true;
    }
    case 'c': {
      const std::vector<std::string_view> p = Split(v, ' ');
      if (p.size() != 3 || p[0] != "IN" || (p[1] != "IP4" && p[1] != "IP6")) {
        *error = "bad c= line: expected \"IN IP4 ADDRESS\"";
        return false;
      }
      const std::string address(p[2].substr(0, p[2].find('/')));
      (media ? media->address : d->address) = address;
      return true;
    }
    case 'm': return ParseMediaLine(v, d, in_audio, error);
    case 'a': return media == nullptr || ParseAttribute(v, media, error);
    default: return true;
  }
}

std::string FormatLines(const SdpFormat& f) {
  std::string out = "a=rtpmap:" + std::to_string(f.payload_type) + " " + f.encoding + "/" +
                    std::to_string(f.clock_rate_hz) +
                    (f.channels > 1 ? "/" + std::to_string(f.channels) : "") + "\r\n";
  if (!f.fmtp.empty()) out += "a=fmtp:" + std::to_string(f.payload_type) + " " + f.fmtp + "\r\n";
  return out;
}

SdpMedia MediaFor(const SdpCapabilities& caps, uint16_t port) {
  SdpMedia m;
  m.port = port;
  m.protocol = caps.srtp_key_salt.empty() ? "RTP/AVP" : "RTP/SAVP";
  m.ptime_ms = 20;
  if (!caps.srtp_key_salt.empty()) m.crypto.push_back({1, std::string(kSrtpSuite), caps.srtp_key_salt});
  return m;
}

}  // namespace

SdpParseResult ParseSdp(std::string_view text) {
  SdpParseResult r;
  if (text.size() > kMaxSdpBytes) {
    r.error = "the SDP is longer than " + std::to_string(kMaxSdpBytes) + " bytes";
    return r;
  }
  SessionDescription d;
  bool in_audio = false;
  bool first = true;
  for (std::string_view line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=' || !std::islower(static_cast<unsigned char>(line[0]))) {
      r.error = "bad SDP line (expected x=value): \"" + std::string(line.substr(0, 40)) + "\"";
      return r;
    }
    if (first && line != "v=0") {
      r.error = "the SDP does not start with v=0";
      return r;
    }
    first = false;
    if (!ParseLine(line[0], line.substr(2), &d, &in_audio, &r.error)) return r;
  }
  if (first) {
    r.error = "empty SDP";
    return r;
  }
  r.description = std::move(d);
  return r;
}

std::string SerializeSdp(const SessionDescription& d) {
  std::string out = "v=0\r\no=callsim " + std::to_string(d.session_id) + " " +
                    std::to_string(d.session_version) + " IN IP4 " + d.address +
                    "\r\ns=callsim\r\nc=IN IP4 " + d.address + "\r\nt=0 0\r\n";
  for (const SdpMedia& m : d.audio) {
    out += "m=audio " + std::to_string(m.port) + " " + m.protocol;
    for (const SdpFormat& f : m.formats) (out += ' ') += std::to_string(f.payload_type);
    out += "\r\n";
    if (!m.address.empty()) out += "c=IN IP4 " + m.address + "\r\n";
    for (const SdpFormat& f : m.formats) out += FormatLines(f);
    if (m.ptime_ms > 0) out += "a=ptime:" + std::to_string(m.ptime_ms) + "\r\n";
    out += "a=" + m.direction + "\r\n";
    if (m.rtcp_mux) out += "a=rtcp-mux\r\n";
    for (const SdpCrypto& c : m.crypto) {
      out += "a=crypto:" + std::to_string(c.tag) + " " + c.suite + " inline:" +
             Base64Encode(c.key_salt) + "\r\n";
    }
  }
  return out;
}

SessionDescription MakeOffer(const SdpCapabilities& caps, const std::string& address,
                             uint16_t port, uint64_t session_id) {
  SessionDescription d;
  d.session_id = session_id;
  d.session_version = session_id;
  d.address = address;
  SdpMedia m = MediaFor(caps, port);
  // RtpSession always carries RTCP on the RTP port; a peer that does not answer with rtcp-mux
  // sends its reports to port + 1, where nothing listens (RFC 5761 section 5.1.1).
  m.rtcp_mux = true;
  std::vector<uint32_t> rates;
  for (const CodecKind kind : caps.codecs) {
    m.formats.push_back(FormatOf(kind));
    const uint32_t rate = FormatOf(kind).clock_rate_hz;
    if (std::find(rates.begin(), rates.end(), rate) == rates.end()) rates.push_back(rate);
  }
  // One telephone-event per clock rate offered (RFC 4733 section 2.5.1.2), 101 upwards.
  uint8_t pt = kTelephoneEventPt;
  for (size_t i = 0; caps.telephone_event && i < rates.size(); ++i) {
    m.formats.push_back({static_cast<uint8_t>(pt + i), "telephone-event", rates[i], 1, "0-16"});
  }
  d.audio.push_back(std::move(m));
  return d;
}

bool AnswerOffer(const SessionDescription& offer, const SdpCapabilities& caps,
                 const std::string& address, uint16_t port, uint64_t session_id,
                 SessionDescription* answer, NegotiatedStream* n, std::string* error) {
  if (offer.audio.empty() || offer.audio[0].port == 0) {
    *error = "the offer has no audio stream";
    return false;
  }
  const SdpMedia& o = offer.audio[0];
  const bool savp = o.protocol == "RTP/SAVP";
  if (o.protocol != "RTP/AVP" && !savp) {
    *error = "the offer's transport " + o.protocol + " is not RTP/AVP or RTP/SAVP";
    return false;
  }
  const bool want_srtp = !caps.srtp_key_salt.empty();
  if (savp != want_srtp) {
    *error = savp ? "the offer wants SRTP (RTP/SAVP) and this side has no key"
                  : "this side requires SRTP and the offer is RTP/AVP";
    return false;
  }
  const SdpCrypto* crypto = nullptr;
  for (const SdpCrypto& c : o.crypto) {
    if (c.suite == kSrtpSuite && crypto == nullptr) crypto = &c;
  }
  if (savp && crypto == nullptr) {
    *error = "the offer has no a=crypto line with " + std::string(kSrtpSuite);
    return false;
  }
  const SdpFormat* chosen = nullptr;
  std::string offered;
  for (const SdpFormat& f : o.formats) {
    offered += (offered.empty() ? "" : ", ") + f.encoding + "/" + std::to_string(f.clock_rate_hz);
    const std::optional<CodecKind> kind = CodecOf(f);
    if (chosen == nullptr && kind &&
        std::find(caps.codecs.begin(), caps.codecs.end(), *kind) != caps.codecs.end()) {
      chosen = &f;
    }
  }
  if (chosen == nullptr) {
    *error = "no common codec: offered " + (offered.empty() ? std::string("nothing") : offered);
    return false;
  }
  SdpMedia m = MediaFor(caps, port);
  m.formats.push_back(*chosen);
  n->codec = *CodecOf(*chosen);
  n->payload_type = chosen->payload_type;
  n->dtmf_payload_type.reset();
  for (const SdpFormat& f : o.formats) {
    if (caps.telephone_event && EqualsNoCase(f.encoding, "telephone-event") &&
        f.clock_rate_hz == chosen->clock_rate_hz && !n->dtmf_payload_type) {
      m.formats.push_back(f);
      n->dtmf_payload_type = f.payload_type;
    }
  }
  if (crypto != nullptr) m.crypto[0].tag = crypto->tag;  // answer with the tag we accepted
  m.rtcp_mux = o.rtcp_mux;
  n->ptime_ms = o.ptime_ms > 0 ? o.ptime_ms : 20;
  n->remote_address = o.address.empty() ? offer.address : o.address;
  n->remote_port = o.port;
  n->srtp = savp;
  n->remote_key_salt = crypto ? crypto->key_salt : "";
  n->local_key_salt = caps.srtp_key_salt;
  n->rtcp_mux = o.rtcp_mux;
  answer->session_id = session_id;
  answer->session_version = session_id;
  answer->address = address;
  answer->audio = {std::move(m)};
  return true;
}

bool ReadAnswer(const SessionDescription& offer, const SessionDescription& answer,
                NegotiatedStream* n, std::string* error) {
  if (offer.audio.empty() || answer.audio.empty() || answer.audio[0].port == 0) {
    *error = "the answer refuses the audio stream";
    return false;
  }
  const SdpMedia& ours = offer.audio[0];
  const SdpMedia& theirs = answer.audio[0];
  if (theirs.protocol != ours.protocol) {
    *error = "the answer's transport " + theirs.protocol + " is not the offered " + ours.protocol;
    return false;
  }
  const SdpFormat* chosen = nullptr;
  for (const SdpFormat& f : theirs.formats) {
    if (chosen == nullptr && CodecOf(f)) chosen = &f;
  }
  if (chosen == nullptr) {
    *error = "the answer chose no codec this side offered";
    return false;
  }
  n->codec = *CodecOf(*chosen);
  n->payload_type = chosen->payload_type;
  n->dtmf_payload_type.reset();
  for (const SdpFormat& f : theirs.formats) {
    if (EqualsNoCase(f.encoding, "telephone-event") && !n->dtmf_payload_type) {
      n->dtmf_payload_type = f.payload_type;
    }
  }
  n->ptime_ms = theirs.ptime_ms > 0 ? theirs.ptime_ms : 20;
  n->remote_address = theirs.address.empty() ? answer.address : theirs.address;
  n->remote_port = theirs.port;
  n->srtp = ours.protocol == "RTP/SAVP";
  n->rtcp_mux = ours.rtcp_mux && theirs.rtcp_mux;
  n->local_key_salt = ours.crypto.empty() ? "" : ours.crypto[0].key_salt;
  n->remote_key_salt.clear();
  for (const SdpCrypto& c : theirs.crypto) {
    if (c.suite == kSrtpSuite && n->remote_key_salt.empty()) n->remote_key_salt = c.key_salt;
  }
  if (n->srtp && n->remote_key_salt.empty()) {
    *error = "the answer has no a=crypto line with " + std::string(kSrtpSuite);
    return false;
  }
  return true;
}

}  // namespace callsim::agent::sip
