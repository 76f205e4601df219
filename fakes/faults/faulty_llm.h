// An LlmProvider that makes another one fail on purpose, for testing how the agent copes: each
// request draws whether it errors ("injected error" after a short delay, without reaching the
// inner provider), never answers, or is dropped part way (1..drop_max_tokens tokens or tool calls,
// then neither done nor error); during an outage window every new request fails ("unavailable").
// Other requests go straight to the inner provider, untouched.
#pragma once

#include <cstdint>
#include <memory>

#include "agent/providers/llm.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/faults/fault_spec.h"

namespace callsim::fakes {

class FaultyLlm final : public agent::LlmProvider {
 public:
  // `inner` is not owned; it and the scheduler must outlive this object and its streams. Request
  // n (1-based) draws its fate from rng.Fork("request/<n>") (DrawFault), so one request's fate
  // does not depend on the others'. `spec` should pass ValidateFaultSpec.
  FaultyLlm(agent::Scheduler& scheduler, agent::Rng rng, FaultSpec spec, agent::LlmProvider& inner);

  std::unique_ptr<agent::LlmStream> Start(const agent::LlmRequest& request,
                                          agent::LlmListener listener) override;

  const FaultStats& stats() const { return stats_; }

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  FaultSpec spec_;
  agent::LlmProvider& inner_;
  FaultStats stats_;
};

}  // namespace callsim::fakes
