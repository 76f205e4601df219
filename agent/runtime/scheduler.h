// The one source of time for everything in callsim. Components never read a clock or sleep: they
// ask the Scheduler for Now() and schedule work with At(). SimScheduler (sim_scheduler.h) runs in
// virtual time; RealtimeScheduler (realtime_scheduler.h) runs the same tasks on a steady clock.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>

namespace callsim::agent {

using TaskId = uint64_t;
inline constexpr TaskId kNoTask = 0;

inline constexpr int64_t kMicrosPerMs = 1000;
inline constexpr int64_t kMicrosPerSecond = 1000000;

// A configured duration in milliseconds as Scheduler time, rounded to the nearest microsecond.
inline int64_t MsToUs(double ms) { return std::llround(ms * static_cast<double>(kMicrosPerMs)); }

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // Current time in microseconds since the run started.
  virtual int64_t NowUs() const = 0;

  // Runs `task` at `when_us` (clamped to Now()). Tasks due at the same time run in the order they
  // were scheduled. Returns an id that is never kNoTask.
  virtual TaskId At(int64_t when_us, std::function<void()> task) = 0;

  // Cancels a pending task; a task that already ran or an unknown id is ignored.
  virtual void Cancel(TaskId id) = 0;

  TaskId After(int64_t delay_us, std::function<void()> task) {
    return At(NowUs() + delay_us, std::move(task));
  }
};

}  // namespace callsim::agent
