// The provider watchdog: a stage the agent waits on (the STT's final, the LLM stream, a TTS
// stream) must make progress within a bound, else `on_due` runs and the owner gives up on it.
// One timer, re-armed lazily from the last progress time, rather than one timer per callback:
// when it fires, the owner asks Expired() and arms it again if progress came meanwhile. Before a
// stream's first answer the provider (and the retries and failover in front of it) get the whole
// provider timeout; a stream that has started answering and then goes quiet has stalled (a
// dropped connection) and the shorter stall timeout applies. The timer is a ScopedTask.
#pragma once

#include <cstdint>
#include <functional>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

class StallWatchdog {
 public:
  StallWatchdog(Scheduler& scheduler, double provider_timeout_ms, double stall_timeout_ms,
                std::function<void()> on_due);

  // A provider answered now.
  void MarkProgress() { last_progress_us_ = scheduler_.NowUs(); }
  // Unless the timer is armed already: arms it for the last progress plus BoundUs(streaming).
  void Arm(bool streaming);
  // Arms it afresh: the bound changed (a stream gave its first answer).
  void Rearm(bool streaming);
  void Cancel() { timer_.Cancel(); }
  // BoundUs(streaming) has passed since the last progress.
  bool Expired(bool streaming) const;
  // The provider timeout, or the shorter of it and the stall timeout for a streaming stage.
  int64_t BoundUs(bool streaming) const;

 private:
  Scheduler& scheduler_;
  int64_t provider_timeout_us_;
  int64_t stall_timeout_us_;
  std::function<void()> on_due_;
  int64_t last_progress_us_ = 0;
  ScopedTask timer_;
};

}  // namespace callsim::agent
