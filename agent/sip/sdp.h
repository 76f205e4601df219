// SDP (RFC 4566) for one audio stream, and the offer/answer of RFC 3264 over it: the codecs
// callsim speaks (PCMU, L16 at 16 kHz, Opus), telephone-event (RFC 4733), ptime, the direction,
// SDES keys for SRTP (RFC 4568: "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<base64 of a 16-byte
// key and a 14-byte salt>") and a=rtcp-mux (RFC 5761: RTCP on the RTP port). Parsing is a pure
// function with bounds; lines it does not know are kept out of the typed value, as RFC 4566 asks
// of attributes it does not understand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/media/codec.h"

namespace callsim::agent::sip {

inline constexpr size_t kMaxSdpBytes = 16384;
inline constexpr size_t kMaxSdpFormats = 32;
inline constexpr size_t kSrtpKeySaltBytes = 30;  // AES_CM_128: 16-byte key, 14-byte salt
inline constexpr std::string_view kSrtpSuite = "AES_CM_128_HMAC_SHA1_80";
// The first dynamic payload type MakeOffer gives telephone-event (one per clock rate offered).
inline constexpr uint8_t kTelephoneEventPt = 101;

struct SdpFormat {
  uint8_t payload_type = 0;
  std::string encoding;       // "PCMU", "L16", "opus", "telephone-event" (as written)
  uint32_t clock_rate_hz = 0;
  int channels = 1;
  std::string fmtp;           // the a=fmtp parameters, "" when none
};

struct SdpCrypto {
  int tag = 1;
  std::string suite;          // "AES_CM_128_HMAC_SHA1_80"
  std::string key_salt;       // the decoded inline key and salt (30 bytes for the suite above)
};

struct SdpMedia {
  uint16_t port = 0;          // 0: the stream is refused (RFC 3264 section 6)
  std::string protocol;       // "RTP/AVP" or "RTP/SAVP"
  std::vector<SdpFormat> formats;  // in the m= line's order (the offerer's preference)
  int ptime_ms = 0;           // 0: not given
  std::string direction = "sendrecv";
  std::vector<SdpCrypto> crypto;
  std::string address;        // the media-level c= address, "" to use the session's
  bool rtcp_mux = false;      // a=rtcp-mux (RFC 5761): RTCP shares the RTP port
};

struct SessionDescription {
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string address;        // the session-level c= address (IP4)
  std::vector<SdpMedia> audio;  // the m=audio lines; other media are left out
};

struct SdpParseResult {
  std::optional<SessionDescription> description;
  std::string error;
};

SdpParseResult ParseSdp(std::string_view text);
std::string SerializeSdp(const SessionDescription& description);

// What one side can do, for building an offer or answering one.
struct SdpCapabilities {
  std::vector<CodecKind> codecs = {CodecKind::kPcmu};  // in preference order
  bool telephone_event = true;
  // With a key (kSrtpKeySaltBytes), the stream is RTP/SAVP with this key; without, RTP/AVP.
  std::string srtp_key_salt;
};

// The stream both sides agreed on.
struct NegotiatedStream {
  CodecKind codec = CodecKind::kPcmu;
  uint8_t payload_type = 0;
  std::optional<uint8_t> dtmf_payload_type;
  int ptime_ms = 20;
  std::string remote_address;
  uint16_t remote_port = 0;
  bool srtp = false;
  std::string remote_key_salt;  // the peer's SRTP key and salt (what it sends with)
  std::string local_key_salt;   // ours
  // Both sides agreed to RTCP on the RTP port (RFC 5761 section 5.1.1: the answer's a=rtcp-mux).
  // RtpSession always multiplexes; without it, a peer sends its RTCP to port + 1 and we do not
  // hear its reports.
  bool rtcp_mux = false;
};

// An offer of one audio stream at `address`:`port` with `caps`, always with a=rtcp-mux.
SessionDescription MakeOffer(const SdpCapabilities& caps, const std::string& address,
                             uint16_t port, uint64_t session_id);

// Answers `offer`: the first of the offer's formats that `caps` speaks, telephone-event at the
// same clock rate when both have it, a=rtcp-mux when offered, SRTP when the offer is RTP/SAVP
// with a suite we know (and only then: an RTP/SAVP offer to a side without a key, or an RTP/AVP
// offer to a side that requires SRTP, is refused). False with *error ("no common codec: offered
// PCMA/8000, G729/8000") when nothing can be agreed.
bool AnswerOffer(const SessionDescription& offer, const SdpCapabilities& caps,
                 const std::string& address, uint16_t port, uint64_t session_id,
                 SessionDescription* answer, NegotiatedStream* negotiated, std::string* error);

// Reads the answer to an offer we made: which of our formats the peer chose, its address, port
// and key, and whether it accepted rtcp-mux. False with *error when the answer picks nothing we
// offered or refuses the stream.
bool ReadAnswer(const SessionDescription& offer, const SessionDescription& answer,
                NegotiatedStream* negotiated, std::string* error);

}  // namespace callsim::agent::sip
