// How the resilient provider decorators (resilient_llm.h, resilient_tts.h, resilient_stt.h) react
// when a request fails before anything reached the agent: the policy (retries, backoff, the first-
// response timeout), the ladder that walks it (primary retries, then the secondary once, then give
// up) and the counters they keep. Every step is reported as an event with source "agent".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

// Bounds a policy is clamped to (see RetryPolicy::Bounded): every retry and wait has a limit.
inline constexpr int kMaxProviderRetries = 10;
inline constexpr double kMaxBackoffMs = 60000;
inline constexpr double kMinFirstResponseTimeoutMs = 1;
inline constexpr double kMaxFirstResponseTimeoutMs = 600000;

struct RetryPolicy {
  // Attempts on the primary after the first one fails, each after backoff_ms.
  int retries = 1;
  double backoff_ms = 250;
  // A request with no first response this long after it was sent failed (LLM: first token or
  // tool call; TTS: first audio frame; STT: the final after Finalize).
  double first_response_timeout_ms = 2500;

  // The policy with every field clamped into its bound: retries to [0, kMaxProviderRetries],
  // backoff_ms to [0, kMaxBackoffMs], first_response_timeout_ms to [kMinFirstResponseTimeoutMs,
  // kMaxFirstResponseTimeoutMs] (NaN takes the default). The decorators use only bounded policies.
  RetryPolicy Bounded() const;
};

// The longest a request can go without a first response before the listener hears on_error:
// every attempt times out and every backoff is waited. The agent's own provider timeout
// (AgentConfig::provider_timeout_ms) should exceed it, or the agent gives up first.
double WorstCaseFirstResponseMs(const RetryPolicy& policy, bool has_secondary);

// What a decorator did, summed over all its requests (sessions for STT).
struct ResilienceStats {
  uint64_t requests = 0;              // Start / Synthesize / Open calls
  uint64_t retries = 0;               // "provider_retry" events
  uint64_t failovers = 0;             // "provider_failover" events
  uint64_t gave_up = 0;               // "provider_gave_up" events (= errors the listener got)
  uint64_t timeouts = 0;              // attempts that failed by the first-response timeout
  uint64_t passed_through_errors = 0;  // errors after content was delivered, passed on as is
  uint64_t replayed_frames = 0;       // STT: frames pushed again into a new session
  uint64_t replay_dropped_frames = 0;  // STT: frames a replay lacked (older than the buffer holds)
};

// What a decorator shares with the streams and sessions it returned (they may outlive it).
struct ResilienceContext {
  ResilienceContext(Scheduler& s, EventSink& e, const RetryPolicy& p, std::string_view st)
      : scheduler(s), events(e), policy(p.Bounded()), stage(st) {}
  Scheduler& scheduler;
  EventSink& events;
  const RetryPolicy policy;
  const std::string stage;  // "stt", "llm" or "tts": the "stage" of every event
  ResilienceStats stats;
};

// One request's walk down the policy after failures that happened before any content reached the
// listener. Retry n (1-based, at most policy.retries) goes to the primary after backoff_ms; then,
// if there is a secondary, one attempt on it at once; then the request gives up. Each step emits
// its event: "provider_retry" {stage, attempt: n, error}, "provider_failover" {stage, error} or
// "provider_gave_up" {stage, error}, and counts it in the context's stats.
class RetryLadder {
 public:
  enum class Step { kRetry, kFailover, kGiveUp };

  RetryLadder(ResilienceContext& context, bool has_secondary)
      : context_(context), has_secondary_(has_secondary) {}

  // The attempt that just failed with `error` (before any content): what happens next.
  Step OnFailure(const std::string& error);
  // How long to wait before the attempt `step` asks for (backoff for a retry, 0 for a failover).
  int64_t DelayUs(Step step) const;
  // The next attempt goes to the secondary (after a failover, until Reset).
  bool on_secondary() const { return on_secondary_; }
  // A success (STT: a final) ends the episode: the next failure starts again from the top.
  void Reset() {
    retries_done_ = 0;
    on_secondary_ = false;
  }

 private:
  void Emit(std::string_view kind, nlohmann::json detail);

  ResilienceContext& context_;
  const bool has_secondary_;
  int retries_done_ = 0;
  bool on_secondary_ = false;
};

// The error of an attempt that timed out: "no first response within 2500 ms" (whole milliseconds,
// so the text is deterministic and locale-free).
std::string FirstResponseTimeoutError(double timeout_ms);

}  // namespace callsim::agent
