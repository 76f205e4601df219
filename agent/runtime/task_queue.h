// The pending tasks of one Scheduler, in (time, sequence) order: tasks due at the same time run in
// the order they were added. Both schedulers keep their tasks here, so virtual and real time order
// events the same way. Not thread-safe: one queue belongs to one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {

class TaskQueue {
 public:
  // Up to 2^24 (16M) tasks pending at once; one more throws std::length_error. An id carries the
  // slot and the low 40 bits of the task's sequence number, so ids stay valid however many tasks
  // a long-lived (real-time) scheduler runs; a stale id could only collide with a task added
  // 2^40 tasks later in the same slot.
  static constexpr int kSlotBits = 24;
  static constexpr uint64_t kIdSeqMask = (uint64_t{1} << (64 - kSlotBits)) - 1;

  // Adds `task` due at `when_us`. Returns an id that is never kNoTask.
  TaskId Add(int64_t when_us, std::function<void()> task);
  // Removes a pending task; a task that already ran, was cancelled, or an unknown id is ignored.
  void Cancel(TaskId id);

  // Whether a task is pending; if so, *when_us is the due time of the next one.
  bool Next(int64_t* when_us);
  // Removes the next task and returns it with its due time. Call only after Next() said true.
  std::function<void()> Pop(int64_t* when_us);

  // Tasks added and neither popped nor cancelled.
  size_t pending() const { return slots_.size() - free_slots_.size(); }
  // Heap entries, cancelled ones included: at most 2 * pending() + kCompactSlack, because the
  // heap is rebuilt without its cancelled entries when they outnumber that (a long-lived
  // real-time scheduler cancels far more timers than it runs).
  size_t heap_entries() const { return heap_.size(); }
  static constexpr size_t kCompactSlack = 1024;

 private:
  // A task lives in a reusable slot; the heap holds only (time, sequence, slot). A heap entry
  // whose sequence no longer matches its slot's was cancelled (the slot may have been reused).
  struct Slot {
    std::function<void()> task;
    uint64_t seq = 0;  // 0: free
  };
  struct Entry {
    int64_t when_us;
    uint64_t seq;
    uint32_t slot;
    bool operator>(const Entry& o) const {
      return when_us != o.when_us ? when_us > o.when_us : seq > o.seq;
    }
  };

  void FreeSlot(uint32_t slot);
  // Drops cancelled entries from the heap. The pop order is unchanged: it is a total order.
  void Compact();

  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_seq_ = 1;
};

}  // namespace callsim::agent
