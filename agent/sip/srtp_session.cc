#include "agent/sip/srtp_session.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>
#include <string>

#include "agent/sip/sdp.h"
#include "agent/sip/srtp_openssl.h"

namespace callsim::agent::sip {
namespace {

// libsrtp2 wants one srtp_init per process before any session. Right after it, AES-128 ICM and
// HMAC-SHA1 are replaced with the OpenSSL ones of srtp_openssl.h (Debian's libsrtp2 runs them on
// NSS, which cost a third of a loaded run's CPU). libsrtp2 self-tests them before it takes
// them; should it refuse one, SRTP is refused rather than run on primitives no test checked
// here, and *error says so.
bool InitOnce(std::string* error) {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    if (srtp_init() != srtp_err_status_ok) {
      failure = "libsrtp2 failed to initialise";
      return;
    }
    const srtp_err_status_t status = InstallOpenSslSrtpPrimitives();
    if (status != srtp_err_status_ok) {
      failure = "libsrtp2 refused the OpenSSL AES-CM/HMAC-SHA1 primitives (status " +
                std::to_string(status) + ")";
    }
  });
  if (failure.empty()) return true;
  *error = failure;
  return false;
}

}  // namespace

struct SrtpSession::Impl {
  srtp_t session = nullptr;
  unsigned char key[kSrtpKeySaltBytes] = {};
  ~Impl() {
    if (session != nullptr) srtp_dealloc(session);
  }
};

SrtpSession::SrtpSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SrtpSession::~SrtpSession() = default;

std::unique_ptr<SrtpSession> SrtpSession::Create(Direction direction, const std::string& key_salt,
                                                 std::string* error) {
  if (key_salt.size() != kSrtpKeySaltBytes) {
    *error = "SRTP needs a 30-byte key and salt, got " + std::to_string(key_salt.size());
    return nullptr;
  }
  if (!InitOnce(error)) return nullptr;
  auto impl = std::make_unique<Impl>();
  std::memcpy(impl->key, key_salt.data(), kSrtpKeySaltBytes);
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = direction == Direction::kSend ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = impl->key;
  policy.window_size = 128;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  const srtp_err_status_t status = srtp_create(&impl->session, &policy);
  if (status != srtp_err_status_ok) {
    impl->session = nullptr;
    *error = "libsrtp2 refused the session (status " + std::to_string(status) + ")";
    return nullptr;
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(std::move(impl)));
}

bool SrtpSession::Protect(std::vector<uint8_t>* packet, bool rtcp) {
  int len = static_cast<int>(packet->size());
  // libsrtp2 writes the tag (and SRTCP index) after the packet.
  packet->resize(packet->size() + SRTP_MAX_TRAILER_LEN + 4);
  const srtp_err_status_t status = rtcp ? srtp_protect_rtcp(impl_->session, packet->data(), &len)
                                        : srtp_protect(impl_->session, packet->data(), &len);
  if (status != srtp_err_status_ok) {
    packet->resize(static_cast<size_t>(len));
    ++stats_.malformed;
    return false;
  }
  packet->resize(static_cast<size_t>(len));
  ++stats_.protected_packets;
  return true;
}

bool SrtpSession::Unprotect(std::vector<uint8_t>* packet, bool rtcp) {
  // RTP's 12-byte header and the 10-byte tag; or RTCP's 8-byte header, 4-byte index and the tag.
  constexpr size_t kMinSrtpBytes = 22;
  if (packet->size() < kMinSrtpBytes) {
    ++stats_.malformed;
    return false;
  }
  int len = static_cast<int>(packet->size());
  const srtp_err_status_t status = rtcp
                                       ? srtp_unprotect_rtcp(impl_->session, packet->data(), &len)
                                       : srtp_unprotect(impl_->session, packet->data(), &len);
  switch (status) {
    case srtp_err_status_ok:
      packet->resize(static_cast<size_t>(len));
      ++stats_.unprotected_packets;
      return true;
    case srtp_err_status_auth_fail: ++stats_.auth_failures; return false;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old: ++stats_.replays; return false;
    default: ++stats_.malformed; return false;
  }
}

bool SrtpSession::ProtectRtp(std::vector<uint8_t>* packet) { return Protect(packet, false); }
bool SrtpSession::ProtectRtcp(std::vector<uint8_t>* packet) { return Protect(packet, true); }
bool SrtpSession::UnprotectRtp(std::vector<uint8_t>* packet) { return Unprotect(packet, false); }
bool SrtpSession::UnprotectRtcp(std::vector<uint8_t>* packet) { return Unprotect(packet, true); }

}  // namespace callsim::agent::sip
