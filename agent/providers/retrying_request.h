// The retry machinery shared by ResilientLlm and ResilientTts (internal to them): one request, its
// attempts on the primary and the secondary, and its timers. Only the current attempt's events
// reach the listener; a failed attempt is cancelled before the next one starts, and Cancel() stops
// everything, pending backoff timers included.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/providers/retry_policy.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent::resilience_detail {

// `Ops` adapts one provider interface:
//   using Provider, Stream, Request, Listener;  (Listener has on_done and on_error)
//   static std::unique_ptr<Stream> Send(Provider&, const Request&, Listener);
//   template <class State> static Listener Wrap(std::weak_ptr<State> state, uint64_t attempt);
// Wrap's callbacks lock the state, drop the event unless state->Live(attempt), and then call
// OnContent() before forwarding content (a token, a tool call, a frame), or OnDone() / OnError();
// WrapAttempt (below) builds such a listener from the names of the content events.
template <typename Ops>
class RetryingRequest : public std::enable_shared_from_this<RetryingRequest<Ops>> {
 public:
  using Provider = typename Ops::Provider;
  using Stream = typename Ops::Stream;
  using Request = typename Ops::Request;
  using Listener = typename Ops::Listener;

  RetryingRequest(std::shared_ptr<ResilienceContext> context, Provider& primary,
                  Provider* secondary, Request request, Listener listener)
      : context_(std::move(context)),
        ladder_(*context_, secondary != nullptr),
        primary_(primary),
        secondary_(secondary),
        request_(std::move(request)),
        listener_(std::move(listener)) {}

  // Sends the first attempt at once: a request that never fails costs no extra task or delay.
  void Begin() { StartAttempt(); }

  void Cancel() {
    finished_ = true;
    CancelTimer();
    if (inner_) inner_->Cancel();
  }

  // Whether an event of `attempt` may reach the listener.
  bool Live(uint64_t attempt) const { return !finished_ && attempt == attempt_; }

  // The current attempt is about to deliver content: from now on it can no longer be retried.
  void OnContent() {
    if (delivered_) return;
    delivered_ = true;
    CancelTimer();
  }

  void OnDone() {
    finished_ = true;
    CancelTimer();
    if (listener_.on_done) listener_.on_done();
  }

  void OnError(const std::string& error) {
    if (delivered_) {  // the agent cannot un-hear what it got: pass the error on
      finished_ = true;
      ++context_->stats.passed_through_errors;
      if (listener_.on_error) listener_.on_error(error);
    } else if (sending_) {
      FailSoon(error);  // never call the listener from inside the agent's own Start/Synthesize
    } else {
      Fail(error);
    }
  }

  const Listener& listener() const { return listener_; }

 private:
  using Step = RetryLadder::Step;

  void StartAttempt() {
    timer_ = kNoTask;
    retired_.clear();  // cancelled attempts, destroyed here: outside their own callbacks
    const uint64_t attempt = ++attempt_;
    Provider& provider = ladder_.on_secondary() ? *secondary_ : primary_;
    ArmTimeout(attempt);
    sending_ = true;
    std::unique_ptr<Stream> stream =
        Ops::Send(provider, request_, Ops::Wrap(this->weak_from_this(), attempt));
    sending_ = false;
    if (!Live(attempt)) {  // finished during Send (a synchronous done)
      if (stream) stream->Cancel();
      if (stream) retired_.push_back(std::move(stream));
      return;
    }
    inner_ = std::move(stream);
    if (!inner_) FailSoon("provider returned no stream");
  }

  void ArmTimeout(uint64_t attempt) {
    const double timeout_ms = context_->policy.first_response_timeout_ms;
    const int64_t timeout_us = std::llround(timeout_ms * kMicrosPerMs);
    std::weak_ptr<RetryingRequest> weak = this->weak_from_this();
    timer_ = context_->scheduler.After(timeout_us, [weak, attempt, timeout_ms] {
      std::shared_ptr<RetryingRequest> self = weak.lock();
      if (!self || !self->Live(attempt) || self->delivered_) return;
      self->timer_ = kNoTask;
      ++self->context_->stats.timeouts;
      self->Fail(FirstResponseTimeoutError(timeout_ms));
    });
  }

