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
    LlmListener wrapped;
    wrapped.on_token = [weak, attempt](const std::string& token) {
      std::shared_ptr<State> state = weak.lock();
      if (!state || !state->Live(attempt)) return;
      state->OnContent();
      if (state->listener().on_token) state->listener().on_token(token);
    };
    wrapped.on_tool_call = [weak, attempt](const ToolCallRequest& call) {
      std::shared_ptr<State> state = weak.lock();
      if (!state || !state->Live(attempt)) return;
      state->OnContent();
      if (state->listener().on_tool_call) state->listener().on_tool_call(call);
    };
    wrapped.on_done = [weak, attempt] {
      std::shared_ptr<State> state = weak.lock();
      if (state && state->Live(attempt)) state->OnDone();
    };
    wrapped.on_error = [weak, attempt](const std::string& error) {
      std::shared_ptr<State> state = weak.lock();
      if (state && state->Live(attempt)) state->OnError(error);
    };
    return wrapped;
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
