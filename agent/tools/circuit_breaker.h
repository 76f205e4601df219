// A circuit breaker per tool back end: after `failure_threshold` consecutive failures the breaker
// opens and calls fail fast ("circuit_open") for open_ms; then one trial call is let through
// (half-open): success closes the breaker, failure opens it again for another open_ms. Shared by
// every call of a run, as a process-wide breaker is in production. Time is the Scheduler's.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace callsim::agent {

struct CircuitBreakerConfig {
  int failure_threshold = 5;
  double open_ms = 30000;
};

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* BreakerStateName(BreakerState state);  // "closed", "open", "half_open"

class CircuitBreaker {
 public:
  explicit CircuitBreaker(CircuitBreakerConfig config = {});
  // May a call start now? Open: false until open_ms passed; then true once (half-open trial),
  // and false for others until that trial reports.
  bool Allow(int64_t now_us);
  void OnSuccess(int64_t now_us);
  void OnFailure(int64_t now_us);
  BreakerState state(int64_t now_us) const;
  int consecutive_failures() const { return consecutive_failures_; }
  // Every failure reported, consecutive or not.
  int64_t total_failures() const { return total_failures_; }

  // What Allow() would answer now, without taking the half-open trial (for a check that does not
  // start a call yet).
  bool WouldAllow(int64_t now_us) const;
  // The half-open trial ended with no outcome (cancelled): the next Allow() may try again. A
  // caller uses it only for a call whose Allow() took the trial; otherwise it does nothing.
  void ReleaseTrial();

 private:
  int64_t OpenUs() const;

  CircuitBreakerConfig config_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_failures_ = 0;
  int64_t total_failures_ = 0;
  int64_t opened_at_us_ = 0;
  bool trial_in_flight_ = false;
};

// One breaker per back end name, created on first use with the shared config.
class CircuitBreakers {
 public:
  explicit CircuitBreakers(CircuitBreakerConfig config = {}) : config_(config) {}
  CircuitBreaker& For(const std::string& backend);
  const CircuitBreakerConfig& config() const { return config_; }
  // The failures reported to each back end's breaker (those used so far), by name.
  std::map<std::string, int64_t> TotalFailures() const;

 private:
  CircuitBreakerConfig config_;
  std::map<std::string, CircuitBreaker> breakers_;
};

}  // namespace callsim::agent
