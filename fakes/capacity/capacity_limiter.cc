#include "fakes/capacity/capacity_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace callsim::fakes {

// Shared by the ticket and the limiter's queue, so the limiter can grant or fail a waiting request
// whichever object holds the ticket now (tickets move).
struct CapacityTicket::State {
  enum Phase { kWaiting, kGranted, kFailing, kDone };
  Phase phase = kDone;
  int64_t requested_us = 0;
  int64_t deadline_us = 0;
  agent::TaskId fail_task = agent::kNoTask;
  CapacityLimiter::GrantFn on_grant;
  CapacityLimiter::FailFn on_fail;
};

CapacityTicket::CapacityTicket(std::shared_ptr<CapacityLimiter> limiter, std::shared_ptr<State> state)
    : limiter_(std::move(limiter)), state_(std::move(state)) {}

CapacityTicket& CapacityTicket::operator=(CapacityTicket&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = std::move(other.limiter_);
    state_ = std::move(other.state_);
  }
  return *this;
}

bool CapacityTicket::granted() const { return state_ && state_->phase == State::kGranted; }
bool CapacityTicket::waiting() const { return state_ && state_->phase == State::kWaiting; }

void CapacityTicket::Release() {
  if (!state_) return;
  // Take everything out first: giving back a slot may run other requests' callbacks.
  std::shared_ptr<State> state = std::move(state_);
  std::shared_ptr<CapacityLimiter> limiter = std::move(limiter_);
  const State::Phase phase = state->phase;
  state->phase = State::kDone;
  state->on_grant = nullptr;
  state->on_fail = nullptr;
  switch (phase) {
    case State::kGranted: limiter->ReleaseSlot(); break;
    case State::kWaiting: limiter->Unqueue(state); break;
    case State::kFailing: limiter->scheduler_.Cancel(state->fail_task); break;
    case State::kDone: break;
  }
}

CapacityStats& operator+=(CapacityStats& into, const CapacityStats& more) {
  into.requests += more.requests;
  into.granted += more.granted;
  into.queued += more.queued;
  into.queue_timeouts += more.queue_timeouts;
  into.over_capacity += more.over_capacity;
  into.rate_limited += more.rate_limited;
  into.peak_in_service = std::max(into.peak_in_service, more.peak_in_service);
  into.peak_waiting = std::max(into.peak_waiting, more.peak_waiting);
  into.max_wait_us = std::max(into.max_wait_us, more.max_wait_us);
  into.total_wait_us += more.total_wait_us;
  return into;
}

TokenBucket::TokenBucket(double rate_per_s, int64_t start_us)
    : rate_(rate_per_s), tokens_(std::max(1.0, rate_per_s)), tokens_at_us_(start_us) {}

