#include "agent/media/g711.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace callsim::agent {
namespace {

// The ITU-T reference, transcribed from ulaw_compress and ulaw_expand in the G.191 Software Tool
// Library (g711.c) step by step, independent of the implementation under test: 14-bit magnitude
// with the one's complement of negative samples, a bias of 33, a clip at 0x1FFF, segment search
// by shifting, both nibbles counted down from their maximum, the sign bit set for x >= 0.
uint8_t ItuUlawCompress(int16_t linear) {
  int absno = linear < 0 ? ((~linear) >> 2) + 33 : (linear >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int i = absno >> 6;
  int segno = 1;
  while (i != 0) {
    ++segno;
    i >>= 1;
  }
  const int high_nibble = 0x0008 - segno;
  const int low_nibble = 0x000F - ((absno >> segno) & 0x000F);
  int log = (high_nibble << 4) | low_nibble;
  if (linear >= 0) log |= 0x0080;
  return static_cast<uint8_t>(log);
}

int16_t ItuUlawExpand(uint8_t log) {
  const int sign = log < 0x80 ? -1 : 1;
  int mantissa = ~log;
  const int exponent = (mantissa >> 4) & 0x0007;
  const int segment = exponent + 1;
  mantissa &= 0x000F;
  const int step = 4 << segment;
  return static_cast<int16_t>(sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33));
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

// Negative multiples of 4 are where a two's complement magnitude goes wrong: G.191 encodes the
// one's complement, -x - 1, so each lands in the step above. Each value checked by hand against
// ulaw_compress: -4 -> absno (3 >> 2) + 33 = 33, segment 1, low nibble 15 - 0 -> 0x7F.
TEST(G711Test, EncodesNegativeMultiplesOfFourAsTheItuReferenceDoes) {
  EXPECT_EQ(LinearToMulaw(-4), 0x7F);       // -(-4) would give absno 34 -> 0x7E
  EXPECT_EQ(LinearToMulaw(-5), 0x7E);       // absno (4 >> 2) + 33 = 34, low nibble 15 - 1
  EXPECT_EQ(LinearToMulaw(-8), 0x7E);       // absno (7 >> 2) + 33 = 34
  EXPECT_EQ(LinearToMulaw(-100), 0x73);     // absno (99 >> 2) + 33 = 57: 15 - (28 & 15) = 3
  EXPECT_EQ(LinearToMulaw(-31612), 0x01);   // absno 7902 + 33 = 7935, segment 8, 15 - 14
  EXPECT_EQ(LinearToMulaw(-31613), 0x00);   // absno 7903 + 33 = 7936 = 31 << 8: 15 - 15
  EXPECT_EQ(LinearToMulaw(-32764), 0x00);   // clipped at 0x1FFF
  EXPECT_EQ(LinearToMulaw(31611), 0x81);    // positives were right: 7902 + 33, as -31612 + 0x80
  EXPECT_EQ(LinearToMulaw(31612), 0x80);    // 7903 + 33 = 7936, as -31613
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

TEST(G711Test, EncoderIsBitExactWithItuReferenceOnAll65536Inputs) {
  int differences = 0;
  for (int sample = -32768; sample <= 32767; ++sample) {
    const auto linear = static_cast<int16_t>(sample);
    if (LinearToMulaw(linear) != ItuUlawCompress(linear)) {
      ADD_FAILURE() << sample << ": 0x" << std::hex << int{LinearToMulaw(linear)} << " vs 0x"
                    << int{ItuUlawCompress(linear)};
      if (++differences == 10) return;
    }
  }
}

TEST(G711Test, DecoderIsBitExactWithItuReferenceOnAll256Codes) {
  for (int code = 0; code < 256; ++code) {
    EXPECT_EQ(MulawToLinear(static_cast<uint8_t>(code)), ItuUlawExpand(static_cast<uint8_t>(code)))
        << code;
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
