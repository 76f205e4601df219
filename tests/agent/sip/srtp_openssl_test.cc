#include "agent/sip/srtp_openssl.h"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/sip/srtp_session.h"

// libsrtp2 exports this (the kernel's current type for an id) without installing its header.
extern "C" const srtp_cipher_type_t* srtp_crypto_kernel_get_cipher_type(srtp_cipher_type_id_t id);
extern "C" const srtp_auth_type_t* srtp_crypto_kernel_get_auth_type(srtp_auth_type_id_t id);

namespace callsim::agent::sip {
namespace {

std::vector<uint8_t> Hex(const std::string& text) {
  std::vector<uint8_t> out;
  int half = -1;
  for (char c : text) {
    if (c == ' ' || c == '\n') continue;
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (half < 0) {
      half = v;
    } else {
      out.push_back(static_cast<uint8_t>(half << 4 | v));
      half = -1;
    }
  }
  EXPECT_EQ(half, -1) << text;
  return out;
}

// alloc, init, set_iv and encrypt of our AES-128 ICM, the way libsrtp2 drives a cipher.
struct Icm {
  srtp_cipher_t* c = nullptr;
  explicit Icm(const std::vector<uint8_t>& key_salt) {
    EXPECT_EQ(OpenSslAesIcm128().alloc(&c, 30, 0), srtp_err_status_ok);
    EXPECT_EQ(c->type, &OpenSslAesIcm128());
    EXPECT_EQ(c->algorithm, SRTP_AES_ICM_128);
    EXPECT_EQ(c->key_len, 30);
    EXPECT_EQ(c->type->init(c->state, key_salt.data()), srtp_err_status_ok);
  }
  ~Icm() { c->type->dealloc(c); }
  void SetIv(std::vector<uint8_t> iv) {
    ASSERT_EQ(c->type->set_iv(c->state, iv.data(), srtp_direction_encrypt), srtp_err_status_ok);
  }
  // XORs the keystream into `data`, in pieces of the given sizes (the rest in one last piece).
  void Crypt(std::vector<uint8_t>* data, std::vector<unsigned> pieces = {}) {
    unsigned done = 0;
    pieces.push_back(static_cast<unsigned>(data->size()));
    for (unsigned piece : pieces) {
      unsigned n = std::min<unsigned>(piece, static_cast<unsigned>(data->size()) - done);
      ASSERT_EQ(c->type->encrypt(c->state, data->data() + done, &n), srtp_err_status_ok);
      done += n;
    }
  }
};

std::vector<uint8_t> Iv(uint8_t byte7, uint16_t last) {
  std::vector<uint8_t> iv(16, 0);
  iv[7] = byte7;
  iv[14] = static_cast<uint8_t>(last >> 8);
  iv[15] = static_cast<uint8_t>(last);
  return iv;
}

TEST(SrtpOpenSsl, LibsrtpsOwnSelfTestPassesOnEachTypesVectors) {
  EXPECT_EQ(srtp_cipher_type_self_test(&OpenSslAesIcm128()), srtp_err_status_ok);
  EXPECT_EQ(srtp_auth_type_self_test(&OpenSslHmacSha1()), srtp_err_status_ok);
  int cipher_cases = 0, auth_cases = 0;
  for (auto* t = OpenSslAesIcm128().test_data; t != nullptr; t = t->next_test_case) ++cipher_cases;
  for (auto* t = OpenSslHmacSha1().test_data; t != nullptr; t = t->next_test_case) ++auth_cases;
  EXPECT_EQ(cipher_cases, 5);  // RFC 3711 B.2 twice, RFC 3686 #1 to #3
  EXPECT_EQ(auth_cases, 8);    // RFC 2202 1 to 7, and 5 truncated to 96 bits
}

TEST(SrtpOpenSsl, EveryCipherVectorEncryptsAndDecryptsInOneCallOrInPieces) {
  for (auto* t = OpenSslAesIcm128().test_data; t != nullptr; t = t->next_test_case) {
    const std::vector<uint8_t> key(t->key, t->key + t->key_length_octets);
    const std::vector<uint8_t> iv(t->idx, t->idx + 16);
    const std::vector<uint8_t> plain(t->plaintext, t->plaintext + t->plaintext_length_octets);
    const std::vector<uint8_t> cipher(t->ciphertext, t->ciphertext + t->ciphertext_length_octets);
    Icm icm(key);
    for (const std::vector<unsigned>& pieces :
         std::vector<std::vector<unsigned>>{{}, {1, 15, 3}, {5, 5, 5, 5, 5}}) {
      std::vector<uint8_t> data = plain;
      icm.SetIv(iv);
      icm.Crypt(&data, pieces);
      EXPECT_EQ(data, cipher);
      icm.SetIv(iv);  // decrypting is the same XOR, from the start of the keystream again
      icm.Crypt(&data, pieces);
      EXPECT_EQ(data, plain);
    }
  }
}

// Written out here, not taken from the type's own test_data.
TEST(SrtpOpenSsl, Rfc3711AppendixB2Keystream) {
  Icm icm(Hex("2B7E151628AED2A6ABF7158809CF4F3C F0F1F2F3F4F5F6F7F8F9FAFBFCFD"));
  std::vector<uint8_t> stream(48, 0);
  icm.SetIv(Iv(0, 0));
  icm.Crypt(&stream);
  EXPECT_EQ(stream, Hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                        "41E95B3BB0A2E8DD477901E4FCA894C0"));
  stream.assign(48, 0);
  icm.SetIv(Iv(0, 0xfeff));
  icm.Crypt(&stream, {7});
  EXPECT_EQ(stream, Hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                        "6A2CC3787889374FBEB4C81B17BA6C44"));
}

