#include "agent/sip/srtp_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/media/rtp.h"

namespace callsim::agent::sip {
namespace {

const std::string kKey = std::string(16, '\x11') + std::string(14, '\x22');

std::vector<uint8_t> Rtp(uint16_t sequence) {
  RtpPacket p;
  p.payload_type = 0;
  p.sequence = sequence;
  p.timestamp = 160u * sequence;
  p.ssrc = 0x1234abcd;
  p.payload.assign(160, static_cast<uint8_t>(sequence));
  return SerializeRtp(p);
}

std::unique_ptr<SrtpSession> Make(SrtpSession::Direction d, const std::string& key) {
  std::string error;
  auto s = SrtpSession::Create(d, key, &error);
  EXPECT_NE(s, nullptr) << error;
  return s;
}

TEST(SrtpSession, WhatOneSideProtectsTheOtherRecoversExactly) {
  auto tx = Make(SrtpSession::Direction::kSend, kKey);
  auto rx = Make(SrtpSession::Direction::kReceive, kKey);
  for (uint16_t seq = 1; seq <= 5; ++seq) {
    const std::vector<uint8_t> clear = Rtp(seq);
    std::vector<uint8_t> wire = clear;
    ASSERT_TRUE(tx->ProtectRtp(&wire));
    EXPECT_EQ(wire.size(), clear.size() + 10);  // the 80-bit tag
    EXPECT_NE(std::vector<uint8_t>(wire.begin() + 12, wire.begin() + 172),
              std::vector<uint8_t>(clear.begin() + 12, clear.end()));  // the payload is encrypted
    ASSERT_TRUE(rx->UnprotectRtp(&wire));
    EXPECT_EQ(wire, clear);
  }
  EXPECT_EQ(tx->stats().protected_packets, 5u);
  EXPECT_EQ(rx->stats().unprotected_packets, 5u);
}

TEST(SrtpSession, AReplayedPacketIsDroppedAndCounted) {
  auto tx = Make(SrtpSession::Direction::kSend, kKey);
  auto rx = Make(SrtpSession::Direction::kReceive, kKey);
  std::vector<uint8_t> wire = Rtp(7);
  ASSERT_TRUE(tx->ProtectRtp(&wire));
  std::vector<uint8_t> first = wire, again = wire;
  EXPECT_TRUE(rx->UnprotectRtp(&first));
  EXPECT_FALSE(rx->UnprotectRtp(&again));
  EXPECT_EQ(rx->stats().replays, 1u);
  EXPECT_EQ(rx->stats().unprotected_packets, 1u);
}

TEST(SrtpSession, OneFlippedBitFailsAuthenticationAndTheStreamGoesOn) {
  auto tx = Make(SrtpSession::Direction::kSend, kKey);
  auto rx = Make(SrtpSession::Direction::kReceive, kKey);
  std::vector<uint8_t> a = Rtp(1), b = Rtp(2);
  ASSERT_TRUE(tx->ProtectRtp(&a));
  ASSERT_TRUE(tx->ProtectRtp(&b));
  a[40] ^= 0x01;
  EXPECT_FALSE(rx->UnprotectRtp(&a));
  EXPECT_EQ(rx->stats().auth_failures, 1u);
  EXPECT_TRUE(rx->UnprotectRtp(&b));
  EXPECT_EQ(b, Rtp(2));
}

TEST(SrtpSession, AWrongKeyYieldsNoPacketAtAll) {
  auto tx = Make(SrtpSession::Direction::kSend, kKey);
  auto rx = Make(SrtpSession::Direction::kReceive, std::string(30, '\x33'));
  for (uint16_t seq = 1; seq <= 20; ++seq) {
    std::vector<uint8_t> wire = Rtp(seq);
    ASSERT_TRUE(tx->ProtectRtp(&wire));
    EXPECT_FALSE(rx->UnprotectRtp(&wire));
  }
  EXPECT_EQ(rx->stats().auth_failures, 20u);
  EXPECT_EQ(rx->stats().unprotected_packets, 0u);
}

TEST(SrtpSession, RtcpRoundTripsAndTooShortPacketsAreMalformed) {
  auto tx = Make(SrtpSession::Direction::kSend, kKey);
  auto rx = Make(SrtpSession::Direction::kReceive, kKey);
  // An empty receiver report: V=2, RC=0, PT=201, length 1 (two words), SSRC.
  const std::vector<uint8_t> rr = {0x80, 201, 0x00, 0x01, 0x12, 0x34, 0xab, 0xcd};
  std::vector<uint8_t> wire = rr;
  ASSERT_TRUE(tx->ProtectRtcp(&wire));
  EXPECT_EQ(wire.size(), rr.size() + 4 + 10);  // the E bit and index, then the tag
  ASSERT_TRUE(rx->UnprotectRtcp(&wire));
  EXPECT_EQ(wire, rr);
  std::vector<uint8_t> tiny = {0x80, 0x00, 0x00};
  EXPECT_FALSE(rx->UnprotectRtp(&tiny));
  EXPECT_EQ(rx->stats().malformed, 1u);
}

TEST(SrtpSession, AKeyOfTheWrongLengthIsRefused) {
  std::string error;
  EXPECT_EQ(SrtpSession::Create(SrtpSession::Direction::kSend, std::string(29, 'k'), &error), nullptr);
  EXPECT_EQ(error, "SRTP needs a 30-byte key and salt, got 29");
}

}  // namespace
}  // namespace callsim::agent::sip
