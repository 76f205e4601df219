#include "agent/pipeline/echo_guard.h"

#include <algorithm>
#include <iterator>

#include "agent/pipeline/vad.h"
#include "agent/runtime/check.h"

namespace callsim::agent {

EchoGuard::EchoGuard(double guard_db) : guard_db_(guard_db) {
  std::fill(std::begin(levels_dbfs_), std::end(levels_dbfs_), kSilenceDbfs);
}

void EchoGuard::OnOutputFrame(const Frame* frame) {
  CALLSIM_CHECK(next_ >= 0 && next_ < kWindowFrames);
  // Silence costs nothing to measure.
  levels_dbfs_[next_] = frame != nullptr ? FrameLevelDbfs(*frame) : kSilenceDbfs;
  next_ = (next_ + 1) % kWindowFrames;
}

double EchoGuard::GateDbfs() const {
  if (guard_db_ <= 0) return kSilenceDbfs;
  double loudest = kSilenceDbfs;
  for (double level : levels_dbfs_) loudest = std::max(loudest, level);
  return loudest - guard_db_;
}

const Frame& EchoGuard::SttInput(const Frame& frame, double level_dbfs, double gate_dbfs) const {
  return level_dbfs <= gate_dbfs ? silent_frame_ : frame;
}

}  // namespace callsim::agent
