// The echo guard: caller audio no louder than the agent's own recent output, less guard_db, is
// taken for the agent's echo coming back down the line. It remembers the levels of the agent's
// last kWindowFrames output frames; the VAD does not count audio at or under GateDbfs() as speech
// and the STT hears silence instead of it, so the agent neither interrupts nor transcribes itself.
// With guard_db <= 0 the guard is off: the gate is kSilenceDbfs. No allocation per frame.
#pragma once

#include "agent/media/frame.h"

namespace callsim::agent {

class EchoGuard {
 public:
  // 500 ms: the echo path's round trip fits in it.
  static constexpr int kWindowFrames = 25;

  explicit EchoGuard(double guard_db);

  // The agent played `frame` (its level is measured), or silence when `frame` is nullptr.
  void OnOutputFrame(const Frame* frame);
  // The loudest level of the window less guard_db; kSilenceDbfs when the guard is off.
  double GateDbfs() const;
  // What the STT should get for a caller frame at `level_dbfs`: the frame itself, or a silent
  // frame when the level is at or under `gate_dbfs` (echo only).
  const Frame& SttInput(const Frame& frame, double level_dbfs, double gate_dbfs) const;

 private:
  double guard_db_;
  double levels_dbfs_[kWindowFrames];  // a ring: the oldest is overwritten next
  int next_ = 0;
  Frame silent_frame_{};
};

}  // namespace callsim::agent
