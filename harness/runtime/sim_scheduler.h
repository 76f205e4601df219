// Virtual time. Tasks run in (time, sequence) order on one thread; when nothing is due, time jumps
// to the next task. Nothing here reads a clock, so a run replays exactly from its seed.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_set>
#include <vector>

#include "agent/runtime/scheduler.h"

namespace callsim::harness {

class SimScheduler final : public agent::Scheduler {
 public:
  int64_t NowUs() const override { return now_us_; }
  agent::TaskId At(int64_t when_us, std::function<void()> task) override;
  void Cancel(agent::TaskId id) override;

  // Runs the next due task, advancing time to it. Returns false when no task is pending.
  bool RunOne();
  // Runs tasks until none is pending or the next one is after `until_us` (time then stops at
  // `until_us` if tasks remain). Returns the number of tasks run.
  uint64_t RunUntil(int64_t until_us);
  // Runs until no task is pending or `max_tasks` have run (a bound against runaway loops).
  uint64_t RunAll(uint64_t max_tasks = UINT64_MAX);

  size_t pending() const { return queue_.size() - cancelled_.size(); }
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  struct Entry {
    int64_t when_us;
    uint64_t seq;
    agent::TaskId id;
    // std::priority_queue gives const access only; the task is moved out through mutable.
    mutable std::function<void()> task;
    bool operator>(const Entry& o) const {
      return when_us != o.when_us ? when_us > o.when_us : seq > o.seq;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  // Ids of queued tasks that were cancelled; dropped when they reach the head of the queue.
  std::unordered_set<agent::TaskId> cancelled_;
  std::unordered_set<agent::TaskId> queued_;
  int64_t now_us_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t tasks_run_ = 0;
};

}  // namespace callsim::harness
