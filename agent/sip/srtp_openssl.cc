#include "agent/sip/srtp_openssl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace callsim::agent::sip {
namespace {

constexpr int kAesKeyBytes = 16;
constexpr int kSaltBytes = 14;
constexpr int kIcmKeyLen = kAesKeyBytes + kSaltBytes;  // libsrtp2's key_len for AES-128 ICM
constexpr int kBlockBytes = 16;
constexpr int kSha1Bytes = 20;
constexpr int kSha1BlockBytes = 64;

// Fetched once: an implicit fetch (EVP_aes_128_ctr(), EVP_sha1()) would look the algorithm up in
// OpenSSL's method store, under its lock, every time a context is initialised.
const EVP_CIPHER* Aes128Ctr() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
  return cipher;
}

const EVP_MD* Sha1() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return md;
}

// ---- AES-128 ICM ---------------------------------------------------------------------------

struct IcmState {
  EVP_CIPHER_CTX* ctx = nullptr;
  // The salt and two zero bytes: set_iv's IV is XORed with it to give the first counter block.
  uint8_t offset[kBlockBytes] = {};
  bool keyed = false;
};

extern const srtp_cipher_type_t kOpenSslAesIcm128;

srtp_err_status_t IcmAlloc(srtp_cipher_pointer_t* cp, int key_len, int /*tag_len*/) {
  if (key_len != kIcmKeyLen) return srtp_err_status_bad_param;
  auto* cipher = new (std::nothrow) srtp_cipher_t{};
  auto* state = new (std::nothrow) IcmState{};
  if (cipher == nullptr || state == nullptr || Aes128Ctr() == nullptr ||
      (state->ctx = EVP_CIPHER_CTX_new()) == nullptr) {
    delete cipher;
    delete state;
    return srtp_err_status_alloc_fail;
  }
  cipher->type = &kOpenSslAesIcm128;
  cipher->state = state;
  cipher->key_len = key_len;
  cipher->algorithm = SRTP_AES_ICM_128;
  *cp = cipher;
  return srtp_err_status_ok;
}

srtp_err_status_t IcmDealloc(srtp_cipher_pointer_t cp) {
  if (cp == nullptr) return srtp_err_status_bad_param;
  auto* state = static_cast<IcmState*>(cp->state);
  if (state != nullptr) {
    EVP_CIPHER_CTX_free(state->ctx);  // cleanses the expanded key
    OPENSSL_cleanse(state->offset, sizeof state->offset);
    delete state;
  }
  delete cp;
  return srtp_err_status_ok;
}

// `key` is the 16-byte AES key followed by the 14-byte salt.
srtp_err_status_t IcmInit(void* sv, const uint8_t* key) {
  auto* state = static_cast<IcmState*>(sv);
  std::memset(state->offset, 0, sizeof state->offset);
  std::memcpy(state->offset, key + kAesKeyBytes, kSaltBytes);
  state->keyed = EVP_EncryptInit_ex(state->ctx, Aes128Ctr(), nullptr, key, nullptr) == 1;
  return state->keyed ? srtp_err_status_ok : srtp_err_status_init_fail;
}

// The first counter block is the IV XOR the offset; the key stays as it is. Counter mode is its
// own inverse, so the direction does not matter.
srtp_err_status_t IcmSetIv(void* sv, uint8_t* iv, srtp_cipher_direction_t /*direction*/) {
  auto* state = static_cast<IcmState*>(sv);
  if (!state->keyed) return srtp_err_status_cipher_fail;
  uint8_t counter[kBlockBytes];
  for (int i = 0; i < kBlockBytes; ++i) counter[i] = state->offset[i] ^ iv[i];
  // No cipher and no key: only the IV changes (and the keystream restarts at its first byte).
  const int ok = EVP_EncryptInit_ex(state->ctx, nullptr, nullptr, nullptr, counter);
  return ok == 1 ? srtp_err_status_ok : srtp_err_status_cipher_fail;
}