// RFC 3711 appendix B.3: the KDF is this cipher keyed with the master key and salt, its IV the
// label in byte 7, its output the keystream over zeros.
TEST(SrtpOpenSsl, Rfc3711AppendixB3KeyDerivation) {
  Icm icm(Hex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6"));
  std::vector<uint8_t> cipher_key(16, 0), auth_key(20, 0), salt(14, 0);
  icm.SetIv(Iv(0x00, 0));
  icm.Crypt(&cipher_key);
  icm.SetIv(Iv(0x01, 0));
  icm.Crypt(&auth_key);
  icm.SetIv(Iv(0x02, 0));
  icm.Crypt(&salt);
  EXPECT_EQ(cipher_key, Hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(auth_key, Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  EXPECT_EQ(salt, Hex("30CBBC08863D8C85D49DB34A9AE1"));
}

TEST(SrtpOpenSsl, CipherRefusesKeyLengthsOtherThanAes128WithSalt) {
  srtp_cipher_t* c = nullptr;
  EXPECT_EQ(OpenSslAesIcm128().alloc(&c, 16, 0), srtp_err_status_bad_param);
  EXPECT_EQ(OpenSslAesIcm128().alloc(&c, 46, 0), srtp_err_status_bad_param);
}

// alloc, init, then start/update/compute per message, as libsrtp2 uses an auth function.
struct Hmac {
  srtp_auth_t* a = nullptr;
  Hmac(const std::vector<uint8_t>& key, int out_len) {
    EXPECT_EQ(OpenSslHmacSha1().alloc(&a, static_cast<int>(key.size()), out_len),
              srtp_err_status_ok);
    EXPECT_EQ(a->type, &OpenSslHmacSha1());
    EXPECT_EQ(a->out_len, out_len);
    EXPECT_EQ(a->prefix_len, 0);
    EXPECT_EQ(a->type->init(a->state, key.data(), a->key_len), srtp_err_status_ok);
  }
  ~Hmac() { a->type->dealloc(a); }
  // The message in two parts: `split` bytes through update, the rest through compute.
  std::vector<uint8_t> Tag(const std::vector<uint8_t>& message, size_t split) {
    std::vector<uint8_t> tag(static_cast<size_t>(a->out_len), 0);
    EXPECT_EQ(a->type->start(a->state), srtp_err_status_ok);
    EXPECT_EQ(a->type->update(a->state, message.data(), static_cast<int>(split)),
              srtp_err_status_ok);
    EXPECT_EQ(a->type->compute(a->state, message.data() + split,
                               static_cast<int>(message.size() - split), a->out_len, tag.data()),
              srtp_err_status_ok);
    return tag;
  }
};

TEST(SrtpOpenSsl, EveryHmacVectorWhateverTheSplitAndAgainOnTheSameContext) {
  for (auto* t = OpenSslHmacSha1().test_data; t != nullptr; t = t->next_test_case) {
    const std::vector<uint8_t> key(t->key, t->key + t->key_length_octets);
    const std::vector<uint8_t> data(t->data, t->data + t->data_length_octets);
    const std::vector<uint8_t> tag(t->tag, t->tag + t->tag_length_octets);
    Hmac hmac(key, t->tag_length_octets);
    for (size_t split : {size_t{0}, data.size() / 2, data.size()}) {
      EXPECT_EQ(hmac.Tag(data, split), tag) << "split " << split;
    }
  }
}

// RFC 2202 cases 2 and 6 written out here (a key shorter than the digest; one longer than
// SHA-1's block, which is hashed first).
TEST(SrtpOpenSsl, Rfc2202Cases) {
  const std::string jefe = "Jefe", what = "what do ya want for nothing?";
  Hmac short_key(std::vector<uint8_t>(jefe.begin(), jefe.end()), 20);
  EXPECT_EQ(short_key.Tag(std::vector<uint8_t>(what.begin(), what.end()), 3),
            Hex("EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"));
  const std::string first = "Test Using Larger Than Block-Size Key - Hash Key First";
  Hmac long_key(std::vector<uint8_t>(80, 0xaa), 10);  // SRTP's 80-bit tag: the first 10 bytes
  EXPECT_EQ(long_key.Tag(std::vector<uint8_t>(first.begin(), first.end()), 20),
            Hex("AA4AE5E15272D00E9570"));
}

TEST(SrtpOpenSsl, HmacRefusesTagsLongerThanSha1) {
  srtp_auth_t* a = nullptr;
  EXPECT_EQ(OpenSslHmacSha1().alloc(&a, 20, 21), srtp_err_status_bad_param);
}

// The wire bytes below came from Debian 12's libsrtp2 2.5.0 with its own (NSS) primitives: a
// throwaway C program, same key, same packets, a sending session (ssrc_any_outbound, window 128)
// protecting RTP 1 to 3 and then RTCP 1 and 2. Ours must produce them byte for byte, and a
// receiving session must take them back.
const std::string kWireKey = [] {
  std::string k;
  for (int i = 0; i < 30; ++i) k.push_back(static_cast<char>(0xa0 + i * 3));
  return k;
}();

std::vector<uint8_t> ClearRtp(int seq) {
  std::vector<uint8_t> p(172);
  p[0] = 0x80;
  p[2] = static_cast<uint8_t>(seq >> 8), p[3] = static_cast<uint8_t>(seq);
  const uint32_t ts = 160u * static_cast<uint32_t>(seq);
  p[4] = static_cast<uint8_t>(ts >> 24), p[5] = static_cast<uint8_t>(ts >> 16);
  p[6] = static_cast<uint8_t>(ts >> 8), p[7] = static_cast<uint8_t>(ts);
  p[8] = 0x12, p[9] = 0x34, p[10] = 0xab, p[11] = 0xcd;
  for (int i = 0; i < 160; ++i) p[static_cast<size_t>(12 + i)] = static_cast<uint8_t>(seq * 7 + i);
  return p;
}

std::vector<uint8_t> ClearRtcp(int n) {  // a sender report with no report blocks
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x80, p[1] = 200, p[3] = 6;
  p[4] = 0x12, p[5] = 0x34, p[6] = 0xab, p[7] = 0xcd;
  for (int i = 8; i < 28; ++i) p[static_cast<size_t>(i)] = static_cast<uint8_t>(n * 13 + i);
  return p;
}

const char* const kNssRtp[] = {
    "80000001000000a01234abcd5ab296efa8c7ce88a0f7454c431ce57b12198ad9abc743b9a8d7952cb394aa1b"
    "ba9bcb1c123195f4a075cd704ac58586109d03ce6ac008c101b6852a526bcebc66d6f2784f522d2152805e07"
    "a6f4c3453482dcaace5ecee4e1725f570872d3e9eb28c8309e56e4d3d3ac9ac6c597d6a7f2fed48fb92d4a4f"
    "52c0b0b6f7be887581bf32f2b0571974bac0cef61bc05d76e7c160977fa87ab05e32d495bc053153c730efee"
    "66323fa255d3",
    "80000002000001401234abcd5e3556017ed426f222d97eb78014474db9f71ad5edfa0cfe753743a21db1a1e6"
    "a6f5a330b8e9094743683d1743fdd6057eb8e911665062a5b7e437767d0b922e8958f46060e7e58553a3b2ef"
    "b5ffffac17654b2f29bb3c794cb8aa9e075db140ee3d5e12833da48228fe58486bac087ed33d68430edd4ba9"
    "0e98584af5ed5a2dd66bfe9f5022c8e958c86e9ee4559abeec3653cbe0532a98d450976d88e38a11603082de"
    "3a63ac0dd880",
    "80000003000001e01234abcd290d744c77f5454441001a8a0009db56fe44e4debfad485c44009ca96834be2c"
    "d3263c5d0c0f7b603cadf8d014f4b43dae675a2cb0328b71f5ba05e214a1fcc0c69bedcdbeb0172fca465047"
    "51b2fee71b2a664d0291f4e5db13eca7f7930b17fbe9a735e839249eb22579ebd4246b6b6741c023ce19adaf"
    "5ae4eef87c8e69de37d2abfbca9a1d43598bbaffb8e5aed2775327bb80904ac4defe97f7af5c61dd18d30edf"
    "8e8ee6a87dca",
};
const char* const kNssRtcp[] = {
    "80c800061234abcdb50ed50cc995a2982ba17ce4f0129b47d13348f080000001da6ea68d7a1f6da7a8eb",
    "80c800061234abcdf76c7b8498c7856083a2b1c84c89fbe299e1303680000002cf7290f8b6e81d3cb67a",
};

TEST(SrtpOpenSsl, SessionsRunOnTheseTypesAndMatchLibsrtpsNssOutputByteForByte) {
  std::string error;
  auto tx = SrtpSession::Create(SrtpSession::Direction::kSend, kWireKey, &error);
  ASSERT_NE(tx, nullptr) << error;
  auto rx = SrtpSession::Create(SrtpSession::Direction::kReceive, kWireKey, &error);
  ASSERT_NE(rx, nullptr) << error;
  // Creating a session ran srtp_init and the replacement: the kernel now hands out ours.
  EXPECT_EQ(srtp_crypto_kernel_get_cipher_type(SRTP_AES_ICM_128), &OpenSslAesIcm128());
  EXPECT_EQ(srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1), &OpenSslHmacSha1());

  for (int seq = 1; seq <= 3; ++seq) {
    std::vector<uint8_t> packet = ClearRtp(seq);
    ASSERT_TRUE(tx->ProtectRtp(&packet));
    const std::vector<uint8_t> nss = Hex(kNssRtp[seq - 1]);
    EXPECT_EQ(packet, nss) << "RTP " << seq;
    std::vector<uint8_t> back = nss;
    ASSERT_TRUE(rx->UnprotectRtp(&back)) << "RTP " << seq;
    EXPECT_EQ(back, ClearRtp(seq));
  }
  for (int n = 1; n <= 2; ++n) {
    std::vector<uint8_t> packet = ClearRtcp(n);
    ASSERT_TRUE(tx->ProtectRtcp(&packet));
    const std::vector<uint8_t> nss = Hex(kNssRtcp[n - 1]);
    EXPECT_EQ(packet, nss) << "RTCP " << n;
    std::vector<uint8_t> back = nss;
    ASSERT_TRUE(rx->UnprotectRtcp(&back)) << "RTCP " << n;
    EXPECT_EQ(back, ClearRtcp(n));
  }
  // And the NSS bytes with one bit flipped in the payload, or in the tag, are refused.
  for (size_t at : {size_t{40}, size_t{180}}) {
    std::vector<uint8_t> tampered = Hex(kNssRtp[2]);
    tampered[at] ^= 0x01;
    auto fresh = SrtpSession::Create(SrtpSession::Direction::kReceive, kWireKey, &error);
    ASSERT_NE(fresh, nullptr) << error;
    EXPECT_FALSE(fresh->UnprotectRtp(&tampered));
    EXPECT_EQ(fresh->stats().auth_failures, 1u);
  }
  EXPECT_EQ(rx->stats().unprotected_packets, 5u);
  EXPECT_EQ(rx->stats().auth_failures, 0u);
}

}  // namespace
}  // namespace callsim::agent::sip