  // The failure is handled from a task of its own, at the same time.
  void FailSoon(const std::string& error) {
    CancelTimer();
    std::weak_ptr<RetryingRequest> weak = this->weak_from_this();
    const uint64_t attempt = attempt_;
    timer_ = context_->scheduler.After(0, [weak, attempt, error] {
      std::shared_ptr<RetryingRequest> self = weak.lock();
      if (!self || !self->Live(attempt)) return;
      self->timer_ = kNoTask;
      self->Fail(error);
    });
  }

  // The current attempt failed before any content: retry, fail over, or give up.
  void Fail(const std::string& error) {
    CancelTimer();
    if (inner_) {
      inner_->Cancel();  // may be inside its callback: destroyed later, in StartAttempt
      retired_.push_back(std::move(inner_));
    }
    const Step step = ladder_.OnFailure(error);
    if (step == Step::kGiveUp) {
      finished_ = true;
      if (listener_.on_error) listener_.on_error(error);
      return;
    }
    std::weak_ptr<RetryingRequest> weak = this->weak_from_this();
    timer_ = context_->scheduler.After(ladder_.DelayUs(step), [weak] {
      std::shared_ptr<RetryingRequest> self = weak.lock();
      if (self && !self->finished_) self->StartAttempt();
    });
  }

  void CancelTimer() {
    if (timer_ == kNoTask) return;
    context_->scheduler.Cancel(timer_);
    timer_ = kNoTask;
  }

  std::shared_ptr<ResilienceContext> context_;
  RetryLadder ladder_;
  Provider& primary_;
  Provider* secondary_;
  const Request request_;  // kept for the retries
  Listener listener_;
  std::unique_ptr<Stream> inner_;               // the current attempt
  std::vector<std::unique_ptr<Stream>> retired_;  // cancelled; at most one (cleared per attempt)
  uint64_t attempt_ = 0;
  TaskId timer_ = kNoTask;  // the first-response timeout, a backoff, or a deferred failure
  bool delivered_ = false;
  bool finished_ = false;  // done, error delivered, or cancelled
  bool sending_ = false;
};

// The stream the agent holds; destroying it cancels the request.
template <typename Ops>
class RetryingStream final : public Ops::Stream {
 public:
  explicit RetryingStream(std::shared_ptr<RetryingRequest<Ops>> request)
      : request_(std::move(request)) {}
  ~RetryingStream() override { request_->Cancel(); }
  void Cancel() override { request_->Cancel(); }

 private:
  std::shared_ptr<RetryingRequest<Ops>> request_;
};

// The decorators' Start / Synthesize: counts the request, sends its first attempt.
template <typename Ops>
std::unique_ptr<typename Ops::Stream> StartRetrying(
    const std::shared_ptr<ResilienceContext>& context, typename Ops::Provider& primary,
    typename Ops::Provider* secondary, typename Ops::Request request,
    typename Ops::Listener listener) {
  ++context->stats.requests;
  auto state = std::make_shared<RetryingRequest<Ops>>(context, primary, secondary,
                                                      std::move(request), std::move(listener));
  state->Begin();
  return std::make_unique<RetryingStream<Ops>>(std::move(state));
}

template <typename Listener, typename State, typename... Args>
void WrapContent(const std::weak_ptr<State>& weak, uint64_t attempt,
                 std::function<void(Args...)> Listener::*event, Listener* wrapped) {
  wrapped->*event = [weak, attempt, event](Args... args) {
    std::shared_ptr<State> state = weak.lock();
    if (!state || !state->Live(attempt)) return;
    state->OnContent();
    if (state->listener().*event) (state->listener().*event)(args...);
  };
}

// The listener one attempt gets (an Ops::Wrap in one call): each of the listener's `content`
// events passes through OnContent() before it is forwarded; done and error end the attempt. Every
// callback drops the event unless the attempt is still live. Per event: one weak_ptr lock and two
// compares, no allocation.
template <typename Listener, typename State, typename... Events>
Listener WrapAttempt(std::weak_ptr<State> weak, uint64_t attempt, Events Listener::*... content) {
  Listener wrapped;
  (WrapContent(weak, attempt, content, &wrapped), ...);
  wrapped.on_done = [weak, attempt] {
    std::shared_ptr<State> state = weak.lock();
    if (state && state->Live(attempt)) state->OnDone();
  };
  wrapped.on_error = [weak, attempt](const std::string& error) {
    std::shared_ptr<State> state = weak.lock();
    if (state && state->Live(attempt)) state->OnError(error);
  };
  return wrapped;
}

}  // namespace callsim::agent::resilience_detail
