// The unit of audio everywhere inside callsim: 20 ms of 16 kHz mono signed 16-bit samples.
#pragma once

#include <array>
#include <cstdint>

namespace callsim::agent {

inline constexpr int kSampleRateHz = 16000;
inline constexpr int kFrameMs = 20;
inline constexpr int kFrameSamples = kSampleRateHz * kFrameMs / 1000;  // 320
inline constexpr int64_t kFrameUs = kFrameMs * 1000;

struct Frame {
  std::array<int16_t, kFrameSamples> samples{};
  // True when the samples were made up by packet-loss concealment rather than decoded.
  bool concealed = false;
};

// Every sample zero: what a line carries while nobody speaks. One branch-free pass (the compiler
// vectorizes it), cheap enough for every frame.
inline bool IsDigitalSilence(const Frame& frame) {
  int16_t any = 0;
  for (int16_t sample : frame.samples) any |= sample;
  return any == 0;
}

}  // namespace callsim::agent
