#include "agent/runtime/sim_scheduler.h"

#include <algorithm>
#include <utility>

namespace callsim::agent {

TaskId SimScheduler::At(int64_t when_us, std::function<void()> task) {
  return queue_.Add(std::max(when_us, now_us_), std::move(task));
}

void SimScheduler::Cancel(TaskId id) { queue_.Cancel(id); }

bool SimScheduler::RunOne() {
  int64_t when_us;
  if (!queue_.Next(&when_us)) return false;
  std::function<void()> task = queue_.Pop(&now_us_);
  ++tasks_run_;
  task();
  return true;
}

uint64_t SimScheduler::RunUntil(int64_t until_us) {
  uint64_t ran = 0;
  int64_t when_us;
  while (queue_.Next(&when_us) && when_us <= until_us) {
    RunOne();
    ++ran;
  }
  now_us_ = std::max(now_us_, until_us);
  return ran;
}

uint64_t SimScheduler::RunBefore(int64_t until_us) {
  uint64_t ran = 0;
  int64_t when_us;
  while (queue_.Next(&when_us) && when_us < until_us) {
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
