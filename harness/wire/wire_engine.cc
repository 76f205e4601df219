#include "harness/wire/wire_engine.h"

#include <chrono>

#include "harness/run/runner.h"

namespace callsim::harness {

WireEngine::WireEngine(WireTarget target, std::string url_text)
    : work_(boost::asio::make_work_guard(io_)),
      scheduler_(std::make_unique<agent::RealtimeScheduler>(io_)),
      target_(std::move(target)),
      url_text_(std::move(url_text)) {
  if (target_.token) {
    tokens_ = std::make_unique<TokenThread>(io_, target_.token);
    target_.tokens = tokens_.get();
  }
}

WireEngine::~WireEngine() {
  tokens_.reset();     // no result is posted after this
  scheduler_.reset();  // before the io_context, on this thread
}

nlohmann::json WireEngine::Describe() const {
  nlohmann::json headers = nlohmann::json::array();
  for (const Header& h : target_.headers) headers.push_back(h.first);  // names only
  return {{"protocol", "twilio"},
          {"target", RedactUrl(url_text_)},
          {"headers", headers},
          {"token", static_cast<bool>(target_.token)},
          {"self", target_.relay != nullptr}};
}

std::unique_ptr<RunCall> WireEngine::MakeCall(const PlannedScenario& planned, int call_id,
                                              const agent::Rng& run_rng,
                                              const CallServices& services,
                                              RunCall::FinishedFn on_finished) {
  return std::make_unique<WireCall>(io_, *scheduler_, *planned.scenario, call_id, run_rng,
                                    services, target_, &lateness_, std::move(on_finished));
}

// At most 100 ms per wait, so an abort flag is read that often even when nothing happens.
bool WireEngine::RunOne() {
  io_.run_one_for(std::chrono::milliseconds(100));
  return !io_.stopped();
}

// Runs what is due now and what that makes due, for at most 200 ms.
void WireEngine::Settle() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < deadline) {
    if (io_.run_one_for(std::chrono::milliseconds(5)) == 0) break;
  }
}

}  // namespace callsim::harness
