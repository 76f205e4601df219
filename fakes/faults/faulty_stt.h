// An SttProvider that makes another one fail on purpose, for testing how the agent copes. A session
// is a run of requests: request k is the audio after the (k-1)th Finalize() up to and including
// the kth, and draws its fate when it begins. At its Finalize an erroring request sends
// "injected error" after a short delay instead of the final, and a timed-out one never answers; a
// dropped request stops the session part way (after 0..drop_max_results interims, or at its
// Finalize if sooner). After any of these the session ignores later audio and sends no more
// interims; finals still owed for earlier requests arrive, and an error is always the last
// callback. A session opened during an outage fails ("unavailable") after a short delay, and a
// session still answering when an outage starts fails at its start. Other sessions pass through.
#pragma once

#include <cstdint>
#include <memory>

#include "agent/providers/stt.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/faults/fault_spec.h"

namespace callsim::fakes {

class FaultyStt final : public agent::SttProvider {
 public:
  // `inner` is not owned; it and the scheduler must outlive this object and its sessions. Session
  // n (1-based) draws from rng.Fork("session/<n>"), its request k from that .Fork("request/<k>")
  // (DrawFault), so no fate depends on another session or request. `spec` should pass
  // ValidateFaultSpec.
  FaultyStt(agent::Scheduler& scheduler, agent::Rng rng, FaultSpec spec, agent::SttProvider& inner);

  std::unique_ptr<agent::SttSession> Open(agent::SttListener listener) override;

  // `requests` counts requests that ended: by their Finalize, by a drop, or by an outage (a
  // session opened in one is one request). A request still open when its session closes is not
  // counted.
  const FaultStats& stats() const { return *stats_; }

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  std::shared_ptr<const FaultSpec> spec_;  // shared with the sessions, as are the stats
  agent::SttProvider& inner_;
  std::shared_ptr<FaultStats> stats_ = std::make_shared<FaultStats>();
  uint64_t sessions_opened_ = 0;
};

}  // namespace callsim::fakes
