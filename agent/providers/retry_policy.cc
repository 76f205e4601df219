#include "agent/providers/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "agent/pipeline/agent_events.h"

namespace callsim::agent {
namespace {

double ClampOr(double value, double lo, double hi, double fallback) {
  if (std::isnan(value)) return fallback;
  return std::clamp(value, lo, hi);
}

}  // namespace

RetryPolicy RetryPolicy::Bounded() const {
  const RetryPolicy defaults;
  RetryPolicy out;
  out.retries = std::clamp(retries, 0, kMaxProviderRetries);
  out.backoff_ms = ClampOr(backoff_ms, 0, kMaxBackoffMs, defaults.backoff_ms);
  out.first_response_timeout_ms =
      ClampOr(first_response_timeout_ms, kMinFirstResponseTimeoutMs, kMaxFirstResponseTimeoutMs,
              defaults.first_response_timeout_ms);
  return out;
}

double WorstCaseFirstResponseMs(const RetryPolicy& policy, bool has_secondary) {
  const RetryPolicy p = policy.Bounded();
  const int attempts = 1 + p.retries + (has_secondary ? 1 : 0);
  return attempts * p.first_response_timeout_ms + p.retries * p.backoff_ms;
}

RetryLadder::Step RetryLadder::OnFailure(const std::string& error) {
  ResilienceStats& stats = context_.stats;
  if (!on_secondary_ && retries_done_ < context_.policy.retries) {
    ++retries_done_;
    ++stats.retries;
    Emit(agent_events::kProviderRetry,
         {{"stage", context_.stage}, {"attempt", retries_done_}, {"error", error}});
    return Step::kRetry;
  }
  if (!on_secondary_ && has_secondary_) {
    on_secondary_ = true;
    ++stats.failovers;
    Emit(agent_events::kProviderFailover, {{"stage", context_.stage}, {"error", error}});
    return Step::kFailover;
  }
  ++stats.gave_up;
  Emit(agent_events::kProviderGaveUp, {{"stage", context_.stage}, {"error", error}});
  return Step::kGiveUp;
}

int64_t RetryLadder::DelayUs(Step step) const {
  if (step != Step::kRetry) return 0;
  return std::llround(context_.policy.backoff_ms * kMicrosPerMs);
}

void RetryLadder::Emit(std::string_view kind, nlohmann::json detail) {
  context_.events.Emit(context_.scheduler.NowUs(), event_sources::kAgent, kind, detail);
}

std::string FirstResponseTimeoutError(double timeout_ms) {
  return "no first response within " + std::to_string(std::llround(timeout_ms)) + " ms";
}

}  // namespace callsim::agent
