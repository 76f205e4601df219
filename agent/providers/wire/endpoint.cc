#include "agent/providers/wire/endpoint.h"

#include <algorithm>

namespace callsim::agent::wire {
namespace {

std::string CheckTimeout(const char* name, int ms) {
  if (ms >= 1 && ms <= kMaxTimeoutMs) return "";
  return std::string(name) + " " + std::to_string(ms) + " is out of range (1 to " +
         std::to_string(kMaxTimeoutMs) + " ms)";
}

}  // namespace

std::string ValidateEndpoint(std::string_view what, const WireEndpoint& endpoint,
                             std::initializer_list<std::string_view> schemes, Url* base,
                             bool model_required) {
  const std::string prefix = std::string(what) + ": ";
  Url url;
  std::string error;
  if (!ParseUrl(endpoint.url, &url, &error)) {
    return prefix + "url \"" + RedactUrl(endpoint.url) + "\": " + error;
  }
  if (std::find(schemes.begin(), schemes.end(), url.scheme) == schemes.end()) {
    std::string expected;
    for (const std::string_view scheme : schemes) {
      if (!expected.empty()) expected += ", ";
      expected += std::string(scheme) + "://";
    }
    return prefix + "url \"" + RedactUrl(endpoint.url) + "\": scheme " + url.scheme +
           ":// is not supported here (expected " + expected + ")";
  }
  if (url.target.find('?') != std::string::npos) {
    return prefix + "url \"" + RedactUrl(endpoint.url) +
           "\": a base URL has no query string (keys go in api_key or headers)";
  }
  if (model_required && endpoint.model.empty()) return prefix + "no model given";
  const bool bad_key = std::any_of(endpoint.api_key.begin(), endpoint.api_key.end(),
                                   [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  if (bad_key) return prefix + "api_key has a control character";
  if (std::string problem = HeaderProblem(endpoint.headers); !problem.empty()) {
    return prefix + problem;
  }
  for (const auto& [name, ms] : {std::pair{"connect_timeout_ms", endpoint.connect_timeout_ms},
                                 std::pair{"response_timeout_ms", endpoint.response_timeout_ms},
                                 std::pair{"idle_timeout_ms", endpoint.idle_timeout_ms},
                                 std::pair{"keepalive_expiry_ms", endpoint.keepalive_expiry_ms}}) {
    if (std::string problem = CheckTimeout(name, ms); !problem.empty()) return prefix + problem;
  }
  if (endpoint.max_idle_connections < 0 || endpoint.max_idle_connections > 64) {
    return prefix + "max_idle_connections " + std::to_string(endpoint.max_idle_connections) +
           " is out of range (0 to 64)";
  }
  if (base != nullptr) *base = std::move(url);
  return "";
}

HttpPoolConfig PoolConfigOf(const WireEndpoint& endpoint) {
  return HttpPoolConfig{static_cast<size_t>(std::max(0, endpoint.max_idle_connections)),
                        endpoint.keepalive_expiry_ms};
}

HttpRequest JsonPost(const WireEndpoint& endpoint, const Url& url, uint64_t request_number,
                     const nlohmann::json& body, size_t max_body_bytes) {
  HttpRequest http;
  http.method = "POST";
  http.url = url;
  http.headers.emplace_back("Content-Type", "application/json");
  if (!endpoint.api_key.empty()) {
    http.headers.emplace_back("Authorization", "Bearer " + endpoint.api_key);
  }
  for (const auto& header : endpoint.headers) http.headers.push_back(header);
  http.headers.emplace_back("X-Callsim-Request", std::to_string(request_number));
  http.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  http.connect_timeout_ms = endpoint.connect_timeout_ms;
  http.response_timeout_ms = endpoint.response_timeout_ms;
  http.idle_timeout_ms = endpoint.idle_timeout_ms;
  http.max_body_bytes = max_body_bytes;
  return http;
}

}  // namespace callsim::agent::wire
