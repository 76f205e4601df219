// libsrtp2's two SRTP primitives for AES_CM_128_HMAC_SHA1_80, AES-128 in integer counter mode
// (RFC 3711 section 4.1.1) and HMAC-SHA1 (RFC 2104), over OpenSSL's EVP. They plug in through
// libsrtp2's public extension API (srtp_replace_cipher_type, srtp_replace_auth_type). libsrtp2
// keeps everything else: the packet format, key derivation, the replay window, the tag check,
// srtp_protect and srtp_unprotect.
//
// Why: Debian 12 builds libsrtp2 2.5.0 against NSS, whose backend creates and frees a PK11 key
// and context for every packet (PK11_FreeSymKey shows up) and takes NSS's global locks. In a
// 120-call SRTP load run perf put NSS (libsoftokn3, libnss3, freebl, nspr and its pthread
// mutexes) at 35-40% of all CPU. Here each cipher object keeps one EVP_CIPHER_CTX keyed once and
// only re-IV'd per packet, and each auth object keeps SHA-1 states already past the HMAC key's
// inner and outer pads, so a packet costs a context copy and its own hashing, nothing more; the
// algorithms are fetched from OpenSSL once, so no packet takes a lock to look them up.
// BM_SrtpProtectUnprotect (a 172-byte RTP packet protected and unprotected, bench/RESULTS.md):
// 4.8 to 7.0 us per packet on NSS, 0.74 to 1.2 us with these, on the same 2-core machine.
//
// Each type carries test vectors as its test_data (RFC 3711 appendix B.2 and RFC 3686 for the
// cipher, RFC 2202 for HMAC-SHA1); srtp_replace_* runs libsrtp2's self test on them, and on
// the test data of the type being replaced, before it accepts a type.
#pragma once

#include <srtp2/auth.h>
#include <srtp2/cipher.h>

namespace callsim::agent::sip {

// SRTP_AES_ICM_128: a 30-byte key (16 of AES key, 14 of salt); the IV of set_iv is XORed with
// the salt (padded with two zero bytes) to give the first counter block; encrypt and decrypt XOR
// the keystream in place and continue it across calls until the next set_iv.
const srtp_cipher_type_t& OpenSslAesIcm128();

// SRTP_HMAC_SHA1: any key length, tags of up to 20 bytes (SRTP's 80-bit tag is the first 10).
const srtp_auth_type_t& OpenSslHmacSha1();

// Replaces libsrtp2's AES-128 ICM and HMAC-SHA1 with the two above. Call once, after srtp_init
// and before any session exists; srtp_err_status_ok, or the first refusal (libsrtp2 then keeps
// its own primitive for that type).
srtp_err_status_t InstallOpenSslSrtpPrimitives();

}  // namespace callsim::agent::sip
