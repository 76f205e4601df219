#include "agent/media/g711.h"

#include <array>
#include <bit>

namespace callsim::agent {
namespace {

// G.711's bias of 33 (14-bit scale) times 4: it moves the segment ends onto powers of two.
constexpr int kBias = 0x84;
constexpr int kSignBit = 0x80;
constexpr int kSegmentShift = 4;
constexpr int kMantissaMask = 0x0F;

constexpr int16_t DecodeOne(uint8_t code) {
  const int inverted = static_cast<uint8_t>(~code);
  const int segment = (inverted >> kSegmentShift) & 0x07;
  const int magnitude = (((inverted & kMantissaMask) << 3) + kBias) << segment;
  return static_cast<int16_t>((inverted & kSignBit) ? kBias - magnitude : magnitude - kBias);
}

constexpr std::array<int16_t, 256> MakeDecodeTable() {
  std::array<int16_t, 256> table{};
  for (int code = 0; code < 256; ++code) table[code] = DecodeOne(static_cast<uint8_t>(code));
  return table;
}

// Decoding is a lookup: 256 entries, built at compile time.
constexpr std::array<int16_t, 256> kDecodeTable = MakeDecodeTable();

}  // namespace

uint8_t LinearToMulaw(int16_t sample) {
  // G.191's ulaw_compress takes the one's complement of a negative sample (-x - 1, not -x), so -4
  // lands in the same step as -1 and every other negative multiple of 4 one step lower than its
  // two's complement would. Branch-free: `sign` is 0 or -1, and x ^ -1 == ~x.
  const int sign = sample >> 15;
  const int mask = 0xFF ^ (sign & kSignBit);  // positive: every bit inverted; negative: sign 0
  const int magnitude = (sample ^ sign) + kBias;  // in [0x84, 0x8083]
  // Segment s covers magnitudes up to (0x100 << s) - 1; at or above 0x8000 the sample clips.
  const int segment = std::bit_width(static_cast<unsigned>(magnitude >> 8));
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int code = (segment << kSegmentShift) | ((magnitude >> (segment + 3)) & kMantissaMask);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t MulawToLinear(uint8_t code) { return kDecodeTable[code]; }

}  // namespace callsim::agent
