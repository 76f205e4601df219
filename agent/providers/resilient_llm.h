// An LlmProvider that survives a failing model: a request that errors or sends no first token (or
// tool call) within the policy's timeout, before anything reached the agent, is retried on the
// primary after a backoff, then tried once on the secondary, and only then reported to the agent
// as on_error. An error after tokens were delivered is passed on as is: the agent cannot un-hear
// them. Each step is an event (source "agent", see RetryLadder). Time only from the Scheduler.
#pragma once

#include <memory>

#include "agent/providers/llm.h"
#include "agent/providers/retry_policy.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

class ResilientLlm final : public LlmProvider {
 public:
  // `secondary` may be nullptr (no failover). The scheduler, the event sink and both providers
  // are not owned; they must outlive this object and every stream it returns. `policy` is used
  // Bounded().
  ResilientLlm(Scheduler& scheduler, EventSink& events, RetryPolicy policy, LlmProvider& primary,
               LlmProvider* secondary = nullptr);

  // Sends the request to the primary at once. The listener gets the events of one attempt only;
  // at most one on_done or on_error in all. Cancel() or destroying the stream stops every
  // attempt and timer: no callback follows.
  std::unique_ptr<LlmStream> Start(const LlmRequest& request, LlmListener listener) override;

  const ResilienceStats& stats() const { return context_->stats; }
  const RetryPolicy& policy() const { return context_->policy; }

 private:
  std::shared_ptr<ResilienceContext> context_;  // shared with the streams
  LlmProvider& primary_;
  LlmProvider* secondary_;
};

}  // namespace callsim::agent
