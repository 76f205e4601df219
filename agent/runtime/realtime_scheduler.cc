#include "agent/runtime/realtime_scheduler.h"

#include <algorithm>

namespace callsim::agent {

RealtimeScheduler::RealtimeScheduler(boost::asio::io_context& io, Clock::time_point epoch)
    : io_(io), epoch_(epoch), timer_(io) {}

RealtimeScheduler::~RealtimeScheduler() {
  timer_.cancel();  // its handler still runs, later, and finds `alive_` gone
}

int64_t RealtimeScheduler::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - epoch_).count();
}

TaskId RealtimeScheduler::At(int64_t when_us, std::function<void()> task) {
  const TaskId id = queue_.Add(std::max(when_us, NowUs()), std::move(task));
  if (!in_wake_) Arm();  // a wake-up arms once, after its tasks
  return id;
}

void RealtimeScheduler::Cancel(TaskId id) {
  queue_.Cancel(id);  // the timer may still wake for it; it then finds nothing due
}

void RealtimeScheduler::Arm() {
  int64_t next_us;
  if (!queue_.Next(&next_us)) return;
  // The wake-up goes to the end of the coalescing slot the task falls in, so the tasks of many
  // calls share wake-ups: at most one per slot.
  next_us = (next_us + kCoalesceUs - 1) / kCoalesceUs * kCoalesceUs;
  if (armed_us_ >= 0 && armed_us_ <= next_us) return;
  armed_us_ = next_us;
  const uint64_t generation = ++generation_;
  timer_.expires_at(epoch_ + std::chrono::microseconds(next_us));
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_), generation](
                        const boost::system::error_code&) {
    if (alive.expired()) return;  // the scheduler is gone
    OnTimer(generation);
  });
}

void RealtimeScheduler::OnTimer(uint64_t generation) {
  if (generation != generation_) return;  // re-armed since
  armed_us_ = -1;
  in_wake_ = true;
  // However the wake-up ends (a task may throw), the timer is armed for what is left.
  struct Rearm {
    RealtimeScheduler* self;
    ~Rearm() {
      self->in_wake_ = false;
      self->Arm();
    }
  } rearm{this};
  int ran = 0;
  int64_t when_us;
  // Past the bound, the thread goes back to its sockets; the timer, armed at a time already
  // passed, fires again on the next turn of the io_context.
  while (ran < kMaxTasksPerWake && queue_.Next(&when_us) && when_us <= NowUs()) {
    std::function<void()> task = queue_.Pop(&when_us);
    ++tasks_run_;
    ++ran;
    task();
  }
}

}  // namespace callsim::agent
