// Inside the fake provider servers (fake_providers.h): the state every request reads, and the
// helpers the three APIs share (who is asking, with which random stream, and errors in the
// providers' shapes).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include "agent/runtime/rng.h"
#include "agent/server/http_server.h"
#include "fakes/wire/fake_providers.h"
#include "fakes/wire/shared_capacity.h"

namespace callsim::fakes {

struct FakeProviders::State {
  explicit State(FakeProvidersConfig c);

  const FakeProvidersConfig config;
  std::unique_ptr<SharedCapacity> llm_capacity;  // null: unlimited
  std::unique_ptr<SharedCapacity> stt_capacity;
  std::unique_ptr<SharedCapacity> tts_capacity;

  // callsim_fake_provider_requests_total{api} and callsim_fake_provider_refusals_total{api,
  // reason}: what each API was asked and what it refused (thread-safe counters).
  struct ApiCounters {
    prometheus::Counter* requests = nullptr;
    prometheus::Counter* unauthorized = nullptr;
    prometheus::Counter* bad_request = nullptr;
    prometheus::Counter* rate_limited = nullptr;  // 429s (STT: closes over capacity)
    prometheus::Counter* faults = nullptr;        // injected errors, outages, drops, timeouts
  };
  std::shared_ptr<prometheus::Registry> registry;
  ApiCounters chat;  // /v1/chat/completions and /v1/models
  ApiCounters speech;
  ApiCounters listen;
};

namespace wire {

// The call a request belongs to (see fake_providers.h), never empty.
std::string CallOf(const agent::HttpRequest& request, std::string_view body_user);

// The request's random stream: Rng(X-Callsim-Seed or `seed`) forked by
// "<call>/<api>/<place>", where place is X-Callsim-Request when given, else a hash of `content`
// and x-stainless-retry-count.
agent::Rng RequestRng(uint64_t seed, const agent::HttpRequest& request, std::string_view call,
                      std::string_view api, std::string_view content);

// Whether the Authorization header carries one of `keys` after `scheme` ("Bearer", "Token"; any
// case). True when `keys` is empty.
bool Authorized(const std::vector<std::string>& keys, const agent::HttpRequest& request,
                std::string_view scheme);

// {"error": {"message", "type", "param": null, "code"}} as OpenAI answers errors.
std::string OpenAiErrorBody(std::string_view message, std::string_view type,
                            std::string_view code = {});

// A whole JSON answer.
void RespondJson(agent::HttpResponder& responder, int status, std::string body,
                 agent::HttpHeaders headers = {});

// The Retry-After and retry-after-ms headers a capacity refusal carries: the token bucket's
// refill time for a rate limit, else one second.
agent::HttpHeaders RetryAfterHeaders(const CapacityConfig& capacity, std::string_view error);

// The first steps of every OpenAI request: counts it, checks its key (401 as OpenAI answers it)
// and parses its body (400 when it is not JSON). False when it was answered; else *body is set.
bool OpenAiRequestBody(const FakeProviders::State::ApiCounters& counters,
                       const std::vector<std::string>& api_keys, const agent::HttpRequest& request,
                       agent::HttpResponder& responder, nlohmann::json* body);
// The body's `model`, as both OpenAI APIs require it: false with OpenAI's message and the field
// when the body is not an object or names no model.
bool ReadModel(const nlohmann::json& body, std::string* model, std::string* error,
               std::string* param);
// A 400 for a request whose field `param` is wrong, as OpenAI answers it.
void RespondBadRequest(const FakeProviders::State::ApiCounters& counters,
                       agent::HttpResponder& responder, const std::string& message,
                       const std::string& param);

// An id for answers ("chatcmpl-..."), derived from the request's stream so replays match.
std::string AnswerId(std::string_view prefix, agent::Rng rng);

}  // namespace wire
}  // namespace callsim::fakes
