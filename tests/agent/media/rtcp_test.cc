#include "agent/media/rtcp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

RtcpReportBlock Block(uint32_t ssrc, int32_t lost) {
  return {ssrc, 12, lost, 70000, 160, 0x12345678, 65536};
}

TEST(Rtcp, ASenderReportRoundTripsWithItsBlocks) {
  RtcpReport sr;
  sr.type = kRtcpSenderReport;
  sr.ssrc = 0xdeadbeef;
  sr.ntp_timestamp = 0xe1234567'89abcdefULL;
  sr.rtp_timestamp = 48000;
  sr.packet_count = 300;
  sr.octet_count = 48000;
  sr.blocks = {Block(1, 3), Block(2, -5)};
  const std::vector<uint8_t> bytes = SerializeRtcp(sr);
  ASSERT_EQ(bytes.size(), 28u + 2 * 24);
  EXPECT_EQ(bytes[0], 0x82);  // V=2, RC=2
  EXPECT_EQ(bytes[1], 200);
  EXPECT_EQ(bytes[3], bytes.size() / 4 - 1);  // length in words minus one
  std::string error;
  const auto parsed = ParseRtcp(bytes, &error);
  ASSERT_TRUE(parsed) << error;
  ASSERT_EQ(parsed->reports.size(), 1u);
  EXPECT_EQ(parsed->reports[0], sr);
  EXPECT_EQ(parsed->reports[0].blocks[1].cumulative_lost, -5);  // 24-bit two's complement
}

TEST(Rtcp, ACompoundPacketReadsSdesAndByeAndSkipsOtherTypesByLength) {
  RtcpReport rr;
  rr.ssrc = 7;
  rr.blocks = {Block(9, 0)};
  std::vector<uint8_t> compound = SerializeRtcp(rr);
  // An SDES packet (type 202) of one chunk with a NAME item (2) before the CNAME: 5 words after
  // the header, the null octet ending the items and two of padding.
  const std::vector<uint8_t> sdes = {0x81, 202, 0, 5, 0, 0, 0, 7, 2, 3, 'B', 'o', 'b',
                                     1, 6, 'c', 'a', 'l', 'l', 's', 'i', 0, 0, 0};
  // An APP packet (204) and a transport feedback packet (205): skipped by their length.
  const std::vector<uint8_t> app = {0x80, 204, 0, 2, 0, 0, 0, 7, 'n', 'a', 'm', 'e'};
  const std::vector<uint8_t> feedback = {0x81, 205, 0, 2, 0, 0, 0, 7, 0, 0, 0, 9};
  for (const auto* part : {&sdes, &app, &feedback}) {
    compound.insert(compound.end(), part->begin(), part->end());
  }
  const std::vector<uint8_t> bye = SerializeBye(7);
  compound.insert(compound.end(), bye.begin(), bye.end());
  compound.insert(compound.end(), sdes.begin(), sdes.begin() + 4);  // truncated: refused whole
  std::string error;
  EXPECT_FALSE(ParseRtcp(compound, &error));
  EXPECT_EQ(error, "RTCP packet at byte 88: its length runs past the end");
  compound.resize(compound.size() - 4);
  const auto parsed = ParseRtcp(compound, &error);
  ASSERT_TRUE(parsed) << error;
  ASSERT_EQ(parsed->reports.size(), 1u);
  EXPECT_EQ(parsed->reports[0], rr);
  EXPECT_EQ(parsed->cnames, (std::vector<RtcpCname>{{7, "callsi"}}));
  EXPECT_EQ(parsed->byes, (std::vector<uint32_t>{7}));
}

