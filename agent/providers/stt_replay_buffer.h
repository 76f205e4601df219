// The caller audio an STT session has not yet answered with a final, kept so that a replacement
// session can hear it again after the first one failed: the frames in order, and where Finalize
// was called between them. Bounded: beyond max_frames the oldest frames are dropped (and counted),
// and at most kMaxPendingFinals Finalize calls are held. No allocation per frame; the ring grows
// while the caller speaks and is given back once every Finalize is answered and what is left is
// digital silence (the caller listening), so a call holds audio only while a turn is open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "agent/media/frame.h"

namespace callsim::agent {

inline constexpr size_t kMaxPendingFinals = 64;

class SttReplayBuffer {
 public:
  // `max_frames` <= 0 keeps no audio (a replay then only repeats the Finalize calls).
  explicit SttReplayBuffer(int max_frames);

  // The next frame the session heard. At the bound the oldest held frame is dropped. Digital
  // silence (all zeros) while nothing is held is skipped, not kept, and so is digital silence
  // left over once the last pending Finalize is answered (see OnFinal).
  void PushFrame(const Frame& frame);
  // Finalize was called after every frame pushed so far. Returns false, recording nothing, when
  // kMaxPendingFinals are already pending.
  bool MarkFinalize();
  // The final for the oldest pending Finalize arrived: its frames are no longer needed. When no
  // Finalize is left pending and every frame still held is digital silence, those go too (a
  // replay without them sounds the same to a recognizer) and the ring's memory is given back.
  // Returns false (and changes nothing) when no Finalize is pending.
  bool OnFinal();

  // Plays the held audio and the pending Finalize calls, in the order the session got them.
  // Stops as soon as a callback returns false (the session it feeds went away).
  void Replay(const std::function<bool(const Frame&)>& push_frame,
              const std::function<bool()>& finalize) const;

  size_t pending_finals() const { return finalize_at_.size(); }
  size_t held_frames() const { return static_cast<size_t>(end_ - start_); }
  // Frames since the last answered Finalize that are no longer held: a replay now lacks them.
  uint64_t dropped_frames() const { return start_ - base_; }
  int max_frames() const { return max_frames_; }
  // Frames of memory allocated: grows with use, never beyond max_frames.
  size_t allocated_frames() const { return ring_.capacity(); }

 private:
  const Frame& At(uint64_t index) const;  // index in [start_, end_)
  void DropOldest(uint64_t count);

  const int max_frames_;
  std::vector<Frame> ring_;  // grows up to max_frames_, then reused
  size_t head_ = 0;          // ring slot of frame start_
  // Absolute frame numbers (frames pushed since the session began).
  uint64_t base_ = 0;   // first frame not yet answered by a final
  uint64_t start_ = 0;  // oldest frame held (>= base_)
  uint64_t end_ = 0;    // one past the newest frame
  std::deque<uint64_t> finalize_at_;  // Finalize after this many frames; non-decreasing
  uint64_t trailing_silence_ = 0;     // the newest held frames that are digital silence
};

}  // namespace callsim::agent
