#include "agent/runtime/sim_scheduler.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>

namespace callsim::agent {

TaskId SimScheduler::At(int64_t when_us, std::function<void()> task) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= (size_t{1} << kSlotBits)) throw std::length_error("SimScheduler: too many pending tasks");
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const uint64_t seq = next_seq_++;
  slots_[slot].task = std::move(task);
  slots_[slot].seq = seq;
  queue_.push(Entry{std::max(when_us, now_us_), seq, slot});
  return (seq << kSlotBits) | slot;  // never kNoTask: seq >= 1
}

void SimScheduler::Cancel(TaskId id) {
  const uint32_t slot = static_cast<uint32_t>(id & ((uint64_t{1} << kSlotBits) - 1));
  const uint64_t seq = id >> kSlotBits;
  if (seq == 0 || slot >= slots_.size() || slots_[slot].seq != seq) return;  // ran, cancelled or unknown
  FreeSlot(slot);
}

void SimScheduler::FreeSlot(uint32_t slot) {
  slots_[slot].task = nullptr;
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
}

bool SimScheduler::SkipCancelled() {
  while (!queue_.empty()) {
    const Entry& top = queue_.top();
    if (slots_[top.slot].seq == top.seq) return true;
    queue_.pop();
  }
  return false;
}

bool SimScheduler::RunOne() {
  if (!SkipCancelled()) return false;
  const Entry top = queue_.top();
  queue_.pop();
  now_us_ = top.when_us;
  std::function<void()> task = std::move(slots_[top.slot].task);
  FreeSlot(top.slot);
  ++tasks_run_;
  task();
  return true;
}

uint64_t SimScheduler::RunUntil(int64_t until_us) {
  uint64_t ran = 0;
  while (SkipCancelled() && queue_.top().when_us <= until_us) {
    RunOne();
    ++ran;
  }
  now_us_ = std::max(now_us_, until_us);
  return ran;
}

uint64_t SimScheduler::RunAll(uint64_t max_tasks) {
  uint64_t ran = 0;
  while (ran < max_tasks && RunOne()) ++ran;
  return ran;
}

}  // namespace callsim::agent
