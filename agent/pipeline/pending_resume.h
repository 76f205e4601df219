// A false interruption: the caller made a sound over the agent's reply (a barge-in) but no words
// followed. What the barge-in cut off is kept here for timeout_ms; if no words come the owner
// resumes it, and any words (or an answer to the caller) drop it. The timer is a ScopedTask:
// nothing fires after Drop() or Take().
#pragma once

#include <functional>
#include <string>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

class PendingResume {
 public:
  // `on_timeout` runs from the Scheduler timeout_ms after Arm(); the owner decides there whether
  // to resume (a turn still in progress decides at its end instead).
  PendingResume(Scheduler& scheduler, double timeout_ms, std::function<void()> on_timeout);

  // Keeps `text` (the unsaid rest of the reply) and (re)starts the timeout.
  void Arm(std::string text);
  // Nothing is to be resumed: forgets the text and cancels the timeout.
  void Drop();
  // The text to resume now; afterwards nothing is pending.
  std::string Take();

  bool pending() const { return pending_; }

 private:
  int64_t timeout_us_;
  std::function<void()> on_timeout_;
  std::string text_;
  bool pending_ = false;
  ScopedTask timer_;
};

}  // namespace callsim::agent
