#include "harness/wire/twilio_playout.h"

#include <algorithm>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::harness {

TwilioPlayout::TwilioPlayout(PlayoutConfig config) : config_(config) {
  CALLSIM_CHECK(config_.frame_bytes > 0);
}

void TwilioPlayout::PushAudio(const std::string& bytes) {
  const size_t room =
      config_.max_buffered_bytes - std::min(config_.max_buffered_bytes, buffered_bytes_);
  const size_t kept = std::min(room, bytes.size());
  dropped_bytes_ += bytes.size() - kept;
  if (kept == 0) return;
  queue_.push_back(Item{false, bytes.substr(0, kept)});  // played bytes go with their item
  buffered_bytes_ += kept;
}

bool TwilioPlayout::PushMark(std::string name) {
  if (queued_marks_ >= config_.max_queued_marks || name.size() > config_.max_mark_chars) {
    ++dropped_marks_;
    return false;
  }
  queue_.push_back(Item{true, std::move(name)});
  ++queued_marks_;
  return true;
}

std::vector<std::string> TwilioPlayout::Clear() {
  std::vector<std::string> marks;
  for (Item& item : queue_) {
    if (item.is_mark) marks.push_back(std::move(item.data));
  }
  cleared_bytes_ += buffered_bytes_;
  queue_.clear();
  front_offset_ = 0;
  buffered_bytes_ = 0;
  queued_marks_ = 0;
  return marks;
}

PlayoutTick TwilioPlayout::Tick() {
  PlayoutTick tick;
  tick.frame.reserve(config_.frame_bytes);
  while (!queue_.empty()) {
    Item& front = queue_.front();
    if (front.is_mark) {  // everything before it has played
      tick.marks.push_back(std::move(front.data));
      queue_.pop_front();
      --queued_marks_;
      continue;
    }
    const size_t want = config_.frame_bytes - tick.frame.size();
    if (want == 0) break;
    const size_t take = std::min(want, front.data.size() - front_offset_);
    tick.frame.append(front.data, front_offset_, take);
    front_offset_ += take;
    buffered_bytes_ -= take;
    if (front_offset_ == front.data.size()) {
      queue_.pop_front();
      front_offset_ = 0;
    }
  }
  tick.audio_bytes = tick.frame.size();
  tick.frame.resize(config_.frame_bytes, config_.silence);
  return tick;
}

}  // namespace callsim::harness
