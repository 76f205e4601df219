#include "fakes/wire/fake_providers.h"

#include "fakes/wire/deepgram_live.h"
#include "fakes/wire/openai_chat.h"
#include "fakes/wire/openai_speech.h"
#include "fakes/wire/provider_state.h"

namespace callsim::fakes {

FakeProviders::FakeProviders(FakeProvidersConfig config)
    : state_(std::make_shared<State>(std::move(config))) {}

FakeProviders::~FakeProviders() = default;

std::vector<agent::HttpRoute> FakeProviders::Routes() {
  const std::shared_ptr<State> state = state_;
  std::vector<agent::HttpRoute> routes;
  routes.push_back({"POST", "/v1/chat/completions", state->config.max_chat_body_bytes,
                    [state](agent::HttpRequest request,
                            std::shared_ptr<agent::HttpResponder> responder) {
                      wire::HandleChat(state, std::move(request), std::move(responder));
                    }});
  routes.push_back({"GET", "/v1/models", 1024,
                    [state](agent::HttpRequest request,
                            std::shared_ptr<agent::HttpResponder> responder) {
                      wire::HandleModels(state, std::move(request), std::move(responder));
                    }});
  // The input's own bound, and room for the rest of the JSON.
  routes.push_back({"POST", "/v1/audio/speech", state->config.max_speech_input_chars * 6 + 4096,
                    [state](agent::HttpRequest request,
                            std::shared_ptr<agent::HttpResponder> responder) {
                      wire::HandleSpeech(state, std::move(request), std::move(responder));
                    }});
  return routes;
}

std::vector<agent::StreamRoute> FakeProviders::Streams() {
  const std::shared_ptr<State> state = state_;
  agent::StreamRoute listen;
  listen.path = "/v1/listen";
  listen.binary = true;
  listen.admit = [state](const agent::HttpRequest& request) {
    return wire::AdmitListen(state, request);
  };
  listen.make_session = [state](agent::StreamIo io) {
    return wire::MakeListenSession(state, std::move(io));
  };
  return {std::move(listen)};
}

const prometheus::Registry& FakeProviders::registry() const { return *state_->registry; }

}  // namespace callsim::fakes
