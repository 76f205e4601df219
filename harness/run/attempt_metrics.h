// The agent's Prometheus metrics for a run attempt that may be thrown away: calls on lanes whose
// shared circuit breaker could have opened, or workers whose parts turn out coupled, run again
// on one clock, and the metrics must count each call once.
#pragma once

#include <memory>

#include "agent/observability/agent_metrics.h"
#include "harness/run/runner.h"

namespace callsim::harness {

class AttemptMetrics {
 public:
  // With `apart` (and a run that has agent metrics) the attempt records into a registry of its
  // own, added to the run's by Keep(); otherwise straight into the run's. `options` must outlive
  // this object only for the constructor.
  AttemptMetrics(const RunOptions& options, bool apart) : options_(options) {
    if (apart && options.agent_metrics != nullptr) {
      own_ = std::make_unique<agent::AgentMetrics>(options.agent_metrics->declared_tools());
      run_metrics_ = options.agent_metrics;
      options_.agent_metrics = own_.get();
    }
  }
  AttemptMetrics(const AttemptMetrics&) = delete;
  AttemptMetrics& operator=(const AttemptMetrics&) = delete;

  // The run's options with the attempt's metrics: what the attempt runs with.
  const RunOptions& options() const { return options_; }
  // The attempt stands: its counts join the run's (once; later calls do nothing).
  void Keep() {
    if (own_ != nullptr && run_metrics_ != nullptr) run_metrics_->Add(*own_);
    run_metrics_ = nullptr;
  }

 private:
  RunOptions options_;
  std::unique_ptr<agent::AgentMetrics> own_;
  agent::AgentMetrics* run_metrics_ = nullptr;
};

}  // namespace callsim::harness
