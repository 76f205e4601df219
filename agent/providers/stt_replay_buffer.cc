#include "agent/providers/stt_replay_buffer.h"

#include <algorithm>

namespace callsim::agent {

SttReplayBuffer::SttReplayBuffer(int max_frames) : max_frames_(std::max(0, max_frames)) {}

const Frame& SttReplayBuffer::At(uint64_t index) const {
  return ring_[(head_ + static_cast<size_t>(index - start_)) % ring_.size()];
}

void SttReplayBuffer::DropOldest(uint64_t count) {
  count = std::min<uint64_t>(count, end_ - start_);
  start_ += count;
  if (start_ == end_) {
    head_ = 0;  // empty: appends start again at slot 0, so the ring grows without a rotate
  } else {
    head_ = (head_ + static_cast<size_t>(count)) % ring_.size();
  }
}

void SttReplayBuffer::PushFrame(const Frame& frame) {
  if (max_frames_ == 0) {
    start_ = ++end_;
    return;
  }
  // Digital silence with nothing held before it is not kept: a replay without it sounds the
  // same to a recognizer, and between turns (the caller listening) nothing is copied at all.
  const bool silence = IsDigitalSilence(frame);
  if (start_ == end_ && start_ == base_ && silence) {
    base_ = start_ = ++end_;
    return;
  }
  trailing_silence_ = silence ? trailing_silence_ + 1 : 0;
  if (held_frames() == static_cast<size_t>(max_frames_)) DropOldest(1);
  const size_t held = held_frames();
  if (held == ring_.size()) {
    // Full but below the bound: grow. Appending needs the oldest frame in slot 0.
    std::rotate(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(head_), ring_.end());
    head_ = 0;
    if (ring_.size() == ring_.capacity()) {  // grow by doubling, but never past the bound
      const size_t bound = static_cast<size_t>(max_frames_);
      ring_.reserve(std::min(bound, std::max<size_t>(16, 2 * ring_.size())));
    }
    ring_.push_back(frame);
  } else {
    ring_[(head_ + held) % ring_.size()] = frame;
  }
  ++end_;
}

bool SttReplayBuffer::MarkFinalize() {
  if (finalize_at_.size() >= kMaxPendingFinals) return false;
  finalize_at_.push_back(end_);
  return true;
}

bool SttReplayBuffer::OnFinal() {
  if (finalize_at_.empty()) return false;
  const uint64_t answered = finalize_at_.front();
  finalize_at_.pop_front();
  base_ = std::max(base_, answered);
  if (start_ < answered) DropOldest(answered - start_);
  if (finalize_at_.empty() && held_frames() <= trailing_silence_) {
    base_ = start_ = end_;
    std::vector<Frame>().swap(ring_);
    head_ = 0;
    trailing_silence_ = 0;
  }
  return true;
}

void SttReplayBuffer::Replay(const std::function<bool(const Frame&)>& push_frame,
                             const std::function<bool()>& finalize) const {
  auto mark = finalize_at_.begin();
  for (uint64_t i = start_; i < end_; ++i) {
    for (; mark != finalize_at_.end() && *mark <= i; ++mark) {
      if (!finalize()) return;
    }
    if (!push_frame(At(i))) return;
  }
  for (; mark != finalize_at_.end(); ++mark) {
    if (!finalize()) return;
  }
}

}  // namespace callsim::agent
