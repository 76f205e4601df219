#include "agent/media/rtp.h"

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

namespace callsim::agent {
namespace {

using Bytes = std::vector<uint8_t>;

// V=2, no padding, no extension, CC=0; M=1, PT=96; seq 0x1234; timestamp 0x00000320 (800);
// SSRC 0xDEADBEEF; payload 01 02 03.
const Bytes kSimple = {0x80, 0xE0, 0x12, 0x34, 0x00, 0x00, 0x03, 0x20,
                       0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03};

// V=2, X=1, CC=1; M=0, PT=0; seq 0xFFFF; timestamp 0xFFFFFF60; SSRC 0x11223344;
// CSRC 0x55667788; extension profile 0xBEDE, 1 word: 01 02 03 04; payload AA BB.
const Bytes kCsrcAndExtension = {0x91, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x60, 0x11,
                                 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xBE, 0xDE,
                                 0x00, 0x01, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB};

TEST(RtpTest, ParsesKnownBytes) {
  RtpPacket p;
  std::string error;
  ASSERT_TRUE(ParseRtp(kSimple, &p, &error)) << error;
  EXPECT_TRUE(p.marker);
  EXPECT_EQ(p.payload_type, 96);
  EXPECT_EQ(p.sequence, 0x1234);
  EXPECT_EQ(p.timestamp, 800u);
  EXPECT_EQ(p.ssrc, 0xDEADBEEFu);
  EXPECT_TRUE(p.csrcs.empty());
  EXPECT_FALSE(p.has_extension);
  EXPECT_EQ(p.payload, (Bytes{1, 2, 3}));
}

TEST(RtpTest, ParsesCsrcAndExtension) {
  RtpPacket p;
  std::string error;
  ASSERT_TRUE(ParseRtp(kCsrcAndExtension, &p, &error)) << error;
  EXPECT_FALSE(p.marker);
  EXPECT_EQ(p.payload_type, 0);
  EXPECT_EQ(p.sequence, 0xFFFF);
  EXPECT_EQ(p.timestamp, 0xFFFFFF60u);
  EXPECT_EQ(p.ssrc, 0x11223344u);
  EXPECT_EQ(p.csrcs, (std::vector<uint32_t>{0x55667788u}));
  EXPECT_TRUE(p.has_extension);
  EXPECT_EQ(p.extension_profile, 0xBEDE);
  EXPECT_EQ(p.extension_data, (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(p.payload, (Bytes{0xAA, 0xBB}));
}

TEST(RtpTest, ViewPointsAtThePayloadPastCsrcAndExtension) {
  RtpView v;
  std::string error;
  ASSERT_TRUE(ParseRtpView(kCsrcAndExtension, &v, &error)) << error;
  EXPECT_EQ(v.sequence, 0xFFFF);
  EXPECT_EQ(v.timestamp, 0xFFFFFF60u);
  EXPECT_EQ(v.ssrc, 0x11223344u);
  ASSERT_EQ(v.payload.size(), 2u);
  EXPECT_EQ(v.payload.data(), kCsrcAndExtension.data() + kCsrcAndExtension.size() - 2);
  EXPECT_EQ(Bytes(v.payload.begin(), v.payload.end()), (Bytes{0xAA, 0xBB}));
}

TEST(RtpTest, StripsPadding) {
  // P=1; payload 01 02, then 3 bytes of padding whose last byte is the count.
  const Bytes bytes = {0xA0, 0x08, 0x00, 0x01, 0,    0,    0,    0,   0,
                       0,    0,    1,    0x01, 0x02, 0x00, 0x00, 0x03};
  RtpPacket p;
  std::string error;
  ASSERT_TRUE(ParseRtp(bytes, &p, &error)) << error;
  EXPECT_EQ(p.payload_type, 8);
  EXPECT_EQ(p.payload, (Bytes{1, 2}));
}

TEST(RtpTest, PaddingMayFillEverythingAfterTheHeader) {
  const Bytes bytes = {0xA0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x00, 0x00, 0x04};
  RtpPacket p;
  ASSERT_TRUE(ParseRtp(bytes, &p, nullptr));
  EXPECT_TRUE(p.payload.empty());
}

// The packet kSimple holds.
RtpPacket SimplePacket() {
  RtpPacket p;
  p.marker = true;
  p.payload_type = 96;
  p.sequence = 0x1234;
  p.timestamp = 800;
  p.ssrc = 0xDEADBEEF;
  p.payload = {1, 2, 3};
  return p;
}

TEST(RtpTest, SerializesToKnownBytes) {
  EXPECT_EQ(SerializeRtp(SimplePacket()), kSimple);

  RtpPacket q;
  ASSERT_TRUE(ParseRtp(kCsrcAndExtension, &q, nullptr));
  EXPECT_EQ(SerializeRtp(q), kCsrcAndExtension);
}

// Into a buffer that held a bigger packet: the same bytes, in the same memory.
TEST(RtpTest, SerializesIntoAReusedBufferWithoutAllocating) {
  RtpPacket q;
  ASSERT_TRUE(ParseRtp(kCsrcAndExtension, &q, nullptr));
  Bytes buffer(700, 0xEE);
  const uint8_t* memory = buffer.data();
  SerializeRtpInto(q, &buffer);
  EXPECT_EQ(buffer, kCsrcAndExtension);
  SerializeRtpInto(SimplePacket(), &buffer);
  EXPECT_EQ(buffer, kSimple);
  EXPECT_EQ(buffer.data(), memory);
}

TEST(RtpTest, RoundTripsEveryField) {
  RtpPacket p;
  p.marker = false;
  p.payload_type = 127;
  p.sequence = 65535;
  p.timestamp = 0x89ABCDEF;
  p.ssrc = 0x01020304;
  for (uint32_t i = 0; i < 15; ++i) p.csrcs.push_back(0x10000000u + i);
  p.has_extension = true;
  p.extension_profile = 0x1000;
  p.extension_data = {9, 8, 7, 6, 5, 4, 3, 2};
  p.payload.assign(640, 0x5A);
  const Bytes bytes = SerializeRtp(p);
  EXPECT_EQ(bytes.size(), 12u + 60 + 4 + 8 + 640);
  RtpPacket q;
  std::string error;
  ASSERT_TRUE(ParseRtp(bytes, &q, &error)) << error;
  EXPECT_EQ(q.marker, p.marker);
  EXPECT_EQ(q.payload_type, p.payload_type);
  EXPECT_EQ(q.sequence, p.sequence);
  EXPECT_EQ(q.timestamp, p.timestamp);
  EXPECT_EQ(q.ssrc, p.ssrc);
  EXPECT_EQ(q.csrcs, p.csrcs);
  EXPECT_EQ(q.has_extension, p.has_extension);
  EXPECT_EQ(q.extension_profile, p.extension_profile);
  EXPECT_EQ(q.extension_data, p.extension_data);
  EXPECT_EQ(q.payload, p.payload);
}

TEST(RtpTest, ReusedOutputIsFullyOverwritten) {
  RtpPacket p;
  ASSERT_TRUE(ParseRtp(kCsrcAndExtension, &p, nullptr));
  ASSERT_TRUE(ParseRtp(kSimple, &p, nullptr));
  EXPECT_TRUE(p.csrcs.empty());
  EXPECT_FALSE(p.has_extension);
  EXPECT_EQ(p.extension_profile, 0);
  EXPECT_TRUE(p.extension_data.empty());
  EXPECT_EQ(p.payload, (Bytes{1, 2, 3}));
}

struct Malformed {
  const char* name;
  Bytes bytes;
  const char* reason;  // a phrase the error must contain
};

// gtest prints a parameter it cannot format as raw bytes; name the case instead.
void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class RtpMalformedTest : public testing::TestWithParam<Malformed> {};

TEST_P(RtpMalformedTest, IsRejectedWithAReason) {
  const Malformed& m = GetParam();
  RtpPacket p;
  p.sequence = 4242;  // must survive a rejected parse
  std::string error;
  EXPECT_FALSE(ParseRtp(m.bytes, &p, &error));
  EXPECT_NE(error.find(m.reason), std::string::npos) << "error was: " << error;
  EXPECT_EQ(p.sequence, 4242);
  EXPECT_FALSE(ParseRtp(m.bytes, &p, nullptr));  // no error sink is fine too
  RtpView view;
  std::string view_error;
  EXPECT_FALSE(ParseRtpView(m.bytes, &view, &view_error));
  EXPECT_EQ(view_error, error);  // the same checks, the same reason
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RtpMalformedTest,
    testing::Values(
        Malformed{"Empty", {}, "too short: 0 bytes"},
        Malformed{"ElevenBytes", {0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, "too short: 11 bytes"},
        Malformed{"Version1", {0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "version 1, expected 2"},
        Malformed{"Version0", {0x00, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9}, "version 0"},
        // CC=2 needs 8 bytes after the fixed header; 4 are there.
        Malformed{"CsrcPastEnd",
                  {0x82, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4},
                  "CSRC list (2 entries)"},
        Malformed{
            "CsrcCount15NoRoom", {0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "CSRC list (15 entries)"},
        // X=1 but only 2 bytes of the 4-byte extension header.
        Malformed{"ExtensionHeaderPastEnd",
                  {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE},
                  "extension header at byte 12"},
        // X=1, length 2 words, but only one word follows.
        Malformed{"ExtensionDataPastEnd",
                  {0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x02, 1, 2, 3, 4},
                  "extension of 2 words"},
        // X=1 after a CSRC: the extension header would start at byte 16.
        Malformed{"ExtensionAfterCsrcPastEnd",
                  {0x91, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 0xBE},
                  "extension header at byte 16"},
        Malformed{"PadLengthZero",
                  {0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7, 7, 0},
                  "pad length (last byte) is 0"},
        Malformed{"PadLengthTooLarge",
                  {0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 7, 7, 4},
                  "pad length 4 exceeds the 3 bytes"},
        // P=1 with nothing after the header: the "pad length" would be a header byte.
        Malformed{
            "PaddingWithNoRoom", {0xA0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "exceeds the 0 bytes"}),
    [](const testing::TestParamInfo<Malformed>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace callsim::agent