bool TokenBucket::Take(int64_t now_us) {
  if (rate_ <= 0) return true;
  const double burst = std::max(1.0, rate_);
  tokens_ = std::min(burst, tokens_ + static_cast<double>(now_us - tokens_at_us_) * rate_ / 1e6);
  tokens_at_us_ = now_us;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

int PeakInService(const std::vector<int64_t>& grants_us, const std::vector<int64_t>& releases_us) {
  int in_service = 0;
  int peak = 0;
  size_t r = 0;
  for (int64_t grant_us : grants_us) {
    // Releases strictly before this grant have happened; one at the same time has not.
    while (r < releases_us.size() && releases_us[r] < grant_us) {
      --in_service;
      ++r;
    }
    peak = std::max(peak, ++in_service);
  }
  return peak;
}

CapacityLimiter::CapacityLimiter(agent::Scheduler& scheduler, CapacityConfig config)
    : scheduler_(scheduler),
      config_(config),
      bucket_(config.rate_limit_per_s, scheduler.NowUs()) {}

CapacityLimiter::~CapacityLimiter() { scheduler_.Cancel(timer_); }

CapacityTicket CapacityLimiter::Acquire(GrantFn on_grant, FailFn on_fail) {
  ++stats_.requests;
  log_.requests_us.push_back(scheduler_.NowUs());
  auto state = std::make_shared<CapacityTicket::State>();
  state->requested_us = scheduler_.NowUs();
  state->on_grant = std::move(on_grant);
  state->on_fail = std::move(on_fail);
  CapacityTicket ticket(shared_from_this(), state);
  if (!TakeToken()) {
    ++stats_.rate_limited;
    FailSoon(state, kRateLimitedError);
  } else if (HasFreeSlot() && queue_.empty()) {
    Grant(state);
    state->on_grant = nullptr;  // granted at once: the caller proceeds without a callback
  } else if (static_cast<int>(queue_.size()) >= std::max(0, config_.queue)) {
    ++stats_.over_capacity;
    FailSoon(state, kOverCapacityError);
  } else {
    ++stats_.queued;
    state->phase = CapacityTicket::State::kWaiting;
    state->deadline_us =
        state->requested_us + std::llround(std::max(0.0, config_.queue_timeout_ms) * 1000.0);
    queue_.push_back(state);
    stats_.peak_waiting = std::max(stats_.peak_waiting, static_cast<int>(queue_.size()));
    ArmTimer();
  }
  return ticket;
}

bool CapacityLimiter::TakeToken() { return bucket_.Take(scheduler_.NowUs()); }

bool CapacityLimiter::HasFreeSlot() const {
  return config_.max_concurrent <= 0 || in_service_ < config_.max_concurrent;
}

void CapacityLimiter::FailSoon(const StatePtr& state, const char* error) {
  state->phase = CapacityTicket::State::kFailing;
  state->on_grant = nullptr;
  std::weak_ptr<CapacityTicket::State> weak = state;
  state->fail_task = scheduler_.After(0, [weak, error] {
    const StatePtr s = weak.lock();
    if (!s || s->phase != CapacityTicket::State::kFailing) return;
    s->phase = CapacityTicket::State::kDone;
    s->fail_task = agent::kNoTask;
    FailFn fn = std::move(s->on_fail);
    if (fn) fn(error);  // may destroy the ticket: touch nothing after
  });
}

void CapacityLimiter::Grant(const StatePtr& state) {
  state->phase = CapacityTicket::State::kGranted;
  ++in_service_;
  ++stats_.granted;
  log_.grants_us.push_back(scheduler_.NowUs());
  stats_.peak_in_service = std::max(stats_.peak_in_service, in_service_);
  const int64_t wait_us = scheduler_.NowUs() - state->requested_us;
  stats_.max_wait_us = std::max(stats_.max_wait_us, wait_us);
  stats_.total_wait_us += wait_us;
}

// Hands free slots to waiters in FIFO order. Each waiter's state is settled before its callback
// runs, and the queue is read afresh after it, so callbacks may re-enter the limiter.
void CapacityLimiter::GrantWaiters() {
  while (!queue_.empty() && HasFreeSlot()) {
    const StatePtr state = std::move(queue_.front());
    queue_.pop_front();
    Grant(state);
    state->on_fail = nullptr;
    GrantFn fn = std::move(state->on_grant);
    if (fn) fn();
  }
  ArmTimer();
}

void CapacityLimiter::ReleaseSlot() {
  --in_service_;
  log_.releases_us.push_back(scheduler_.NowUs());
  GrantWaiters();
}

void CapacityLimiter::Unqueue(const StatePtr& state) {
  auto it = std::find(queue_.begin(), queue_.end(), state);
  if (it != queue_.end()) queue_.erase(it);
  ArmTimer();
}

// One timer, for the head of the queue: deadlines grow along the FIFO (one timeout for all).
void CapacityLimiter::ArmTimer() {
  const int64_t due_us = queue_.empty() ? -1 : queue_.front()->deadline_us;
  if (due_us == timer_due_us_ && (timer_ != agent::kNoTask || due_us < 0)) return;
  scheduler_.Cancel(timer_);
  timer_ = agent::kNoTask;
  timer_due_us_ = due_us;
  if (due_us >= 0) timer_ = scheduler_.At(due_us, [this] { OnTimer(); });
}

void CapacityLimiter::OnTimer() {
  timer_ = agent::kNoTask;
  timer_due_us_ = -1;
  while (!queue_.empty() && queue_.front()->deadline_us <= scheduler_.NowUs()) {
    const StatePtr state = std::move(queue_.front());
    queue_.pop_front();
    state->phase = CapacityTicket::State::kDone;
    state->on_grant = nullptr;
    ++stats_.queue_timeouts;
    FailFn fn = std::move(state->on_fail);
    if (fn) fn(kQueueTimeoutError);  // may re-enter the limiter
  }
  ArmTimer();
}

std::shared_ptr<CapacityLimiter> MakeCapacityLimiter(agent::Scheduler& scheduler, int max_concurrent,
                                                     int queue, double queue_timeout_ms,
                                                     double rate_limit_per_s) {
  if (max_concurrent <= 0 && rate_limit_per_s <= 0) return nullptr;
  CapacityConfig config;
  config.max_concurrent = max_concurrent;
  config.queue = queue;
  config.queue_timeout_ms = queue_timeout_ms;
  config.rate_limit_per_s = rate_limit_per_s;
  return std::make_shared<CapacityLimiter>(scheduler, config);
}

}  // namespace callsim::fakes
