// Virtual time. Tasks run in (time, sequence) order on one thread; when nothing is due, time jumps
// to the next task. Nothing here reads a clock, so a run replays exactly from its seed.
#pragma once

#include <cstdint>
#include <functional>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/task_queue.h"

namespace callsim::agent {

class SimScheduler final : public Scheduler {
 public:
  // The clock starts at `start_us` (a call's own clock starts when the call arrives).
  explicit SimScheduler(int64_t start_us = 0) : now_us_(start_us) {}

  int64_t NowUs() const override { return now_us_; }
  TaskId At(int64_t when_us, std::function<void()> task) override;
  void Cancel(TaskId id) override;

  // Runs the next due task, advancing time to it. Returns false when no task is pending.
  bool RunOne();
  // Runs every task due at or before `until_us`, then sets the time to `until_us` (whether or not
  // tasks remain). Returns the number of tasks run.
  uint64_t RunUntil(int64_t until_us);
  // Runs every task due before `until_us`, then sets the time to `until_us` if that is later:
  // tasks due at `until_us` itself stay pending. Returns the number of tasks run.
  uint64_t RunBefore(int64_t until_us);
  // Whether a task is pending; if so, *when_us is when the next one is due.
  bool NextDue(int64_t* when_us) { return queue_.Next(when_us); }
  // Runs until no task is pending or `max_tasks` have run (a bound against runaway loops).
  uint64_t RunAll(uint64_t max_tasks = UINT64_MAX);

  // Tasks scheduled and neither run nor cancelled.
  size_t pending() const { return queue_.pending(); }
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  TaskQueue queue_;
  int64_t now_us_ = 0;
  uint64_t tasks_run_ = 0;
};

}  // namespace callsim::agent
