// Where a provider client sends its requests, and the bounds on each one. Shared by OpenAiLlm,
// DeepgramStt and OpenAiTts (agent/providers/wire/).
#pragma once

#include <cstdint>
#include <initializer_list>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/providers/wire/http_client.h"
#include "agent/providers/wire/url.h"

namespace callsim::agent::wire {

struct WireEndpoint {
  // The provider's base URL: https://api.openai.com/v1, wss://api.deepgram.com, or a fake's
  // http://127.0.0.1:8080/v1. No query string or fragment.
  std::string url;
  std::string model;
  std::string api_key;  // "" sends no credentials
  // Added to every request (e.g. X-Callsim-Call-Id, X-Callsim-Seed).
  std::vector<std::pair<std::string, std::string>> headers;
  int connect_timeout_ms = 3000;    // resolve, TCP connect, TLS handshake (and a WebSocket upgrade)
  int response_timeout_ms = 15000;  // the request sent and the response head received
  int idle_timeout_ms = 15000;      // between pieces of a body (between messages on a WebSocket)
  // Idle keep-alive connections kept per client object, and for how long.
  int max_idle_connections = 4;
  int keepalive_expiry_ms = 30000;
};

// Every timeout is within [1, kMaxTimeoutMs].
inline constexpr int kMaxTimeoutMs = 10 * 60 * 1000;

// Checks `endpoint` for a client named `what` ("OpenAI LLM") accepting the given URL schemes; ""
// when it is usable, else the reason ("OpenAI LLM: url \"ftp://x\": unsupported scheme ..."). On
// success *base (if non-null) is the parsed URL.
std::string ValidateEndpoint(std::string_view what, const WireEndpoint& endpoint,
                             std::initializer_list<std::string_view> schemes, Url* base,
                             bool model_required);

// The keep-alive pool a client keeps for `endpoint`.
HttpPoolConfig PoolConfigOf(const WireEndpoint& endpoint);

// A JSON POST of `body` to `url` as an OpenAI-style client sends it: Content-Type, the key as
// `Authorization: Bearer`, the endpoint's headers, X-Callsim-Request (the client's `request_number`:
// a server of callsim's fakes draws each request's answer by it, so a retry of a request is not
// answered as the request it retries) and the endpoint's timeouts. Invalid UTF-8 in `body` is
// replaced, not thrown on.
HttpRequest JsonPost(const WireEndpoint& endpoint, const Url& url, uint64_t request_number,
                     const nlohmann::json& body, size_t max_body_bytes);

}  // namespace callsim::agent::wire
