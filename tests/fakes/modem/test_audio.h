// Helpers for the word-modem tests: cutting audio into frames, seeded white noise at a given SNR,
// and a word-level edit distance for error rates.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/runtime/rng.h"

namespace callsim::fakes::testing {

// `samples` as 20 ms frames, the last one zero-padded; `lead_in_frames` of silence first.
inline std::vector<agent::Frame> ToFrames(const std::vector<int16_t>& samples,
                                          int lead_in_frames = 0) {
  std::vector<agent::Frame> frames(lead_in_frames);
  for (size_t i = 0; i < samples.size(); i += agent::kFrameSamples) {
    agent::Frame& f = frames.emplace_back();
    std::copy_n(samples.begin() + i, std::min<size_t>(agent::kFrameSamples, samples.size() - i),
                f.samples.begin());
  }
  return frames;
}

inline double DbfsToRms(double dbfs) { return 32768.0 * std::pow(10.0, dbfs / 20.0); }

// Uniform white noise (cheaper than Gaussian, same flat spectrum) with a given RMS.
class WhiteNoise {
 public:
  WhiteNoise(uint64_t seed, double rms) : rng_(seed), half_width_(rms * std::sqrt(3.0)) {}
  void AddTo(agent::Frame* frame) {
    for (int16_t& s : frame->samples) {
      const double v = s + half_width_ * (2 * rng_.Uniform() - 1);
      s = static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
    }
  }

 private:
  agent::Rng rng_;
  double half_width_;
};

// Loses each frame (after the first) with probability `loss`, concealing it as a simple PLC
// would: the previous frame again, at half level, marked concealed.
inline void ConcealRandomFrames(std::vector<agent::Frame>* frames, double loss, uint64_t seed) {
  agent::Rng rng(seed);
  for (size_t i = 1; i < frames->size(); ++i) {
    if (!rng.Bernoulli(loss)) continue;
    (*frames)[i] = (*frames)[i - 1];
    for (int16_t& s : (*frames)[i].samples) s = static_cast<int16_t>(s / 2);
    (*frames)[i].concealed = true;
  }
}

// Unit-cost Levenshtein distance between word sequences.
inline size_t WordEditDistance(const std::vector<std::string>& ref,
                               const std::vector<std::string>& hyp) {
  std::vector<size_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= hyp.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

}  // namespace callsim::fakes::testing