// XORs the keystream into `buffer` in place, continuing where the last call stopped (libsrtp2's
// srtp_cipher_output is this on a zeroed buffer, which is how its KDF derives keys).
srtp_err_status_t IcmEncrypt(void* sv, uint8_t* buffer, unsigned int* octets) {
  auto* state = static_cast<IcmState*>(sv);
  if (!state->keyed) return srtp_err_status_cipher_fail;
  if (*octets == 0) return srtp_err_status_ok;
  if (*octets > static_cast<unsigned int>(INT_MAX)) return srtp_err_status_bad_param;
  int written = 0;
  if (EVP_EncryptUpdate(state->ctx, buffer, &written, buffer, static_cast<int>(*octets)) != 1 ||
      written != static_cast<int>(*octets)) {
    return srtp_err_status_cipher_fail;
  }
  return srtp_err_status_ok;
}

// ---- HMAC-SHA1 -----------------------------------------------------------------------------

struct HmacState {
  EVP_MD_CTX* inner = nullptr;  // SHA-1 after the block key XOR ipad
  EVP_MD_CTX* outer = nullptr;  // SHA-1 after the block key XOR opad
  EVP_MD_CTX* work = nullptr;   // this message's hash: a copy of `inner`, then of `outer`
  bool keyed = false;
};

extern const srtp_auth_type_t kOpenSslHmacSha1;

srtp_err_status_t HmacAlloc(srtp_auth_pointer_t* ap, int key_len, int out_len) {
  if (out_len < 0 || out_len > kSha1Bytes || key_len < 0) return srtp_err_status_bad_param;
  auto* auth = new (std::nothrow) srtp_auth_t{};
  auto* state = new (std::nothrow) HmacState{};
  if (auth == nullptr || state == nullptr || Sha1() == nullptr ||
      (state->inner = EVP_MD_CTX_new()) == nullptr ||
      (state->outer = EVP_MD_CTX_new()) == nullptr || (state->work = EVP_MD_CTX_new()) == nullptr) {
    if (state != nullptr) {
      EVP_MD_CTX_free(state->inner);
      EVP_MD_CTX_free(state->outer);
    }
    delete auth;
    delete state;
    return srtp_err_status_alloc_fail;
  }
  auth->type = &kOpenSslHmacSha1;
  auth->state = state;
  auth->out_len = out_len;
  auth->key_len = key_len;
  auth->prefix_len = 0;  // no keystream prefix in the tag (that is for universal hashes)
  *ap = auth;
  return srtp_err_status_ok;
}

srtp_err_status_t HmacDealloc(srtp_auth_pointer_t ap) {
  if (ap == nullptr) return srtp_err_status_bad_param;
  auto* state = static_cast<HmacState*>(ap->state);
  if (state != nullptr) {
    EVP_MD_CTX_free(state->inner);  // cleanses the hash states
    EVP_MD_CTX_free(state->outer);
    EVP_MD_CTX_free(state->work);
    delete state;
  }
  delete ap;
  return srtp_err_status_ok;
}

// RFC 2104: a key longer than SHA-1's block is hashed first; the (zero-padded) block key XOR
// ipad starts the inner hash, XOR opad the outer one. Both states are kept for every message.
srtp_err_status_t HmacInit(void* sv, const uint8_t* key, int key_len) {
  auto* state = static_cast<HmacState*>(sv);
  state->keyed = false;
  if (key_len < 0) return srtp_err_status_bad_param;
  uint8_t block_key[kSha1BlockBytes] = {};
  if (key_len > kSha1BlockBytes) {
    unsigned int hashed = 0;
    if (EVP_Digest(key, static_cast<size_t>(key_len), block_key, &hashed, Sha1(), nullptr) != 1) {
      return srtp_err_status_init_fail;
    }
  } else if (key_len > 0) {
    std::memcpy(block_key, key, static_cast<size_t>(key_len));
  }
  uint8_t ipad[kSha1BlockBytes], opad[kSha1BlockBytes];
  for (int i = 0; i < kSha1BlockBytes; ++i) {
    ipad[i] = block_key[i] ^ 0x36;
    opad[i] = block_key[i] ^ 0x5c;
  }
  const bool ok = EVP_DigestInit_ex(state->inner, Sha1(), nullptr) == 1 &&
                  EVP_DigestUpdate(state->inner, ipad, sizeof ipad) == 1 &&
                  EVP_DigestInit_ex(state->outer, Sha1(), nullptr) == 1 &&
                  EVP_DigestUpdate(state->outer, opad, sizeof opad) == 1;
  OPENSSL_cleanse(block_key, sizeof block_key);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  state->keyed = ok;
  return ok ? srtp_err_status_ok : srtp_err_status_init_fail;
}

