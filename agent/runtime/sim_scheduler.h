// Virtual time. Tasks run in (time, sequence) order on one thread; when nothing is due, time jumps
// to the next task. Nothing here reads a clock, so a run replays exactly from its seed.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {

class SimScheduler final : public Scheduler {
 public:
  int64_t NowUs() const override { return now_us_; }
  TaskId At(int64_t when_us, std::function<void()> task) override;
  void Cancel(TaskId id) override;

  // Runs the next due task, advancing time to it. Returns false when no task is pending.
  bool RunOne();
  // Runs every task due at or before `until_us`, then sets the time to `until_us` (whether or not
  // tasks remain). Returns the number of tasks run.
  uint64_t RunUntil(int64_t until_us);
  // Runs until no task is pending or `max_tasks` have run (a bound against runaway loops).
  uint64_t RunAll(uint64_t max_tasks = UINT64_MAX);

  // Tasks scheduled and neither run nor cancelled.
  size_t pending() const { return slots_.size() - free_slots_.size(); }
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  // A task lives in a reusable slot; the queue holds only (time, sequence, slot). A queue entry
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
  static constexpr int kSlotBits = 24;  // up to 16M tasks pending at once

  // Pops cancelled entries off the head; returns false when the queue is empty.
  bool SkipCancelled();
  void FreeSlot(uint32_t slot);

  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  int64_t now_us_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t tasks_run_ = 0;
};

}  // namespace callsim::agent
