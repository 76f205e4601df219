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

  template <typename State>
  static TtsListener Wrap(std::weak_ptr<State> weak, uint64_t attempt) {
    return resilience_detail::WrapAttempt<TtsListener>(std::move(weak), attempt, &TtsListener::on_audio);
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
