#include "harness/wire/wire_setup.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace callsim::harness {
namespace {

bool ParseHeader(const std::string& text, Header* out, std::string* error) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    *error = "--header: expected NAME:VALUE, got \"" + text.substr(0, 64) + "\"";
    return false;
  }
  std::string name = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  for (const char c : name + value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      *error = "--header: control characters are not allowed";
      return false;
    }
  }
  *out = {std::move(name), std::move(value)};
  return true;
}

}  // namespace

bool CheckTargetFlags(const TargetFlags& f, std::string* error) {
  if (f.target.empty()) {
    if (!f.token_url.empty() || !f.api_key_env.empty() || !f.headers.empty() || f.workers != 0) {
      *error = "--token-url, --api-key-env, --header and --workers need --target";
      return false;
    }
    return true;
  }
  if (f.target != "self") {
    WireUrl url;
    if (!ParseWireUrl(f.target, &url, error) || url.scheme != "ws") {
      if (error->empty() || url.scheme == "http") *error = "expected ws://HOST:PORT/PATH or self";
      *error = "--target: " + *error;
      return false;
    }
  } else if (!f.token_url.empty() || !f.api_key_env.empty()) {
    *error = "--target self makes its own tokens: leave out --token-url and --api-key-env";
    return false;
  }
  if (f.token_url.empty() != f.api_key_env.empty()) {
    *error = "--token-url and --api-key-env go together";
    return false;
  }
  if (!f.token_url.empty()) {
    WireUrl url;
    if (!ParseWireUrl(f.token_url, &url, error) || url.scheme != "http") {
      *error = "--token-url: " + (error->empty() ? std::string("expected http://HOST:PORT/PATH") : *error);
      return false;
    }
    const char* key = std::getenv(f.api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      *error = "--api-key-env: $" + f.api_key_env + " is not set";
      return false;
    }
  }
  for (const std::string& h : f.headers) {
    Header parsed;
    if (!ParseHeader(h, &parsed, error)) return false;
  }
  return true;
}

std::unique_ptr<WireSetup> WireSetup::Make(const TargetFlags& flags, const RunPlan& plan,
                                           uint64_t seed, std::string* error) {
  std::unique_ptr<WireSetup> setup(new WireSetup());
  WireTarget target;
  for (const std::string& h : flags.headers) {
    Header parsed;
    if (!ParseHeader(h, &parsed, error)) return nullptr;
    target.headers.push_back(std::move(parsed));
  }
  std::string url_text = flags.target;
  if (flags.target == "self") {
    if (plan.scenarios.size() != 1) {
      *error = "--target self serves one scenario's agent; a mix needs a served agent per entry";
      return nullptr;
    }
    ServeConfig config;
    config.server.port = 0;
    config.server.workers = 1;
    const std::string api_key = agent::RandomSecret();
    const std::string key_hex = [&] {
      static const char* kHex = "0123456789abcdef";
      std::string out;
      for (const unsigned char c : api_key) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return out;
    }();
    config.api_keys = {key_hex};
    config.tokens.rate_per_s = 100000;  // every caller of the run may ask at once
    config.tokens.burst = 100000;
    config.service.seed = seed;
    config.service.agent_arg = plan.main->source_path;
    config.service.relay = &setup->relay_;
    setup->self_ = std::make_unique<Server>(plan.scenarios[0], std::move(config), nullptr);
    try {
      setup->self_->Start();
    } catch (const std::exception& e) {
      *error = std::string("--target self: ") + e.what();
      return nullptr;
    }
    const std::string base = "127.0.0.1:" + std::to_string(setup->self_->port());
    url_text = "ws://" + base + "/twilio";
    WireUrl token_url;
    ParseWireUrl("http://" + base + "/v1/token", &token_url, error);
    target.token = TokenFetcher(token_url, key_hex);
    target.relay = &setup->relay_;
  } else if (!flags.token_url.empty()) {
    WireUrl token_url;
    if (!ParseWireUrl(flags.token_url, &token_url, error)) return nullptr;
    target.token = TokenFetcher(token_url, std::getenv(flags.api_key_env.c_str()));
  }
  if (!ParseWireUrl(url_text, &target.url, error)) return nullptr;
  // With the agent in the process on one worker, the callers leave it a core: on a small machine
  // a starved agent sends late and its callers hear gaps.
  int workers = flags.workers;
  if (workers == 0 && setup->self_) {
    workers = static_cast<int>(std::max(2u, std::thread::hardware_concurrency())) - 1;
  }
  setup->engine_ = std::make_unique<WireEngine>(std::move(target), url_text, workers);
  return setup;
}

WireSetup::~WireSetup() {
  engine_.reset();  // the callers' sockets close first
  if (self_) self_->Stop(false);
}

}  // namespace callsim::harness
