#include "agent/media/resampler.h"

#include <algorithm>
#include <limits>

namespace callsim::agent {

namespace {

// Made by: h[n] = sinc(2 * 3600 / 16000 * (n - 23)) * kaiser(47, beta = 5)[n], normalised to unity
// DC gain, rounded to Q15, then the two centre-most even taps and the centre tap nudged so that the
// even and odd taps each sum to 16384. Frequency response (quantized): 0.0 dB at 1-3 kHz, -2.1 dB
// at 3.4 kHz, -27 dB at 4 kHz, below -57 dB from 4.4 kHz to 8 kHz (-95 dB at 6 kHz).
// clang-format off
constexpr std::array<int16_t, kResamplerTaps> kTaps = {
    15,    -9,    -42,   0,     84,    35,    -133,  -112,  170,   243,   -168,  -432,
    87,    671,   127,   -939,  -548,  1205,  1326,  -1432, -2982, 1585,  10256, 14754,
    10256, 1585,  -2982, -1432, 1326,  1205,  -548,  -939,  127,   671,   87,    -432,
    -168,  243,   170,   -112,  -133,  35,    84,    0,     -42,   -9,    15};
// clang-format on

// The dot products run over 48 and 24 taps, multiples of the vector width, with a zero tap in
// front; a compiler vectorizes these whole, with no scalar remainder loop.
constexpr int kPaddedTaps = kResamplerTaps + 1;  // 48
constexpr int kBranchTaps = kPaddedTaps / 2;     // 24

struct PaddedFilters {
  std::array<int16_t, kPaddedTaps> decimator{};  // 0, h[0..46]
  std::array<int16_t, kBranchTaps> even{};       // 2 h[0], 2 h[2], ..., 2 h[46]
  std::array<int16_t, kBranchTaps> odd{};        // 0, 2 h[1], 2 h[3], ..., 2 h[45]
};

// The interpolation phases are twice the even and the odd taps, so each sums to 32768.
constexpr PaddedFilters MakeFilters() {
  PaddedFilters f;
  for (int i = 0; i < kResamplerTaps; ++i) f.decimator[i + 1] = kTaps[i];
  for (int j = 0; j < kBranchTaps; ++j) f.even[j] = static_cast<int16_t>(2 * kTaps[2 * j]);
  for (int j = 1; j < kBranchTaps; ++j) f.odd[j] = static_cast<int16_t>(2 * kTaps[2 * j - 1]);
  return f;
}

constexpr PaddedFilters kFilters = MakeFilters();

template <size_t N>
constexpr int64_t AbsSum(const std::array<int16_t, N>& taps) {
  int64_t sum = 0;
  for (int16_t t : taps) sum += t < 0 ? -t : t;
  return sum;
}

// A dot product of int16 samples with these taps stays within 32768 * sum |tap|, so int32
// accumulators cannot overflow (sums: 59956 for the filter, 63752 and 56160 for the phases).
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
static_assert(AbsSum(kFilters.decimator) * 32768 <= kInt32Max);
static_assert(AbsSum(kFilters.even) * 32768 <= kInt32Max);
static_assert(AbsSum(kFilters.odd) * 32768 <= kInt32Max);

template <size_t N>
inline int32_t Dot(const std::array<int16_t, N>& taps, const int16_t* samples) {
  int32_t acc = 0;
  for (size_t i = 0; i < N; ++i) acc += int32_t{taps[i]} * samples[i];
  return acc;
}

inline int16_t RoundQ15(int32_t acc) {
  // Widen before rounding: acc + 2^14 could pass INT32_MAX by a hair.
  const int64_t value = (int64_t{acc} + (1 << 14)) >> 15;
  return static_cast<int16_t>(std::clamp<int64_t>(value, std::numeric_limits<int16_t>::min(),
                                                  std::numeric_limits<int16_t>::max()));
}

}  // namespace

const std::array<int16_t, kResamplerTaps> kResamplerTapsQ15 = kTaps;

void Decimator::Process(std::span<const int16_t, kFrameSamples> in,
                        std::span<int16_t, kNarrowbandFrameSamples> out) {
  std::copy(in.begin(), in.end(), buffer_.begin() + kHistory);
  // Output m is centred kHistory / 2 samples before input 2m + 1, where its window ends (the
  // padded window starts one sample earlier, on the zero tap). The taps are symmetric, so the
  // window can be walked forwards.
  for (int m = 0; m < kNarrowbandFrameSamples; ++m) {
    out[m] = RoundQ15(Dot(kFilters.decimator, buffer_.data() + 2 * m));
  }
  std::copy(buffer_.end() - kHistory, buffer_.end(), buffer_.begin());
}

void Interpolator::Process(std::span<const int16_t, kNarrowbandFrameSamples> in,
                           std::span<int16_t, kFrameSamples> out) {
  std::copy(in.begin(), in.end(), buffer_.begin() + kHistory);
  // Input p sits at buffer_[kHistory + p]. Output 2p uses inputs p-23..p (even taps), output
  // 2p+1 uses inputs p-22..p (odd taps, after the zero pad); both branches are symmetric.
  for (int p = 0; p < kNarrowbandFrameSamples; ++p) {
    out[2 * p] = RoundQ15(Dot(kFilters.even, buffer_.data() + p));
    out[2 * p + 1] = RoundQ15(Dot(kFilters.odd, buffer_.data() + p));
  }
  std::copy(buffer_.end() - kHistory, buffer_.end(), buffer_.begin());
}

}  // namespace callsim::agent
