#include "agent/pipeline/stall_watchdog.h"

#include <algorithm>
#include <utility>

namespace callsim::agent {

StallWatchdog::StallWatchdog(Scheduler& scheduler, double provider_timeout_ms,
                             double stall_timeout_ms, std::function<void()> on_due)
    : scheduler_(scheduler),
      provider_timeout_us_(MsToUs(provider_timeout_ms)),
      stall_timeout_us_(MsToUs(stall_timeout_ms)),
      on_due_(std::move(on_due)),
      timer_(scheduler) {}

void StallWatchdog::Arm(bool streaming) {
  if (timer_.pending()) return;
  timer_.At(last_progress_us_ + BoundUs(streaming), [this] { on_due_(); });
}

void StallWatchdog::Rearm(bool streaming) {
  timer_.Cancel();
  Arm(streaming);
}

bool StallWatchdog::Expired(bool streaming) const {
  return scheduler_.NowUs() >= last_progress_us_ + BoundUs(streaming);
}

int64_t StallWatchdog::BoundUs(bool streaming) const {
  return streaming ? std::min(stall_timeout_us_, provider_timeout_us_) : provider_timeout_us_;
}

}  // namespace callsim::agent
