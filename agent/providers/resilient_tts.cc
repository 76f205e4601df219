#include "agent/providers/resilient_tts.h"

#include <utility>

#include "agent/providers/retrying_request.h"

namespace callsim::agent {
namespace {

struct TtsOps {
  using Provider = TtsProvider;
  using Stream = TtsStream;
  using Request = std::string;
  using Listener = TtsListener;

  static std::unique_ptr<TtsStream> Send(TtsProvider& provider, const std::string& text,
                                         TtsListener listener) {
    return provider.Synthesize(text, std::move(listener));
  }

  // Per frame: one weak_ptr lock and two compares, no allocation.
  template <typename State>
  static TtsListener Wrap(std::weak_ptr<State> weak, uint64_t attempt) {
    TtsListener wrapped;
    wrapped.on_audio = [weak, attempt](const Frame& frame) {
      std::shared_ptr<State> state = weak.lock();
      if (!state || !state->Live(attempt)) return;
      state->OnContent();
      if (state->listener().on_audio) state->listener().on_audio(frame);
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

ResilientTts::ResilientTts(Scheduler& scheduler, EventSink& events, RetryPolicy policy,
                           TtsProvider& primary, TtsProvider* secondary)
    : context_(std::make_shared<ResilienceContext>(scheduler, events, policy, "tts")),
      primary_(primary),
      secondary_(secondary) {}

std::unique_ptr<TtsStream> ResilientTts::Synthesize(const std::string& text,
                                                    TtsListener listener) {
  return resilience_detail::StartRetrying<TtsOps>(context_, primary_, secondary_, text,
                                                  std::move(listener));
}

}  // namespace callsim::agent
