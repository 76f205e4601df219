// 16 kHz <-> 8 kHz conversion for narrowband codecs (PCMU), one 20 ms frame at a time. Both
// directions use one 47-tap linear-phase windowed-sinc low-pass (Kaiser, beta 5, cutoff 3.6 kHz):
// flat within 0.02 dB to 3 kHz, at least 57 dB down from 4.4 kHz. Each object keeps its filter
// history, so consecutive frames join without clicks, and its group delay is constant.
// Integer arithmetic only: bit-identical on every platform, and no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "agent/media/frame.h"

namespace callsim::agent {

inline constexpr int kNarrowbandRateHz = kSampleRateHz / 2;
inline constexpr int kNarrowbandFrameSamples = kFrameSamples / 2;  // 160 samples = 20 ms at 8 kHz

inline constexpr int kResamplerTaps = 47;
// Group delay of each filter, in 16 kHz samples. 8 kHz sample m stands for 16 kHz sample 2m and
// is centred on input 2m - 22 (the window ends on input 2m + 1, so each frame is used whole), so a
// decimate-then-interpolate round trip delays the signal by exactly 22 + 23 = 45 samples.
inline constexpr int kResamplerDelaySamples = (kResamplerTaps - 1) / 2;
inline constexpr int kResamplerRoundTripDelaySamples = 2 * kResamplerDelaySamples - 1;

// The low-pass in Q15 (sums to 32768: unity gain at DC). Its even- and odd-indexed taps each sum
// to 16384, so each interpolation phase also has exactly unity DC gain and no 8 kHz image.
extern const std::array<int16_t, kResamplerTaps> kResamplerTapsQ15;

// 16 kHz -> 8 kHz: low-pass, then keep every second sample.
class Decimator {
 public:
  void Process(std::span<const int16_t, kFrameSamples> in,
               std::span<int16_t, kNarrowbandFrameSamples> out);
  // Forgets the history (as if preceded by silence).
  void Reset() { buffer_.fill(0); }

 private:
  static constexpr int kHistory = kResamplerTaps - 1;
  // The last kHistory input samples, followed by the frame being processed.
  std::array<int16_t, kHistory + kFrameSamples> buffer_{};
};

// 8 kHz -> 16 kHz: insert a zero after every sample, then low-pass with gain 2 (computed as two
// polyphase branches, so the zeros are never multiplied).
class Interpolator {
 public:
  void Process(std::span<const int16_t, kNarrowbandFrameSamples> in,
               std::span<int16_t, kFrameSamples> out);
  void Reset() { buffer_.fill(0); }

 private:
  static constexpr int kHistory = (kResamplerTaps - 1) / 2;
  std::array<int16_t, kHistory + kNarrowbandFrameSamples> buffer_{};
};

}  // namespace callsim::agent
