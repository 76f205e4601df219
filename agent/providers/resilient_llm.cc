#include "agent/providers/resilient_llm.h"

#include <utility>

#include "agent/providers/retrying_request.h"

namespace callsim::agent {
namespace {

struct LlmOps {
  using Provider = LlmProvider;
  using Stream = LlmStream;
  using Request = LlmRequest;
  using Listener = LlmListener;

  static std::unique_ptr<LlmStream> Send(LlmProvider& provider, const LlmRequest& request,
                                         LlmListener listener) {
    return provider.Start(request, std::move(listener));
  }

  template <typename State>
  static LlmListener Wrap(std::weak_ptr<State> weak, uint64_t attempt) {
    return resilience_detail::WrapAttempt<LlmListener>(
        std::move(weak), attempt, &LlmListener::on_token, &LlmListener::on_tool_call);
  }
};

}  // namespace

ResilientLlm::ResilientLlm(Scheduler& scheduler, EventSink& events, RetryPolicy policy,
                           LlmProvider& primary, LlmProvider* secondary)
    : context_(std::make_shared<ResilienceContext>(scheduler, events, policy, "llm")),
      primary_(primary),
      secondary_(secondary) {}

std::unique_ptr<LlmStream> ResilientLlm::Start(const LlmRequest& request, LlmListener listener) {
  return resilience_detail::StartRetrying<LlmOps>(context_, primary_, secondary_, request,
                                                  std::move(listener));
}

}  // namespace callsim::agent
