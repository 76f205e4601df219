// The silence watchdog: once the agent is listening, a caller who says nothing for timeout_ms is
// prompted ("are you still there?"), up to max_prompts times in a row; the next time the agent
// says goodbye and ends the call. The owner arms it when it starts listening and, when it fires,
// checks that the caller is really silent before asking NextStep(); a caller turn resets the
// count. Off with timeout_ms <= 0. The timer is a ScopedTask: nothing fires after Cancel().
#pragma once

#include <functional>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

class SilenceWatchdog {
 public:
  enum class Step { kPrompt, kGoodbye };

  // `on_timeout` runs from the Scheduler timeout_ms after the last Arm().
  SilenceWatchdog(Scheduler& scheduler, double timeout_ms, int max_prompts,
                  std::function<void()> on_timeout);

  // (Re)starts the wait; nothing when the watchdog is off.
  void Arm();
  void Cancel();
  // The caller took a turn (or pressed keys): cancels the wait and the prompts start again.
  void Reset();
  // The wait ran out and the caller is silent: a prompt (counted) while fewer than max_prompts
  // were said since the last Reset(), then the goodbye.
  Step NextStep();

  // Prompts said since the last Reset().
  int prompts() const { return prompts_; }

 private:
  double timeout_ms_;
  int max_prompts_;
  std::function<void()> on_timeout_;
  int prompts_ = 0;
  ScopedTask timer_;
};

}  // namespace callsim::agent
