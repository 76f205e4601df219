// SRTP and SRTCP for one direction of one call (RFC 3711, AES_CM_128_HMAC_SHA1_80, the SDES key
// of sdp.h), over libsrtp2. A sender protects packets with its own key; a receiver unprotects
// with the peer's. A packet that fails authentication (tampered, or the wrong key), replays one
// already accepted, or is too old for the replay window is dropped and counted, never passed on:
// the counts are what srtp_auth_failures and srtp_replays report.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace callsim::agent::sip {

struct SrtpStats {
  uint64_t protected_packets = 0;
  uint64_t unprotected_packets = 0;  // accepted
  uint64_t auth_failures = 0;        // tampered, or keyed differently
  uint64_t replays = 0;              // seen before, or older than the replay window
  uint64_t malformed = 0;            // too short to be SRTP, or another libsrtp2 refusal
};

class SrtpSession {
 public:
  enum class Direction { kSend, kReceive };
  // `key_salt` is the 30-byte key and salt; false with *error from Create when libsrtp2 refuses
  // it (a wrong length) or cannot start.
  static std::unique_ptr<SrtpSession> Create(Direction direction, const std::string& key_salt,
                                             std::string* error);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Sending: RTP (or RTCP) in, SRTP (SRTCP) out, in place (the buffer grows by the tag).
  bool ProtectRtp(std::vector<uint8_t>* packet);
  bool ProtectRtcp(std::vector<uint8_t>* packet);
  // Receiving: SRTP (SRTCP) in, RTP (RTCP) out, in place; false (counted) when it is dropped.
  bool UnprotectRtp(std::vector<uint8_t>* packet);
  bool UnprotectRtcp(std::vector<uint8_t>* packet);

  const SrtpStats& stats() const { return stats_; }

 private:
  struct Impl;
  explicit SrtpSession(std::unique_ptr<Impl> impl);
  bool Unprotect(std::vector<uint8_t>* packet, bool rtcp);
  bool Protect(std::vector<uint8_t>* packet, bool rtcp);

  std::unique_ptr<Impl> impl_;
  SrtpStats stats_;
};

}  // namespace callsim::agent::sip
