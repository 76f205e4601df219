#include "agent/tools/circuit_breaker.h"

#include <algorithm>
#include <cmath>

namespace callsim::agent {
namespace {

// open_ms is configuration: a day keeps every time sum far from int64 overflow.
constexpr double kMaxOpenMs = 86'400'000;

}  // namespace

const char* BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config) : config_(config) {
  config_.failure_threshold = std::max(config_.failure_threshold, 1);
}

int64_t CircuitBreaker::OpenUs() const {
  // NaN and negative values mean "no wait": the next call is the half-open trial.
  const double ms = std::isnan(config_.open_ms) ? 0 : std::clamp(config_.open_ms, 0.0, kMaxOpenMs);
  return static_cast<int64_t>(std::llround(ms * 1000.0));
}

bool CircuitBreaker::Allow(int64_t now_us) {
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      if (now_us - opened_at_us_ < OpenUs()) return false;
      state_ = BreakerState::kHalfOpen;
      trial_in_flight_ = true;
      return true;
    case BreakerState::kHalfOpen:
      if (trial_in_flight_) return false;
      trial_in_flight_ = true;
      return true;
  }
  return false;
}

bool CircuitBreaker::WouldAllow(int64_t now_us) const {
  switch (state_) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return now_us - opened_at_us_ >= OpenUs();
    case BreakerState::kHalfOpen:
      return !trial_in_flight_;
  }
  return false;
}

void CircuitBreaker::OnSuccess(int64_t now_us) {
  // While open, an answer can only come from a call started before the breaker opened: it says
  // nothing about the back end now, so only the trial (half-open) closes the breaker.
  if (state_ == BreakerState::kOpen) return;
  state_ = BreakerState::kClosed;
  consecutive_failures_ = 0;
  trial_in_flight_ = false;
}

void CircuitBreaker::OnFailure(int64_t now_us) {
  ++consecutive_failures_;
  ++total_failures_;
  if (state_ == BreakerState::kOpen) return;  // late failures do not extend the open window
  if (state_ == BreakerState::kHalfOpen || consecutive_failures_ >= config_.failure_threshold) {
    state_ = BreakerState::kOpen;
    opened_at_us_ = now_us;
    trial_in_flight_ = false;
  }
}

void CircuitBreaker::ReleaseTrial() {
  if (state_ == BreakerState::kHalfOpen) trial_in_flight_ = false;
}

BreakerState CircuitBreaker::state(int64_t now_us) const {
  if (state_ == BreakerState::kOpen && now_us - opened_at_us_ >= OpenUs()) {
    return BreakerState::kHalfOpen;
  }
  return state_;
}

CircuitBreaker& CircuitBreakers::For(const std::string& backend) {
  return breakers_.try_emplace(backend, config_).first->second;
}

std::map<std::string, int64_t> CircuitBreakers::TotalFailures() const {
  std::map<std::string, int64_t> out;
  for (const auto& [name, breaker] : breakers_) out[name] = breaker.total_failures();
  return out;
}

}  // namespace callsim::agent
