// Building blocks of the fault-injecting decorators (internal to fakes/faults): a stream whose only
// event is an error after a delay, and a stream that never says anything. Both honour the stream
// contract: Cancel() or destruction means no further callback.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "agent/runtime/scheduler.h"
#include "fakes/faults/fault_spec.h"

namespace callsim::fakes::fault_detail {

using ErrorFn = std::function<void(const std::string& error)>;

// `Stream` is agent::LlmStream or agent::TtsStream (anything with a virtual Cancel()).
template <typename Stream>
class DelayedErrorStream final : public Stream {
 public:
  DelayedErrorStream(agent::Scheduler& scheduler, ErrorFn on_error, std::string error,
                     int64_t delay_us)
      : scheduler_(scheduler), state_(std::make_shared<State>()) {
    state_->on_error = std::move(on_error);
    std::weak_ptr<State> weak = state_;
    task_ = scheduler_.After(delay_us, [weak, error = std::move(error)] {
      std::shared_ptr<State> state = weak.lock();  // keeps it alive if the callback destroys us
      if (state && state->on_error) state->on_error(error);
    });
  }
  ~DelayedErrorStream() override { Cancel(); }

  void Cancel() override {
    if (task_ == agent::kNoTask) return;
    scheduler_.Cancel(task_);  // a no-op once it ran
    task_ = agent::kNoTask;
  }

 private:
  struct State {
    ErrorFn on_error;
  };
  agent::Scheduler& scheduler_;
  std::shared_ptr<State> state_;
  agent::TaskId task_ = agent::kNoTask;
};

// A request that is never answered: it holds nothing and calls nothing.
template <typename Stream>
class SilentStream final : public Stream {
 public:
  void Cancel() override {}
};

// The stream a request gets instead of its answer when an outage or an error or a timeout draw
// hits it (counted in *stats); nullptr when the request goes on to the inner provider (no fault,
// or a drop, which the caller wraps itself). Shared by the LLM and TTS injectors.
template <typename Stream>
std::unique_ptr<Stream> FailedStream(agent::Scheduler& scheduler, const FaultSpec& spec,
                                     const FaultDraw& draw, FaultStats* stats,
                                     std::function<void(const std::string&)>& on_error) {
  if (InOutage(spec, scheduler.NowUs())) {
    ++stats->outage_errors;
    return std::make_unique<DelayedErrorStream<Stream>>(scheduler, std::move(on_error),
                                                        kUnavailableError, draw.error_delay_us);
  }
  switch (draw.kind) {
    case FaultKind::kError:
      ++stats->errors;
      return std::make_unique<DelayedErrorStream<Stream>>(scheduler, std::move(on_error),
                                                          kInjectedError, draw.error_delay_us);
    case FaultKind::kTimeout:
      ++stats->timeouts;
      return std::make_unique<SilentStream<Stream>>();
    case FaultKind::kDrop:
      ++stats->drops;
      return nullptr;
    case FaultKind::kNone:
      break;
  }
  return nullptr;
}

// A request cut off after `keep_events` events (tokens and tool calls, or frames): the events up
// to there are delivered, then silence, neither done nor error; the inner stream is cancelled. An
// inner error before that point is passed on. `Listener` is agent::LlmListener or
// agent::TtsListener; `counted` names the listener's events that use up the budget.
template <typename Stream, typename Listener>
class Dropping {
 public:
  // `start(listener)` starts the inner request with the wrapped listener and returns its stream.
  template <typename StartFn, typename... Events>
  static std::unique_ptr<Stream> Start(Listener listener, int keep_events, StartFn start,
                                       Events Listener::*... counted) {
    auto state = std::make_shared<State>();
    state->listener = std::move(listener);
    state->remaining = keep_events;
    std::unique_ptr<Stream> stream = start(Wrap(state, counted...));
    if (state->stopped && stream) stream->Cancel();  // silenced from inside start
    state->inner = std::move(stream);
    return std::make_unique<Handle>(std::move(state));
  }

 private:
  struct State {
    Listener listener;
    std::unique_ptr<Stream> inner;
    int remaining = 0;
    bool stopped = false;

    // Called after the event that used up the budget was delivered.
    void Silence() {
      stopped = true;
      if (inner) inner->Cancel();
    }
  };

  class Handle final : public Stream {
   public:
    explicit Handle(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ~Handle() override { Cancel(); }
    void Cancel() override { state_->Silence(); }

   private:
    std::shared_ptr<State> state_;
  };

  template <typename... Args>
  static void Count(const std::weak_ptr<State>& weak, std::function<void(Args...)> Listener::*event,
                    Listener* wrapped) {
    wrapped->*event = [weak, event](Args... args) {
      std::shared_ptr<State> st = weak.lock();
      if (!st || st->stopped) return;
      --st->remaining;
      if (st->listener.*event) (st->listener.*event)(args...);
      if (!st->stopped && st->remaining <= 0) st->Silence();
    };
  }

  template <typename... Events>
  static Listener Wrap(const std::shared_ptr<State>& state, Events Listener::*... counted) {
    std::weak_ptr<State> weak = state;
    Listener wrapped;
    (Count(weak, counted, &wrapped), ...);
    wrapped.on_done = [weak] {
      std::shared_ptr<State> st = weak.lock();
      if (st && !st->stopped) st->Silence();  // swallowed: a dropped stream never finishes
    };
    wrapped.on_error = [weak](const std::string& error) {
      std::shared_ptr<State> st = weak.lock();
      if (!st || st->stopped) return;
      st->stopped = true;
      if (st->listener.on_error) st->listener.on_error(error);
    };
    return wrapped;
  }
};

}  // namespace callsim::fakes::fault_detail
