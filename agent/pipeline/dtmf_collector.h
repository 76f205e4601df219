// Collects the caller's DTMF keys into one user message. Keys gather until '#' (not part of the
// message) or until timeout_ms pass without a key; then the owner takes the message, "DTMF: <keys>"
// ("DTMF: #" when no key came before it). At most max_keys keys are kept, later ones are dropped.
// The timeout is a ScopedTask: it never fires after Reset() or after the collector is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

class DtmfCollector {
 public:
  enum class Added {
    kKept,        // collected; the timeout restarts
    kDropped,     // past max_keys; the timeout restarts all the same
    kTerminator,  // '#': the message is complete, take it now
  };

  // `on_timeout` runs from the Scheduler when timeout_ms passed since the last key; the owner
  // takes the message then.
  DtmfCollector(Scheduler& scheduler, int max_keys, double timeout_ms,
                std::function<void()> on_timeout);

  // A key the caller pressed at `t_us`.
  Added Add(char key, int64_t t_us);
  // "DTMF: <keys>" for the keys so far; forgets them and cancels the timeout.
  std::string TakeMessage();
  // Forgets the keys and cancels the timeout.
  void Reset();

  // When the last key was pressed; -1 before any.
  int64_t last_key_us() const { return last_key_us_; }

 private:
  size_t max_keys_;
  int64_t timeout_us_;
  std::function<void()> on_timeout_;
  std::string keys_;
  int64_t last_key_us_ = -1;
  ScopedTask timer_;
};

}  // namespace callsim::agent
