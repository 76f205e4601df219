#include "agent/media/g711.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace callsim::agent {
namespace {

// An independent reference: the textbook segment search over the ITU segment end points, with
// the classic clip at 32635 (the same codes as clipping by segment overflow).
uint8_t ReferenceEncode(int sample) {
  static constexpr int kSegmentEnd[8] = {0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF};
  int mask = 0xFF;
  if (sample < 0) {
    sample = -sample;
    mask = 0x7F;
  }
  if (sample > 32635) sample = 32635;
  sample += 0x84;
  int segment = 0;
  while (sample > kSegmentEnd[segment]) ++segment;
  return static_cast<uint8_t>(((segment << 4) | ((sample >> (segment + 3)) & 0x0F)) ^ mask);
}

TEST(G711Test, EncodesKnownSamplesToItuCodes) {
  EXPECT_EQ(LinearToMulaw(0), 0xFF);
  EXPECT_EQ(LinearToMulaw(-1), 0x7F);
  EXPECT_EQ(LinearToMulaw(32767), 0x80);
  EXPECT_EQ(LinearToMulaw(-32768), 0x00);
  EXPECT_EQ(LinearToMulaw(32124), 0x80);  // the top code's own value
  EXPECT_EQ(LinearToMulaw(100), 0xF2);    // segment 0, mantissa 13
  EXPECT_EQ(LinearToMulaw(1000), 0xCE);   // segment 3, mantissa 1
  EXPECT_EQ(LinearToMulaw(-1000), 0x4E);
}

TEST(G711Test, DecodesKnownCodes) {
  EXPECT_EQ(MulawToLinear(0xFF), 0);
  EXPECT_EQ(MulawToLinear(0x7F), 0);
  EXPECT_EQ(MulawToLinear(0x80), 32124);
  EXPECT_EQ(MulawToLinear(0x00), -32124);
  EXPECT_EQ(MulawToLinear(0xCE), 988);
  EXPECT_EQ(MulawToLinear(0x4E), -988);
  EXPECT_EQ(MulawToLinear(0xFE), 8);  // the smallest non-zero step
}

TEST(G711Test, MatchesReferenceForEverySample) {
  for (int sample = -32768; sample <= 32767; ++sample) {
    ASSERT_EQ(LinearToMulaw(static_cast<int16_t>(sample)), ReferenceEncode(sample)) << sample;
  }
}

TEST(G711Test, EveryCodeRoundTripsExceptNegativeZero) {
  for (int code = 0; code < 256; ++code) {
    const uint8_t expected = code == 0x7F ? 0xFF : static_cast<uint8_t>(code);  // -0 reads as +0
    EXPECT_EQ(LinearToMulaw(MulawToLinear(static_cast<uint8_t>(code))), expected) << code;
  }
}

TEST(G711Test, QuantizationErrorIsWithinHalfAStep) {
  // Relative error of mu-law stays under ~3.2% above the linear segment (4 bits of mantissa).
  for (int sample = 256; sample <= 32000; sample += 37) {
    const int decoded = MulawToLinear(LinearToMulaw(static_cast<int16_t>(sample)));
    EXPECT_LE(std::abs(decoded - sample), sample / 30 + 8) << sample;
  }
}

}  // namespace
}  // namespace callsim::agent
