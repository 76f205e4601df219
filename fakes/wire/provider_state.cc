#include "fakes/wire/provider_state.h"

#include <openssl/crypto.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace callsim::fakes {

FakeProviders::State::State(FakeProvidersConfig c)
    : config(std::move(c)),
      llm_capacity(MakeSharedCapacity(config.llm_capacity)),
      stt_capacity(MakeSharedCapacity(config.stt_capacity)),
      tts_capacity(MakeSharedCapacity(config.tts_capacity)),
      registry(std::make_shared<prometheus::Registry>()) {
  auto& requests = prometheus::BuildCounter()
                       .Name("callsim_fake_provider_requests_total")
                       .Help("Requests to the fake providers' wire APIs (Deepgram: streams).")
                       .Register(*registry);
  auto& refusals = prometheus::BuildCounter()
                       .Name("callsim_fake_provider_refusals_total")
                       .Help("Requests the fake providers refused or failed on purpose, by reason.")
                       .Register(*registry);
  auto counters = [&](const char* api) {
    ApiCounters c;
    c.requests = &requests.Add({{"api", api}});
    c.unauthorized = &refusals.Add({{"api", api}, {"reason", "unauthorized"}});
    c.bad_request = &refusals.Add({{"api", api}, {"reason", "bad_request"}});
    c.rate_limited = &refusals.Add({{"api", api}, {"reason", "capacity"}});
    c.faults = &refusals.Add({{"api", api}, {"reason", "fault"}});
    return c;
  };
  chat = counters("chat");
  speech = counters("speech");
  listen = counters("listen");
}

namespace wire {
namespace {

bool ParseU64(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CallOf(const agent::HttpRequest& request, std::string_view body_user) {
  if (std::string_view id = request.Header("X-Callsim-Call-Id"); !id.empty()) {
    return std::string(id);
  }
  if (!body_user.empty()) return std::string(body_user);
  if (std::optional<std::string> id = request.Query("callsim_call_id"); id && !id->empty()) {
    return *id;
  }
  if (std::optional<std::string> tag = request.Query("tag"); tag && !tag->empty()) return *tag;
  return "anonymous";
}

agent::Rng RequestRng(uint64_t seed, const agent::HttpRequest& request, std::string_view call,
                      std::string_view api, std::string_view content) {
  uint64_t header_seed = 0;
  if (ParseU64(request.Header("X-Callsim-Seed"), &header_seed)) seed = header_seed;
  std::string key = std::string(call) + "/" + std::string(api) + "/";
  if (std::string_view place = request.Header("X-Callsim-Request"); !place.empty()) {
    key += "request/" + std::string(place);
  } else {
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(agent::Fnv1a64(content)));
    std::string_view retry = request.Header("x-stainless-retry-count");
    key += std::string("content/") + hash + "/" + std::string(retry.empty() ? "0" : retry);
  }
  return agent::Rng(seed).Fork(key);
}

bool Authorized(const std::vector<std::string>& keys, const agent::HttpRequest& request,
                std::string_view scheme) {
  if (keys.empty()) return true;
  std::string_view value = request.Header("Authorization");
  if (value.size() <= scheme.size() || !EqualsIgnoringCase(value.substr(0, scheme.size()), scheme) ||
      value[scheme.size()] != ' ') {
    return false;
  }
  value.remove_prefix(scheme.size() + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  bool found = false;
  for (const std::string& key : keys) {
    // Every key is compared, in constant time for its length, so timing says nothing.
    if (key.size() == value.size() &&
        CRYPTO_memcmp(key.data(), value.data(), key.size()) == 0) {
      found = true;
    }
  }
  return found;
}

std::string OpenAiErrorBody(std::string_view message, std::string_view type,
                            std::string_view code) {
  nlohmann::json error = {{"message", message}, {"type", type}, {"param", nullptr}};
  error["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
  return nlohmann::json{{"error", std::move(error)}}.dump();
}

void RespondJson(agent::HttpResponder& responder, int status, std::string body,
                 agent::HttpHeaders headers) {
  headers.emplace_back("Content-Type", "application/json");
  responder.Respond(status, std::move(headers), std::move(body));
}

agent::HttpHeaders RetryAfterHeaders(const CapacityConfig& capacity, std::string_view error) {
  double ms = 1000;
  if (error == kRateLimitedError && capacity.rate_limit_per_s > 0) {
    ms = 1000.0 / capacity.rate_limit_per_s;
  }
  const long long seconds = std::max(1LL, static_cast<long long>(std::ceil(ms / 1000.0)));
  return {{"Retry-After", std::to_string(seconds)},
          {"retry-after-ms", std::to_string(static_cast<long long>(std::ceil(ms)))}};
}

bool OpenAiRequestBody(const FakeProviders::State::ApiCounters& counters,
                       const std::vector<std::string>& api_keys, const agent::HttpRequest& request,
                       agent::HttpResponder& responder, nlohmann::json* body) {
  counters.requests->Increment();
  if (!Authorized(api_keys, request, "Bearer")) {
    counters.unauthorized->Increment();
    RespondJson(responder, 401,
                OpenAiErrorBody("Incorrect API key provided.", "invalid_request_error",
                                "invalid_api_key"));
    return false;
  }
  *body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) {
    counters.bad_request->Increment();
    RespondJson(responder, 400,
                OpenAiErrorBody("We could not parse the JSON body of your request.",
                                "invalid_request_error"));
    return false;
  }
  return true;
}

bool ReadModel(const nlohmann::json& body, std::string* model, std::string* error,
               std::string* param) {
  if (!body.is_object()) {
    *error = "the request body must be a JSON object";
    *param = "";
    return false;
  }
  const auto found = body.find("model");
  if (found == body.end() || !found->is_string() || found->get<std::string>().empty()) {
    *error = "you must provide a model parameter";
    *param = "model";
    return false;
  }
  *model = found->get<std::string>();
  return true;
}

void RespondBadRequest(const FakeProviders::State::ApiCounters& counters,
                       agent::HttpResponder& responder, const std::string& message,
                       const std::string& param) {
  counters.bad_request->Increment();
  nlohmann::json answer = nlohmann::json::parse(OpenAiErrorBody(message, "invalid_request_error"));
  if (!param.empty()) answer["error"]["param"] = param;
  RespondJson(responder, 400, answer.dump());
}

std::string AnswerId(std::string_view prefix, agent::Rng rng) {
  char hex[25];
  std::snprintf(hex, sizeof hex, "%016llx%08llx", static_cast<unsigned long long>(rng.NextU64()),
                static_cast<unsigned long long>(rng.NextU64() & 0xffffffffULL));
  return std::string(prefix) + hex;
}

}  // namespace wire
}  // namespace callsim::fakes
