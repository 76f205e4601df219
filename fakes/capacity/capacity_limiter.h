// A provider's capacity, shared by every call of a run, so that latency and failures grow with
// load as they do against a real STT, LLM or TTS service: at most max_concurrent requests are in
// service, up to `queue` more wait in FIFO order (each at most queue_timeout_ms), and beyond that a
// request fails at once; an optional token bucket rejects requests over rate_limit_per_s like an
// HTTP 429. Decisions depend only on the order of requests and the Scheduler's time: the limiter
// draws nothing from any Rng, so a run replays exactly.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/scheduler.h"

namespace callsim::fakes {

// The errors a refused request reports (through the provider's on_error).
inline constexpr const char* kQueueTimeoutError = "queue timeout";
inline constexpr const char* kOverCapacityError = "over capacity";
inline constexpr const char* kRateLimitedError = "rate limited (429)";

struct CapacityConfig {
  int max_concurrent = 0;         // requests in service at once; <= 0: unlimited
  int queue = 0;                  // requests that may wait for a slot; <= 0: none wait
  double queue_timeout_ms = 5000;  // how long a request may wait before it fails
  double rate_limit_per_s = 0;    // admitted requests per second; <= 0: no rate limit
};

// What a limiter did over a run (for the run's metrics and for tests).
struct CapacityStats {
  uint64_t requests = 0;
  uint64_t granted = 0;         // at once or after waiting
  uint64_t queued = 0;          // had to wait (granted later, timed out or cancelled)
  uint64_t queue_timeouts = 0;
  uint64_t over_capacity = 0;
  uint64_t rate_limited = 0;
  int peak_in_service = 0;
  int peak_waiting = 0;
  int64_t max_wait_us = 0;       // longest wait of a granted request
  int64_t total_wait_us = 0;     // summed over granted requests
};

// Adds `more`'s counts and waits into `into`; peaks and the longest wait are the larger of the two
// (two limiters' peaks need not coincide: merge_state.h computes a shared peak from the logs).
CapacityStats& operator+=(CapacityStats& into, const CapacityStats& more);

// When each request came, and when slots were granted and given back, in virtual microseconds;
// each list is non-decreasing (time only moves forward). Shards and workers of one run each keep
// their own limiter; their logs together say what one limiter shared by all would have seen
// (harness/run/merge_state.h): whether it ever had to queue or refuse, and its peak.
struct CapacityLog {
  std::vector<int64_t> requests_us;
  std::vector<int64_t> grants_us;
  std::vector<int64_t> releases_us;
};

// The token bucket of a rate limit: at most max(1, rate) tokens, refilled continuously at `rate`
// per second from a full bucket at `start_us`. One code path for the limiter and for replaying
// a merged log, so both compute bit-identical token counts.
class TokenBucket {
 public:
  TokenBucket(double rate_per_s, int64_t start_us);
  // Takes a token at `now_us` (non-decreasing); false when none is left (nothing taken).
  bool Take(int64_t now_us);

 private:
  double rate_;
  double tokens_;
  int64_t tokens_at_us_;
};

// The most slots in service at one instant, counting a grant and a release at the same
// microsecond as overlapping (so it never depends on the order of same-time tasks). Both lists
// sorted.
int PeakInService(const std::vector<int64_t>& grants_us, const std::vector<int64_t>& releases_us);

class CapacityLimiter;

// One request's claim on a limiter. While it lives it holds its slot (granted) or its place in
// the queue (waiting); Release() or destruction gives either back, after which neither callback
// of Acquire runs. Move-only; an empty (default) ticket holds nothing.
class CapacityTicket {
 public:
  CapacityTicket() = default;
  ~CapacityTicket() { Release(); }
  CapacityTicket(CapacityTicket&& other) noexcept = default;
  CapacityTicket& operator=(CapacityTicket&& other) noexcept;
  CapacityTicket(const CapacityTicket&) = delete;
  CapacityTicket& operator=(const CapacityTicket&) = delete;

  bool granted() const;  // holds a slot now
  bool waiting() const;  // in the queue
  void Release();

 private:
  friend class CapacityLimiter;
  struct State;
  CapacityTicket(std::shared_ptr<CapacityLimiter> limiter, std::shared_ptr<State> state);

  std::shared_ptr<CapacityLimiter> limiter_;
  std::shared_ptr<State> state_;
};

class CapacityLimiter : public std::enable_shared_from_this<CapacityLimiter> {
 public:
  using GrantFn = std::function<void()>;
  using FailFn = std::function<void(const std::string& error)>;

  // Use MakeCapacityLimiter: tickets share ownership of their limiter.
  CapacityLimiter(agent::Scheduler& scheduler, CapacityConfig config);
  ~CapacityLimiter();
  CapacityLimiter(const CapacityLimiter&) = delete;
  CapacityLimiter& operator=(const CapacityLimiter&) = delete;

  // Asks for a slot. The rate limit is checked first (a request over the rate uses no token and
  // fails), then the concurrency: a free slot is granted at once, and then neither callback runs
  // (the ticket says granted()). Otherwise the request waits for a slot, and `on_grant` runs when
  // one frees, from inside the Release of another ticket: it must only schedule work, never call
  // back into its caller. A request that cannot wait (queue full), is over the rate or times out
  // in the queue gets `on_fail` with kOverCapacityError, kRateLimitedError or kQueueTimeoutError
  // from a Scheduler task (never from inside Acquire); `on_fail` may destroy the ticket.
  CapacityTicket Acquire(GrantFn on_grant, FailFn on_fail);

  const CapacityConfig& config() const { return config_; }
  const CapacityStats& stats() const { return stats_; }
  const CapacityLog& log() const { return log_; }
  int in_service() const { return in_service_; }
  int waiting() const { return static_cast<int>(queue_.size()); }

 private:
  friend class CapacityTicket;
  using StatePtr = std::shared_ptr<CapacityTicket::State>;

  bool TakeToken();
  bool HasFreeSlot() const;
  void FailSoon(const StatePtr& state, const char* error);
  void Grant(const StatePtr& state);
  void GrantWaiters();
  void ReleaseSlot();
  void Unqueue(const StatePtr& state);
  void ArmTimer();
  void OnTimer();

  agent::Scheduler& scheduler_;
  const CapacityConfig config_;
  CapacityStats stats_;
  CapacityLog log_;
  int in_service_ = 0;
  std::deque<StatePtr> queue_;  // FIFO; deadlines are non-decreasing along it
  TokenBucket bucket_;
  agent::TaskId timer_ = agent::kNoTask;  // armed for the head's deadline
  int64_t timer_due_us_ = -1;
};

// A limiter for one provider of a run, or nullptr when the values ask for no limit at all
// (max_concurrent <= 0 and rate_limit_per_s <= 0): providers skip a null limiter entirely.
std::shared_ptr<CapacityLimiter> MakeCapacityLimiter(agent::Scheduler& scheduler, int max_concurrent,
                                                     int queue, double queue_timeout_ms,
                                                     double rate_limit_per_s);

// The run's three limiters, shared by every call (nullptr: that provider is unlimited).
struct ProviderLimiters {
  std::shared_ptr<CapacityLimiter> stt;
  std::shared_ptr<CapacityLimiter> llm;
  std::shared_ptr<CapacityLimiter> tts;
};

}  // namespace callsim::fakes
