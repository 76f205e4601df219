// A timer that cannot leak: it owns at most one pending task on a Scheduler. Arming it again
// cancels the task it held, destroying it cancels too, and once its task has started running it
// holds none, so pending() always says whether a task of it is still to come. Movable (a pending
// task moves with it and still clears the new owner when it runs), not copyable. The Scheduler
// must outlive it; use it on the Scheduler's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {

class ScopedTask {
 public:
  explicit ScopedTask(Scheduler& scheduler) : scheduler_(&scheduler) {}
  ~ScopedTask() { Cancel(); }

  ScopedTask(ScopedTask&& other) noexcept
      : scheduler_(other.scheduler_), id_(std::move(other.id_)) {}
  ScopedTask& operator=(ScopedTask&& other) noexcept {
    if (this == &other) return *this;
    Cancel();
    scheduler_ = other.scheduler_;
    id_ = std::move(other.id_);
    return *this;
  }
  ScopedTask(const ScopedTask&) = delete;
  ScopedTask& operator=(const ScopedTask&) = delete;

  // Cancels the task held (if any), then schedules `task` at `when_us` (Scheduler::At rules).
  // The handle is clear before `task` runs: the task may re-arm it or let it be destroyed.
  template <typename Task>
  void At(int64_t when_us, Task task) {
    Cancel();
    if (!id_) id_ = std::make_unique<TaskId>(kNoTask);
    *id_ = scheduler_->At(when_us, [id = id_.get(), task = std::move(task)]() mutable {
      *id = kNoTask;
      task();
    });
  }
  template <typename Task>
  void After(int64_t delay_us, Task task) {
    At(scheduler_->NowUs() + delay_us, std::move(task));
  }

  // Cancels the task held; nothing when none is pending.
  void Cancel() {
    if (!pending()) return;
    scheduler_->Cancel(*id_);
    *id_ = kNoTask;
  }

  bool pending() const { return id_ != nullptr && *id_ != kNoTask; }

 private:
  Scheduler* scheduler_;
  // On the heap so the running task finds it wherever the ScopedTask has moved; allocated on the
  // first At(). Null after a move away: then nothing is pending.
  std::unique_ptr<TaskId> id_;
};

}  // namespace callsim::agent