TEST(Rtcp, SdesCnameAndByeRoundTrip) {
  std::string error;
  // Every CNAME length lands on a word boundary with at least one null octet after the item.
  for (const size_t n : {0u, 1u, 2u, 5u, 6u, 255u}) {
    const std::vector<uint8_t> bytes = SerializeSdesCname(0xabcdef01, std::string(n, 'x'));
    EXPECT_EQ(bytes.size() % 4, 0u);
    EXPECT_EQ(bytes[3], bytes.size() / 4 - 1);
    EXPECT_EQ(bytes.back(), 0);
    const auto parsed = ParseRtcp(bytes, &error);
    ASSERT_TRUE(parsed) << error;
    EXPECT_EQ(parsed->cnames, (std::vector<RtcpCname>{{0xabcdef01, std::string(n, 'x')}}));
  }
  // Longer than an item can say: cut to 255 bytes.
  const auto cut = ParseRtcp(SerializeSdesCname(1, std::string(300, 'y')), &error);
  ASSERT_TRUE(cut) << error;
  EXPECT_EQ(cut->cnames[0].cname, std::string(kMaxSdesItemBytes, 'y'));
  const std::vector<uint8_t> bye = SerializeBye(0x01020304);
  EXPECT_EQ(bye, (std::vector<uint8_t>{0x81, 203, 0, 1, 1, 2, 3, 4}));
  // A chunk that ends with its packet, without the null item, is still read.
  const auto lenient = ParseRtcp(std::vector<uint8_t>{0x81, 202, 0, 2, 0, 0, 0, 5, 1, 2, 'a', 'b'},
                                 &error);
  ASSERT_TRUE(lenient) << error;
  EXPECT_EQ(lenient->cnames, (std::vector<RtcpCname>{{5, "ab"}}));
}

TEST(Rtcp, MalformedPacketsAreRefusedWithAReason) {
  std::string error;
  EXPECT_FALSE(ParseRtcp(std::vector<uint8_t>{0x40, 201, 0, 1, 0, 0, 0, 1}, &error));
  EXPECT_EQ(error, "RTCP packet at byte 0: not version 2 or truncated");
  EXPECT_FALSE(ParseRtcp(std::vector<uint8_t>{0x80, 201}, &error));
  // RC=1 but no room for the block.
  EXPECT_FALSE(ParseRtcp(std::vector<uint8_t>{0x81, 201, 0, 1, 0, 0, 0, 1}, &error));
  EXPECT_EQ(error, "RTCP RR at byte 0: 1 report blocks do not fit in 8 bytes");
  // SDES: two chunks announced, one there; an item longer than its packet.
  EXPECT_FALSE(ParseRtcp(std::vector<uint8_t>{0x82, 202, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0}, &error));
  EXPECT_EQ(error, "RTCP SDES at byte 0: chunk 2 of 2 does not fit");
  EXPECT_FALSE(
      ParseRtcp(std::vector<uint8_t>{0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 'a', 'b'}, &error));
  EXPECT_EQ(error, "RTCP SDES at byte 0: an item of chunk 1 runs past the packet");
  // BYE: two sources announced, one there.
  EXPECT_FALSE(ParseRtcp(std::vector<uint8_t>{0x82, 203, 0, 1, 0, 0, 0, 1}, &error));
  EXPECT_EQ(error, "RTCP BYE at byte 0: 2 sources do not fit in 8 bytes");
}

TEST(RtpReceptionStats, LossAcrossASequenceWrapFollowsAppendixA3) {
  RtpReceptionStats s;
  // 65530 .. 65545 (wrapping at 65536) with 65533, 1 and 4 lost: 16 expected, 13 received.
  for (uint32_t seq = 65530; seq <= 65545; ++seq) {
    const uint16_t wire = static_cast<uint16_t>(seq);
    if (wire == 65533 || wire == 1 || wire == 4) continue;
    s.Add(wire);
  }
  EXPECT_EQ(s.extended_highest(), 65536u + 9);
  EXPECT_EQ(s.expected(), 16);
  const RtcpReportBlock first = s.MakeBlock(42, 80);
  EXPECT_EQ(first.cumulative_lost, 3);
  EXPECT_EQ(first.fraction_lost, 3 * 256 / 16);
  EXPECT_EQ(first.extended_highest_sequence, 65545u);
  EXPECT_EQ(first.jitter, 80u);
  // The next interval loses nothing: fraction 0, the cumulative count stays.
  for (uint16_t seq = 10; seq < 20; ++seq) s.Add(seq);
  const RtcpReportBlock second = s.MakeBlock(42, 80);
  EXPECT_EQ(second.fraction_lost, 0);
  EXPECT_EQ(second.cumulative_lost, 3);
}

TEST(RtpReceptionStats, LateAndDuplicatePacketsDoNotMoveTheHighestAndCanMakeLossNegative) {
  RtpReceptionStats s;
  for (uint16_t seq : {100, 101, 103, 102, 103, 103}) s.Add(seq);
  EXPECT_EQ(s.extended_highest(), 103u);
  EXPECT_EQ(s.expected(), 4);
  EXPECT_EQ(s.received(), 6);
  const RtcpReportBlock b = s.MakeBlock(1, 0);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.fraction_lost, 0);
}

}  // namespace
}  // namespace callsim::agent
