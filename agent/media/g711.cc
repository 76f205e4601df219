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
  int magnitude = sample;
  int mask = 0xFF;  // positive samples: every bit inverted
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7F;  // negative samples: the sign bit stays 0 after inversion
  }
  magnitude += kBias;  // now in [0x84, 0x8084]
  // Segment s covers magnitudes up to (0x100 << s) - 1; at or above 0x8000 the sample clips.
  const int segment = std::bit_width(static_cast<unsigned>(magnitude >> 8));
  if (segment >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int code = (segment << kSegmentShift) | ((magnitude >> (segment + 3)) & kMantissaMask);
  return static_cast<uint8_t>(code ^ mask);
}

int16_t MulawToLinear(uint8_t code) { return kDecodeTable[code]; }

}  // namespace callsim::agent
