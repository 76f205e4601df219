// A TtsProvider that survives a failing voice: a request that errors or sends no first audio frame
// within the policy's timeout, before any audio reached the agent, is retried on the primary after
// a backoff, then tried once on the secondary, and only then reported to the agent as on_error. An
// error after audio was delivered is passed on as is. Each step is an event (source "agent", see
// RetryLadder). Time only from the Scheduler.
#pragma once

#include <memory>
#include <string>

#include "agent/providers/retry_policy.h"
#include "agent/providers/tts.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

class ResilientTts final : public TtsProvider {
 public:
  // `secondary` may be nullptr (no failover). The scheduler, the event sink and both providers
  // are not owned; they must outlive this object and every stream it returns. `policy` is used
  // Bounded().
  ResilientTts(Scheduler& scheduler, EventSink& events, RetryPolicy policy, TtsProvider& primary,
               TtsProvider* secondary = nullptr);

  // Sends the text to the primary at once. The listener gets the frames of one attempt only; at
  // most one on_done or on_error in all. Cancel() or destroying the stream stops every attempt
  // and timer: no callback follows.
  std::unique_ptr<TtsStream> Synthesize(const std::string& text, TtsListener listener) override;

  const ResilienceStats& stats() const { return context_->stats; }
  const RetryPolicy& policy() const { return context_->policy; }

 private:
  std::shared_ptr<ResilienceContext> context_;  // shared with the streams
  TtsProvider& primary_;
  TtsProvider* secondary_;
};

}  // namespace callsim::agent
