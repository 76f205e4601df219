#include "fakes/voice/speech_stretcher.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace callsim::fakes {

SpeechStretcher::SpeechStretcher(SpeechStretcherConfig config)
    : config_(config),
      gap_samples_(static_cast<size_t>(std::max(0, config.gap_ms)) * agent::kSampleRateHz / 1000),
      max_samples_(static_cast<size_t>(std::max(1, config.max_seconds)) * agent::kSampleRateHz) {}

SpeechStretcher::Step SpeechStretcher::Push(const agent::Frame& frame) {
  if (closed_last_) {
    stretch_.clear();
    closed_last_ = false;
  }
  // The noise floor: the lowest 60 ms average energy in the last 2 s, this frame included.
  double energy = 0;
  int peak = 0;
  for (int16_t s : frame.samples) {
    energy += static_cast<double>(s) * s;
    peak = std::max(peak, std::abs(static_cast<int>(s)));
  }
  energy /= agent::kFrameSamples;
  // Digital silence (a gate upstream, such as an echo guard muting the line while the agent
  // talks) says nothing about the line's noise: it leaves the floor where it was.
  if (peak > 0) {
    recent_[pushed_ % kSmoothFrames] = energy;
    ++pushed_;
    const size_t n = std::min<size_t>(pushed_, kSmoothFrames);
    const double smoothed = std::accumulate(recent_.begin(), recent_.begin() + n, 0.0) / n;
    smoothed_.push_back(smoothed);
    if (smoothed_.size() > static_cast<size_t>(kFloorWindowFrames)) smoothed_.pop_front();
    floor_db_ = 10 * std::log10(*std::min_element(smoothed_.begin(), smoothed_.end()) + 1);
  }
  const double level_db = 10 * std::log10(energy + 1);
  loud_ = peak > config_.peak_level && level_db >= floor_db_ + kLoudOverFloorDb;

  if (!open_) {
    if (!loud_) {
      preroll_.push_back(frame);
      if (preroll_.size() > static_cast<size_t>(std::max(0, config_.preroll_frames))) {
        preroll_.pop_front();
      }
      return Step::kQuiet;
    }
    open_ = true;
    stretch_.clear();
    for (const agent::Frame& f : preroll_) {
      stretch_.insert(stretch_.end(), f.samples.begin(), f.samples.end());
    }
    preroll_.clear();
  }
  stretch_.insert(stretch_.end(), frame.samples.begin(), frame.samples.end());
  quiet_samples_ = loud_ ? 0 : quiet_samples_ + agent::kFrameSamples;
  if (quiet_samples_ >= gap_samples_ || stretch_.size() >= max_samples_) {
    Close();
    return Step::kClosed;
  }
  return Step::kSpeech;
}

bool SpeechStretcher::Close() {
  if (!open_) return false;
  open_ = false;
  closed_last_ = true;
  quiet_samples_ = 0;
  return true;
}

}  // namespace callsim::fakes