// A new message: the inner hash as it stood after the key.
srtp_err_status_t HmacStart(void* sv) {
  auto* state = static_cast<HmacState*>(sv);
  if (!state->keyed) return srtp_err_status_auth_fail;
  return EVP_MD_CTX_copy_ex(state->work, state->inner) == 1 ? srtp_err_status_ok
                                                            : srtp_err_status_auth_fail;
}

srtp_err_status_t HmacUpdate(void* sv, const uint8_t* message, int octets) {
  auto* state = static_cast<HmacState*>(sv);
  if (octets < 0) return srtp_err_status_bad_param;
  return EVP_DigestUpdate(state->work, message, static_cast<size_t>(octets)) == 1
             ? srtp_err_status_ok
             : srtp_err_status_auth_fail;
}

// The last of the message, then the tag: the first `tag_len` bytes of the HMAC.
srtp_err_status_t HmacCompute(void* sv, const uint8_t* message, int octets, int tag_len,
                              uint8_t* tag) {
  auto* state = static_cast<HmacState*>(sv);
  if (tag_len < 0 || tag_len > kSha1Bytes || octets < 0) return srtp_err_status_bad_param;
  uint8_t inner[kSha1Bytes], mac[kSha1Bytes];
  unsigned int inner_len = 0, mac_len = 0;
  const bool ok = EVP_DigestUpdate(state->work, message, static_cast<size_t>(octets)) == 1 &&
                  EVP_DigestFinal_ex(state->work, inner, &inner_len) == 1 &&
                  EVP_MD_CTX_copy_ex(state->work, state->outer) == 1 &&
                  EVP_DigestUpdate(state->work, inner, inner_len) == 1 &&
                  EVP_DigestFinal_ex(state->work, mac, &mac_len) == 1 &&
                  mac_len == static_cast<unsigned int>(kSha1Bytes);
  if (ok) std::memcpy(tag, mac, static_cast<size_t>(tag_len));
  OPENSSL_cleanse(inner, sizeof inner);
  OPENSSL_cleanse(mac, sizeof mac);
  return ok ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

// ---- Test vectors (libsrtp2's self test runs them in srtp_replace_*) -----------------------

template <size_t N>
struct Bytes {
  uint8_t v[N];
};

constexpr uint8_t Nibble(char c) {
  return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

// Hex digits to bytes at compile time; spaces are skipped. N counts the terminating NUL.
template <size_t Bytes_, size_t N>
constexpr Bytes<Bytes_> Hex(const char (&text)[N]) {
  Bytes<Bytes_> out{};
  size_t n = 0;
  int half = -1;
  for (size_t i = 0; i + 1 < N; ++i) {
    if (text[i] == ' ') continue;
    if (half < 0) {
      half = Nibble(text[i]);
    } else {
      out.v[n++] = static_cast<uint8_t>(half << 4 | Nibble(text[i]));
      half = -1;
    }
  }
  if (n != Bytes_ || half >= 0) throw "wrong number of hex digits";  // fails constant evaluation
  return out;
}

constexpr Bytes<48> kZeros48{};

// RFC 3711 appendix B.2, the AES-CM keystream: session key and salt, counter blocks
// F0F1..FCFD0000 to 0002 (IV zero) and F0F1..FCFDFEFF to FF01 (IV 00..00FEFF).
constexpr auto kB2Key = Hex<30>("2B7E151628AED2A6ABF7158809CF4F3C F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
constinit Bytes<16> kB2IvZero{};
constinit Bytes<16> kB2IvFeff = Hex<16>("0000000000000000000000000000FEFF");
constexpr auto kB2Keystream0 = Hex<48>(
    "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB "
    "41E95B3BB0A2E8DD477901E4FCA894C0");
constexpr auto kB2KeystreamFeff = Hex<48>(
    "EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE "
    "6A2CC3787889374FBEB4C81B17BA6C44");

// RFC 3686 section 6, test vectors #1 to #3 (AES-128). Its counter block is nonce, IV and a
// 32-bit block counter from 1; as ICM, the salt is nonce and IV and the IV of set_iv is 1.
constinit Bytes<16> kRfc3686Iv = Hex<16>("00000000000000000000000000000001");
constexpr auto kRfc3686Key1 = Hex<30>(
    "AE6852F8121067CC4BF7A5765577F39E 00000030 0000000000000000 0000");
constexpr auto kRfc3686Plain1 = Hex<16>("53696E676C6520626C6F636B206D7367");  // "Single block msg"
constexpr auto kRfc3686Cipher1 = Hex<16>("E4095D4FB7A7B3792D6175A3261311B8");
constexpr auto kRfc3686Key2 = Hex<30>(
    "7E24067817FAE0D743D6CE1F32539163 006CB6DB C0543B59DA48D90B 0000");
constexpr auto kRfc3686Plain2 = Hex<32>(
    "000102030405060708090A0B0C0D0E0F 101112131415161718191A1B1C1D1E1F");
constexpr auto kRfc3686Cipher2 = Hex<32>(
    "5104A106168A72D9790D41EE8EDAD388 EB2E1EFC46DA57C8FCE630DF9141BE28");
constexpr auto kRfc3686Key3 = Hex<30>(
    "7691BE035E5020A8AC6E618529F9A0DC 00E0017B 27777F3F4A1786F0 0000");
constexpr auto kRfc3686Plain3 = Hex<36>(
    "000102030405060708090A0B0C0D0E0F 101112131415161718191A1B1C1D1E1F 20212223");
constexpr auto kRfc3686Cipher3 = Hex<36>(
    "C1CF48A89F2FFDD9CF4652E9EFDB72D7 4540A42BDE6D7836D59A5CEAAEF31053 25B2072F");

const srtp_cipher_test_case_t kIcmCase5 = {.key_length_octets = kIcmKeyLen,
                                          .key = kRfc3686Key3.v,
                                          .idx = kRfc3686Iv.v,
                                          .plaintext_length_octets = 36,
                                          .plaintext = kRfc3686Plain3.v,
                                          .ciphertext_length_octets = 36,
                                          .ciphertext = kRfc3686Cipher3.v,
                                          .aad_length_octets = 0,
                                          .aad = nullptr,
                                          .tag_length_octets = 0,
                                          .next_test_case = nullptr};
const srtp_cipher_test_case_t kIcmCase4 = {.key_length_octets = kIcmKeyLen,
                                          .key = kRfc3686Key2.v,
                                          .idx = kRfc3686Iv.v,
                                          .plaintext_length_octets = 32,
                                          .plaintext = kRfc3686Plain2.v,
                                          .ciphertext_length_octets = 32,
                                          .ciphertext = kRfc3686Cipher2.v,
                                          .aad_length_octets = 0,
                                          .aad = nullptr,
                                          .tag_length_octets = 0,
                                          .next_test_case = &kIcmCase5};
const srtp_cipher_test_case_t kIcmCase3 = {.key_length_octets = kIcmKeyLen,
                                          .key = kRfc3686Key1.v,
                                          .idx = kRfc3686Iv.v,
                                          .plaintext_length_octets = 16,
                                          .plaintext = kRfc3686Plain1.v,
                                          .ciphertext_length_octets = 16,
                                          .ciphertext = kRfc3686Cipher1.v,
                                          .aad_length_octets = 0,
                                          .aad = nullptr,
                                          .tag_length_octets = 0,
                                          .next_test_case = &kIcmCase4};
const srtp_cipher_test_case_t kIcmCase2 = {.key_length_octets = kIcmKeyLen,
                                          .key = kB2Key.v,
                                          .idx = kB2IvFeff.v,
                                          .plaintext_length_octets = 48,
                                          .plaintext = kZeros48.v,
                                          .ciphertext_length_octets = 48,
                                          .ciphertext = kB2KeystreamFeff.v,
                                          .aad_length_octets = 0,
                                          .aad = nullptr,
                                          .tag_length_octets = 0,
                                          .next_test_case = &kIcmCase3};
const srtp_cipher_test_case_t kIcmCase1 = {.key_length_octets = kIcmKeyLen,
                                          .key = kB2Key.v,
                                          .idx = kB2IvZero.v,
                                          .plaintext_length_octets = 48,
                                          .plaintext = kZeros48.v,
                                          .ciphertext_length_octets = 48,
                                          .ciphertext = kB2Keystream0.v,
                                          .aad_length_octets = 0,
                                          .aad = nullptr,
                                          .tag_length_octets = 0,
                                          .next_test_case = &kIcmCase2};

// RFC 2202 section 3, HMAC-SHA1 test cases 1 to 7 (case 5 also as its 96-bit truncation).
constexpr auto kKey0b = Hex<20>("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B");
constexpr auto kKeyAa20 = Hex<20>("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
constexpr auto kKey0102 = Hex<25>("0102030405060708090A0B0C0D0E0F10111213141516171819");
constexpr auto kKey0c = Hex<20>("0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C");
constexpr auto kKeyAa80 = Hex<80>(
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
constexpr auto kDataDd = Hex<50>(
    "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
    "DDDDDDDD");
constexpr auto kDataCd = Hex<50>(
    "CDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCD"
    "CDCDCDCD");
constexpr auto kTag1 = Hex<20>("B617318655057264E28BC0B6FB378C8EF146BE00");
constexpr auto kTag2 = Hex<20>("EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79");
constexpr auto kTag3 = Hex<20>("125D7342B9AC11CD91A39AF48AA17B4F63F175D3");
constexpr auto kTag4 = Hex<20>("4C9007F4026250C6BC8414F9BF50C86C2D7235DA");
constexpr auto kTag5 = Hex<20>("4C1A03424B55E07FE7F27BE1D58BB9324A9A5A04");
constexpr auto kTag6 = Hex<20>("AA4AE5E15272D00E95705637CE8A3B55ED402112");
constexpr auto kTag7 = Hex<20>("E8E99D0F45237D786D6BBAA7965C7808BBFF1A91");

constexpr char kData1[] = "Hi There";
constexpr char kKey2[] = "Jefe";
constexpr char kData2[] = "what do ya want for nothing?";
constexpr char kData5[] = "Test With Truncation";
constexpr char kData6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
constexpr char kData7[] =
    "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";

const uint8_t* U8(const char* s) { return reinterpret_cast<const uint8_t*>(s); }
constexpr int Len(size_t with_nul) { return static_cast<int>(with_nul - 1); }

const srtp_auth_test_case_t kHmacCase8 = {.key_length_octets = 80,
                                        .key = kKeyAa80.v,
                                        .data_length_octets = Len(sizeof kData7),
                                        .data = U8(kData7),
                                        .tag_length_octets = 20,
                                        .tag = kTag7.v,
                                        .next_test_case = nullptr};
const srtp_auth_test_case_t kHmacCase7 = {.key_length_octets = 80,
                                        .key = kKeyAa80.v,
                                        .data_length_octets = Len(sizeof kData6),
                                        .data = U8(kData6),
                                        .tag_length_octets = 20,
                                        .tag = kTag6.v,
                                        .next_test_case = &kHmacCase8};
const srtp_auth_test_case_t kHmacCase6 = {.key_length_octets = 20,
                                        .key = kKey0c.v,
                                        .data_length_octets = Len(sizeof kData5),
                                        .data = U8(kData5),
                                        .tag_length_octets = 12,  // HMAC-SHA1-96
                                        .tag = kTag5.v,
                                        .next_test_case = &kHmacCase7};
const srtp_auth_test_case_t kHmacCase5 = {.key_length_octets = 20,
                                        .key = kKey0c.v,
                                        .data_length_octets = Len(sizeof kData5),
                                        .data = U8(kData5),
                                        .tag_length_octets = 20,
                                        .tag = kTag5.v,
                                        .next_test_case = &kHmacCase6};
const srtp_auth_test_case_t kHmacCase4 = {.key_length_octets = 25,
                                        .key = kKey0102.v,
                                        .data_length_octets = 50,
                                        .data = kDataCd.v,
                                        .tag_length_octets = 20,
                                        .tag = kTag4.v,
                                        .next_test_case = &kHmacCase5};
const srtp_auth_test_case_t kHmacCase3 = {.key_length_octets = 20,
                                        .key = kKeyAa20.v,
                                        .data_length_octets = 50,
                                        .data = kDataDd.v,
                                        .tag_length_octets = 20,
                                        .tag = kTag3.v,
                                        .next_test_case = &kHmacCase4};
const srtp_auth_test_case_t kHmacCase2 = {.key_length_octets = Len(sizeof kKey2),
                                        .key = U8(kKey2),
                                        .data_length_octets = Len(sizeof kData2),
                                        .data = U8(kData2),
                                        .tag_length_octets = 20,
                                        .tag = kTag2.v,
                                        .next_test_case = &kHmacCase3};
const srtp_auth_test_case_t kHmacCase1 = {.key_length_octets = 20,
                                        .key = kKey0b.v,
                                        .data_length_octets = Len(sizeof kData1),
                                        .data = U8(kData1),
                                        .tag_length_octets = 20,
                                        .tag = kTag1.v,
                                        .next_test_case = &kHmacCase2};

const srtp_cipher_type_t kOpenSslAesIcm128 = {
    .alloc = IcmAlloc,
    .dealloc = IcmDealloc,
    .init = IcmInit,
    .set_aad = nullptr,  // counter mode has no associated data
    .encrypt = IcmEncrypt,
    .decrypt = IcmEncrypt,  // the same XOR
    .set_iv = IcmSetIv,
    .get_tag = nullptr,  // nor a tag
    .description = "AES-128 counter mode over OpenSSL EVP (callsim)",
    .test_data = &kIcmCase1,
    .id = SRTP_AES_ICM_128};

const srtp_auth_type_t kOpenSslHmacSha1 = {.alloc = HmacAlloc,
                                           .dealloc = HmacDealloc,
                                           .init = HmacInit,
                                           .compute = HmacCompute,
                                           .update = HmacUpdate,
                                           .start = HmacStart,
                                           .description = "HMAC-SHA1 over OpenSSL EVP (callsim)",
                                           .test_data = &kHmacCase1,
                                           .id = SRTP_HMAC_SHA1};

}  // namespace

const srtp_cipher_type_t& OpenSslAesIcm128() { return kOpenSslAesIcm128; }
const srtp_auth_type_t& OpenSslHmacSha1() { return kOpenSslHmacSha1; }

srtp_err_status_t InstallOpenSslSrtpPrimitives() {
  const srtp_err_status_t cipher = srtp_replace_cipher_type(&kOpenSslAesIcm128, SRTP_AES_ICM_128);
  if (cipher != srtp_err_status_ok) return cipher;
  return srtp_replace_auth_type(&kOpenSslHmacSha1, SRTP_HMAC_SHA1);
}

}  // namespace callsim::agent::sip
