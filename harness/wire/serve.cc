#include "harness/wire/serve.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <prometheus/registry.h>

#include "harness/run/call_config.h"

namespace callsim::harness {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

bool ReadApiKeys(const std::string& path, std::vector<std::string>* keys, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot be read";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) {
    *error = path + ": larger than 1 MiB";
    return false;
  }
  std::istringstream lines(text.str());
  std::vector<std::string> out;
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    const std::string key = Trim(line);
    if (key.empty() || key[0] == '#') continue;
    if (key.size() < 16) {
      *error = path + ":" + std::to_string(n) + ": an API key must be at least 16 characters";
      return false;
    }
    out.push_back(key);
  }
  if (out.empty()) {
    *error = path + ": no API key in the file";
    return false;
  }
  *keys = std::move(out);
  return true;
}

fakes::FakeProvidersConfig MakeFakeProvidersConfig(const PlannedScenario& planned, uint64_t seed,
                                                   const std::vector<std::string>& api_keys) {
  const FakesSpec& f = planned.scenario->fakes;
  auto capacity = [](const CapacitySpec& c) {
    return fakes::CapacityConfig{c.max_concurrent, c.queue, c.queue_timeout_ms, c.rate_limit_per_s};
  };
  fakes::FakeProvidersConfig config;
  config.seed = seed;
  config.api_keys = api_keys;
  if (planned.script) config.script = *planned.script;
  config.llm = MakeLlmConfig(f.llm, nullptr);
  config.llm_faults = MakeFaultSpec(f.llm.faults);
  config.llm_capacity = capacity(f.llm.capacity);
  config.stt = MakeSttConfig(f.stt, nullptr);
  config.stt_faults = MakeFaultSpec(f.stt.faults);
  config.stt_capacity = capacity(f.stt.capacity);
  config.tts = MakeTtsConfig(f.tts, nullptr);
  config.tts_faults = MakeFaultSpec(f.tts.faults);
  config.tts_capacity = capacity(f.tts.capacity);
  return config;
}

Server::Server(const PlannedScenario& planned, ServeConfig config, Store* store)
    : config_(std::move(config)) {
  agent::ServerHooks hooks;
  if (!config_.api_keys.empty()) {
    if (config_.tokens.secret.empty()) config_.tokens.secret = agent::RandomSecret();
    tokens_ = std::make_unique<agent::TokenService>(config_.tokens, config_.api_keys);
    hooks.tokens = tokens_.get();
  }
  service_ = std::make_unique<AgentService>(planned, config_.service, store);
  hooks.log = config_.service.log;
  hooks.make_session = [this](agent::StreamIo io) {
    return service_->MakeSession(std::move(io), &http_->metrics());
  };
  hooks.registries.push_back(service_->metrics().registry().get());
  providers_ = std::make_unique<fakes::FakeProviders>(
      MakeFakeProvidersConfig(planned, config_.service.seed, config_.api_keys));
  hooks.routes = providers_->Routes();
  hooks.registries.push_back(&providers_->registry());
  hooks.streams = providers_->Streams();
  http_ = std::make_unique<agent::HttpServer>(config_.server, std::move(hooks));
  if (config_.sip) sip_ = std::make_unique<SipServer>(*service_, *config_.sip);
}

Server::~Server() { Stop(true); }

void Server::Start() {
  http_->Start();
  if (sip_) sip_->Start();
}

int Server::ServeUntilSignalled(const std::atomic<int>& signals) {
  using namespace std::chrono_literals;
  while (signals.load() < 1) std::this_thread::sleep_for(50ms);
  http_->StopAccepting();
  if (sip_) sip_->StopAccepting();
  const auto active = [this] { return http_->active_streams() + (sip_ ? sip_->active_calls() : 0); };
  if (config_.service.log) {
    config_.service.log("draining: " + std::to_string(active()) + " calls, at most " +
                        std::to_string(config_.drain_s) + " s");
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(config_.drain_s * 1000));
  while (active() > 0 && signals.load() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const bool cut = active() > 0;
  Stop(signals.load() >= 2);
  return cut ? 1 : 0;
}

void Server::Stop(bool aborted) {
  if (stopped_) return;
  stopped_ = true;
  if (sip_) sip_->Stop();
  http_->Shutdown();  // every session finished: their calls are queued for the store
  service_->Finish(aborted);
}

std::function<std::string(std::string* error)> TokenFetcher(WireUrl token_url, std::string api_key) {
  return [url = std::move(token_url), key = std::move(api_key)](std::string* error) -> std::string {
    HttpResponse response;
    if (!HttpPost(url, {{"Authorization", "Bearer " + key}}, "{}", 5000, &response, error)) {
      return "";
    }
    if (response.status != 200) {
      *error = "the token service answered " + std::to_string(response.status);
      for (const Header& h : response.headers) {
        if (h.first == "Retry-After" || h.first == "retry-after") {
          *error += " (Retry-After: " + h.second + ")";
        }
      }
      return "";
    }
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
      *error = "the token service's answer has no \"token\" string";
      return "";
    }
    return body["token"].get<std::string>();
  };
}

}  // namespace callsim::harness
