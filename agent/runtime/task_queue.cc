#include "agent/runtime/task_queue.h"

#include <stdexcept>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::agent {

TaskId TaskQueue::Add(int64_t when_us, std::function<void()> task) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= (size_t{1} << kSlotBits)) {
      throw std::length_error("scheduler: too many pending tasks");
    }
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  if ((next_seq_ & kIdSeqMask) == 0) ++next_seq_;  // an id's sequence part is never 0
  const uint64_t seq = next_seq_++;
  slots_[slot].task = std::move(task);
  slots_[slot].seq = seq;
  heap_.push(Entry{when_us, seq, slot});
  return ((seq & kIdSeqMask) << kSlotBits) | slot;  // never kNoTask
}

void TaskQueue::Cancel(TaskId id) {
  const uint32_t slot = static_cast<uint32_t>(id & ((uint64_t{1} << kSlotBits) - 1));
  const uint64_t seq = id >> kSlotBits;
  if (seq == 0 || slot >= slots_.size() || (slots_[slot].seq & kIdSeqMask) != seq) {
    return;  // ran, cancelled or unknown
  }
  FreeSlot(slot);
  if (heap_.size() > 2 * pending() + kCompactSlack) Compact();
}

void TaskQueue::Compact() {
  std::vector<Entry> live;
  live.reserve(pending());
  while (!heap_.empty()) {
    const Entry& e = heap_.top();
    if (slots_[e.slot].seq == e.seq) live.push_back(e);
    heap_.pop();
  }
  heap_ = decltype(heap_)(std::greater<Entry>(), std::move(live));
}

void TaskQueue::FreeSlot(uint32_t slot) {
  slots_[slot].task = nullptr;
  slots_[slot].seq = 0;
  free_slots_.push_back(slot);
}

bool TaskQueue::Next(int64_t* when_us) {
  while (!heap_.empty()) {
    const Entry& top = heap_.top();
    if (slots_[top.slot].seq == top.seq) {
      *when_us = top.when_us;
      return true;
    }
    heap_.pop();  // cancelled
  }
  return false;
}

std::function<void()> TaskQueue::Pop(int64_t* when_us) {
  CALLSIM_CHECK(!heap_.empty() && slots_[heap_.top().slot].seq == heap_.top().seq);
  const Entry top = heap_.top();
  heap_.pop();
  *when_us = top.when_us;
  std::function<void()> task = std::move(slots_[top.slot].task);
  FreeSlot(top.slot);
  return task;
}

}  // namespace callsim::agent
