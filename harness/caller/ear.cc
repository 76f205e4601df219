#include "harness/caller/ear.h"

#include <cstdlib>

namespace callsim::harness {
namespace {

int64_t SampleTimeUs(int64_t frame_start_us, int index) {
  return frame_start_us + static_cast<int64_t>(index) * agent::kMicrosPerSecond / agent::kSampleRateHz;
}

}  // namespace

EarActivity Ear::Hear(const agent::Frame& frame, int64_t frame_start_us) {
  decoder_.Push(frame);
  EarActivity activity;
  int first = -1;
  int last = -1;
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    if (std::abs(static_cast<int>(frame.samples[i])) > kActiveThreshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first >= 0) {
    activity.any = true;
    activity.first_active_us = SampleTimeUs(frame_start_us, first);
    activity.last_active_us = SampleTimeUs(frame_start_us, last + 1);
    last_active_us_ = activity.last_active_us;
  }
  return activity;
}

std::vector<std::string> Ear::TakeWords() {
  std::vector<std::string> words;
  for (fakes::DecodedWord& w : decoder_.TakeWords()) words.push_back(std::move(w.word));
  return words;
}

}  // namespace callsim::harness
