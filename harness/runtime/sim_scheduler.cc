#include "harness/runtime/sim_scheduler.h"

#include <algorithm>

namespace callsim::harness {

agent::TaskId SimScheduler::At(int64_t when_us, std::function<void()> task) {
  const uint64_t seq = next_seq_++;
  const agent::TaskId id = seq;  // ids and sequence numbers share a counter; never kNoTask
  queue_.push(Entry{std::max(when_us, now_us_), seq, id, std::move(task)});
  queued_.insert(id);
  return id;
}

void SimScheduler::Cancel(agent::TaskId id) {
  if (queued_.erase(id) > 0) cancelled_.insert(id);
}

bool SimScheduler::RunOne() {
  while (!queue_.empty()) {
    const Entry& top = queue_.top();
    const agent::TaskId id = top.id;
    if (cancelled_.erase(id) > 0) {
      queue_.pop();
      continue;
    }
    now_us_ = top.when_us;
    std::function<void()> task = std::move(top.task);
    queue_.pop();
    queued_.erase(id);
    ++tasks_run_;
    task();
    return true;
  }
  return false;
}

uint64_t SimScheduler::RunUntil(int64_t until_us) {
  uint64_t ran = 0;
  while (!queue_.empty()) {
    const Entry& top = queue_.top();
    if (cancelled_.count(top.id) > 0) {
      cancelled_.erase(top.id);
      queue_.pop();
      continue;
    }
    if (top.when_us > until_us) break;
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

}  // namespace callsim::harness
