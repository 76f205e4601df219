// `callsim serve`: the reference agent as a network service (agent/server/http_server.h) with an
// AgentService behind /twilio, the token service when API keys are given, and the agent's and
// the server's metrics on /metrics; on the same listener, the file's fakes over the providers'
// own wire APIs (fakes/wire/fake_providers.h: /v1/chat/completions, /v1/models,
// /v1/audio/speech, /v1/listen), with the same API keys. Also what `callsim run --target self`
// starts in-process.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/server/http_server.h"
#include "agent/server/token_service.h"
#include "fakes/wire/fake_providers.h"
#include "harness/run/runner.h"
#include "harness/store/store.h"
#include "harness/wire/agent_service.h"
#include "harness/wire/sip_server.h"
#include "harness/wire/wire_call.h"

namespace callsim::harness {

struct ServeConfig {
  agent::ServerConfig server;
  AgentServiceOptions service;
  std::vector<std::string> api_keys;  // empty: streams need no token
  agent::TokenConfig tokens;          // the secret is made at random when empty
  double drain_s = 30;                // after the first signal: how long calls may finish
  std::optional<SipServeConfig> sip;  // set: SIP calls are answered too (--sip)
};

// The fake providers' configuration from a scenario's fakes section (scripts, latency, capacity,
// faults), the server's seed and its API keys.
fakes::FakeProvidersConfig MakeFakeProvidersConfig(const PlannedScenario& planned, uint64_t seed,
                                                   const std::vector<std::string>& api_keys);

// Reads an API key file: one key per line; blank lines and lines starting with # are skipped,
// surrounding spaces trimmed. False with the reason (never a key) in *error when the file cannot
// be read, is over 1 MiB, holds no key, or a key is shorter than 16 characters.
bool ReadApiKeys(const std::string& path, std::vector<std::string>* keys, std::string* error);

class Server {
 public:
  // `planned` and `store` (null: nothing stored) must outlive the server.
  Server(const PlannedScenario& planned, ServeConfig config, Store* store);
  ~Server();

  // Binds and starts; throws std::runtime_error when it cannot.
  void Start();
  uint16_t port() const { return http_->port(); }
  // The SIP port (0 without --sip).
  uint16_t sip_port() const { return sip_ ? sip_->port() : 0; }
  agent::HttpServer& http() { return *http_; }
  AgentService& service() { return *service_; }
  fakes::FakeProviders& providers() { return *providers_; }

  // Waits for `signals` to reach 1, then drains: stops accepting, lets the active calls finish
  // for up to drain_s (or until `signals` reaches 2), closes the rest, stores every finished call
  // and finishes the run. Returns 0 when the drain finished in time, 1 when calls were cut.
  int ServeUntilSignalled(const std::atomic<int>& signals);
  // Closes every connection now and finishes the run (aborted when `aborted`). Idempotent.
  void Stop(bool aborted);

 private:
  ServeConfig config_;
  std::unique_ptr<agent::TokenService> tokens_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<fakes::FakeProviders> providers_;  // outlives the server that routes to it
  std::unique_ptr<agent::HttpServer> http_;
  std::unique_ptr<SipServer> sip_;
  bool stopped_ = false;
};

// A token source for WireTarget::token: POST `token_url` with Authorization: Bearer `api_key`,
// reading {"token": ...} from a 200 answer; any other answer is an error that names the status
// (and Retry-After for a 429), never the key.
std::function<std::string(std::string* error)> TokenFetcher(WireUrl token_url, std::string api_key);

}  // namespace callsim::harness
