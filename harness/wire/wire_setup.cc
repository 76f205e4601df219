#include "harness/wire/wire_setup.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include "agent/sip/sip_uri.h"

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

// USER:PASSWORD from the variable `env`.
bool ReadSipCredentials(const std::string& env, agent::sip::DigestCredentials* out,
                        std::string* error) {
  const char* value = std::getenv(env.c_str());
  const std::string text = value ? value : "";
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    *error = "--sip-auth-env: $" + env + (value ? " must hold USER:PASSWORD" : " is not set");
    return false;
  }
  out->username = text.substr(0, colon);
  out->password = text.substr(colon + 1);
  return true;
}

// This machine's address toward `host` (the source address the kernel picks for it).
bool LocalAddressToward(const std::string& host, uint16_t port, std::string* out,
                        std::string* error) {
  namespace asio = boost::asio;
  try {
    asio::io_context io;
    asio::ip::udp::resolver resolver(io);
    const auto results = resolver.resolve(asio::ip::udp::v4(), host, std::to_string(port));
    if (results.empty()) throw std::runtime_error("no IPv4 address");
    asio::ip::udp::socket probe(io, asio::ip::udp::v4());
    probe.connect(results.begin()->endpoint());  // no datagram is sent
    *out = probe.local_endpoint().address().to_string();
    return true;
  } catch (const std::exception& e) {
    *error = "--target: cannot reach " + host + ": " + e.what();
    return false;
  }
}

// `uri` with its host resolved to an IPv4 address (a name stays a name in To and From only).
bool ResolveSipUri(const std::string& uri, std::string* out, std::string* error) {
  const std::optional<agent::sip::HostPort> hp = agent::sip::ParseSipUriHostPort(uri, error);
  if (!hp) return false;
  boost::system::error_code ec;
  boost::asio::ip::make_address(hp->host, ec);
  if (!ec) {
    *out = uri;
    return true;
  }
  try {
    boost::asio::io_context io;
    boost::asio::ip::udp::resolver resolver(io);
    const auto results =
        resolver.resolve(boost::asio::ip::udp::v4(), hp->host, std::to_string(hp->port));
    if (results.empty()) throw std::runtime_error("no IPv4 address");
    const std::string address = results.begin()->endpoint().address().to_string();
    *out = uri;
    out->replace(out->find(hp->host), hp->host.size(), address);
    return true;
  } catch (const std::exception& e) {
    *error = "--target: cannot resolve " + hp->host + ": " + e.what();
    return false;
  }
}

}  // namespace

bool IsSipTarget(const TargetFlags& f) {
  // sips: too, so that it is refused as SIP (no TLS) rather than as a bad URL.
  return f.target.rfind("sip:", 0) == 0 || f.target.rfind("sips:", 0) == 0 ||
         (f.target == "self" && f.protocol == "sip");
}

bool CheckTargetFlags(const TargetFlags& f, std::string* error) {
  if (f.target.empty()) {
    if (!f.token_url.empty() || !f.api_key_env.empty() || !f.headers.empty() ||
        !f.protocol.empty() || f.srtp || !f.sip_auth_env.empty()) {
      *error = "--token-url, --api-key-env, --header, --protocol, --srtp and --sip-auth-env need "
               "--target";
      return false;
    }
    return true;
  }
  if (!f.protocol.empty() && f.protocol != "twilio" && f.protocol != "sip") {
    *error = "--protocol: expected twilio or sip, got \"" + f.protocol + "\"";
    return false;
  }
  if (f.target.rfind("sip:", 0) == 0 && f.protocol == "twilio") {
    *error = "--protocol twilio does not go with a sip: target";
    return false;
  }
  if (IsSipTarget(f)) {
    if (!f.token_url.empty() || !f.api_key_env.empty() || !f.headers.empty()) {
      *error = "--token-url, --api-key-env and --header are for WebSocket targets, not SIP";
      return false;
    }
    if (f.target != "self") {
      if (!agent::sip::ParseSipUriHostPort(f.target, error)) {
        *error = "--target: " + *error;
        return false;
      }
      const size_t at = f.target.find('@');
      if (at != std::string::npos && f.target.substr(0, at).find(':', 4) != std::string::npos) {
        *error = "--target: no password in the SIP URI; give credentials with --sip-auth-env";
        return false;
      }
    }
    agent::sip::DigestCredentials creds;
    if (!f.sip_auth_env.empty() && !ReadSipCredentials(f.sip_auth_env, &creds, error)) {
      return false;
    }
    return true;
  }
  if (f.srtp || !f.sip_auth_env.empty()) {
    *error = "--srtp and --sip-auth-env are for SIP targets (sip:... or self with --protocol sip)";
    return false;
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
  const bool sip = IsSipTarget(flags);
  std::optional<agent::sip::DigestCredentials> creds;
  if (sip && !flags.sip_auth_env.empty()) {
    creds.emplace();
    if (!ReadSipCredentials(flags.sip_auth_env, &*creds, error)) return nullptr;
  }
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
    if (sip) {
      SipServeConfig sip_config;
      sip_config.host = "127.0.0.1";
      sip_config.port = 0;
      sip_config.srtp = flags.srtp ? SrtpPolicy::kRequired : SrtpPolicy::kOff;
      sip_config.auth = creds;
      config.sip = sip_config;
    }
    setup->self_ = std::make_unique<Server>(plan.scenarios[0], std::move(config), nullptr);
    try {
      setup->self_->Start();
    } catch (const std::exception& e) {
      *error = std::string("--target self: ") + e.what();
      return nullptr;
    }
    const std::string base = "127.0.0.1:" + std::to_string(setup->self_->port());
    url_text = sip ? "sip:agent@127.0.0.1:" + std::to_string(setup->self_->sip_port())
                   : "ws://" + base + "/twilio";
    WireUrl token_url;
    ParseWireUrl("http://" + base + "/v1/token", &token_url, error);
    target.token = TokenFetcher(token_url, key_hex);
    target.relay = &setup->relay_;
  } else if (!flags.token_url.empty()) {
    WireUrl token_url;
    if (!ParseWireUrl(flags.token_url, &token_url, error)) return nullptr;
    target.token = TokenFetcher(token_url, std::getenv(flags.api_key_env.c_str()));
  }
  if (sip) {
    SipTargetInfo info;
    if (!ResolveSipUri(url_text, &info.request_uri, error)) return nullptr;
    const std::optional<agent::sip::HostPort> hp =
        agent::sip::ParseSipUriHostPort(info.request_uri, error);
    if (!hp || !LocalAddressToward(hp->host, hp->port, &info.local_host, error)) return nullptr;
    info.srtp = flags.srtp;
    info.credentials = creds;
    target.sip = std::move(info);
    target.token = nullptr;  // SIP calls fetch no token
  } else if (!ParseWireUrl(url_text, &target.url, error)) {
    return nullptr;
  }
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
