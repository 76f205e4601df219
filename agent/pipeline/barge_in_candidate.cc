#include "agent/pipeline/barge_in_candidate.h"

#include "agent/media/frame.h"

namespace callsim::agent {

void BargeInCandidate::Begin(int64_t start_us, int64_t voiced_us) {
  active_ = true;
  speech_ = Speech{start_us, voiced_us, 0};
}

void BargeInCandidate::AddVoicedFrame() {
  if (active_) speech_.voiced_us += kFrameUs;
}

void BargeInCandidate::SetWords(int words) {
  if (active_) speech_.words = words;
}

bool BargeInCandidate::Confirmed() const {
  if (!active_ || speech_.voiced_us < min_voiced_us_) return false;
  return min_words_ <= 0 || speech_.words >= min_words_;
}

const BargeInCandidate::Speech& BargeInCandidate::End() {
  active_ = false;
  return speech_;
}

}  // namespace callsim::agent
