#include "agent/pipeline/silence_watchdog.h"

#include <utility>

namespace callsim::agent {

SilenceWatchdog::SilenceWatchdog(Scheduler& scheduler, double timeout_ms, int max_prompts,
                                 std::function<void()> on_timeout)
    : timeout_ms_(timeout_ms),
      max_prompts_(max_prompts),
      on_timeout_(std::move(on_timeout)),
      timer_(scheduler) {}

void SilenceWatchdog::Arm() {
  timer_.Cancel();
  if (timeout_ms_ <= 0) return;
  timer_.After(MsToUs(timeout_ms_), [this] { on_timeout_(); });
}

void SilenceWatchdog::Cancel() { timer_.Cancel(); }

void SilenceWatchdog::Reset() {
  timer_.Cancel();
  prompts_ = 0;
}

SilenceWatchdog::Step SilenceWatchdog::NextStep() {
  if (prompts_ >= max_prompts_) return Step::kGoodbye;
  ++prompts_;
  return Step::kPrompt;
}

}  // namespace callsim::agent
