#include "fakes/wire/exchange.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/post.hpp>

#include "agent/runtime/realtime_scheduler.h"

namespace callsim::fakes::wire {

Exchange::Exchange(std::shared_ptr<FakeProviders::State> state,
                   const FakeProviders::State::ApiCounters& counters,
                   const CapacityConfig& capacity, std::string who,
                   std::shared_ptr<agent::HttpResponder> responder)
    : state_(std::move(state)),
      counters_(counters),
      capacity_(capacity),
      who_(std::move(who)),
      responder_(std::move(responder)),
      scheduler_(responder_->scheduler()) {}

void Exchange::Start(SharedCapacity* capacity) {
  self_ = shared_from_this();
  std::weak_ptr<Exchange> weak = weak_from_this();
  responder_->OnGone([weak] {
    if (auto self = weak.lock()) self->Stop();
  });
  if (capacity == nullptr) return Admitted();
  claim_ = capacity->Acquire(
      dynamic_cast<agent::RealtimeScheduler&>(scheduler_).io(),
      [weak] {
        if (auto self = weak.lock(); self && !self->done_) self->Admitted();
      },
      [weak](const std::string& error) {
        if (auto self = weak.lock(); self && !self->done_) {
          self->counters_.rate_limited->Increment();
          self->Refused(error);
        }
      });
}

void Exchange::Refused(const std::string& error) {
  const char* code = error == kRateLimitedError ? "rate_limit_exceeded" : "server_overloaded";
  Finish(429, OpenAiErrorBody(who_ + ": " + error, "requests", code),
         RetryAfterHeaders(capacity_, error));
}

bool Exchange::Fate(const FaultSpec& faults, agent::Rng rng, int drop_max, int* drop_after) {
  const FaultDraw draw = DrawFault(faults, rng, 1, drop_max);
  const bool outage = InOutage(faults, scheduler_.NowUs());
  if (!outage && draw.kind == FaultKind::kNone) return true;
  counters_.faults->Increment();
  if (!outage && draw.kind == FaultKind::kDrop) {
    *drop_after = draw.drop_after;
    return true;
  }
  if (!outage && draw.kind == FaultKind::kTimeout) return false;
  const int status = outage ? 503 : 500;
  std::string body = outage ? OpenAiErrorBody(who_ + ": unavailable (outage)", "server_error",
                                              "service_unavailable")
                            : OpenAiErrorBody(who_ + ": injected error", "server_error",
                                              "internal_error");
  std::weak_ptr<Exchange> weak = weak_from_this();
  pending_ = scheduler_.After(draw.error_delay_us, [weak, status, body = std::move(body)] {
    if (auto self = weak.lock()) {
      self->pending_ = agent::kNoTask;
      self->Finish(status, body, {});
    }
  });
  return false;
}

void Exchange::Finish(int status, std::string body, agent::HttpHeaders headers) {
  if (done_) return;
  RespondJson(*responder_, status, std::move(body), std::move(headers));
  Stop();
}

void Exchange::Stop() {
  if (done_) return;
  done_ = true;
  OnStop();
  if (pending_ != agent::kNoTask) scheduler_.Cancel(pending_);
  if (claim_) claim_->Release();
  // Let go on a later turn, never inside a callback of the API's own stream; nothing left
  // touches the scheduler, so it may also go with the io_context at shutdown. (In virtual time,
  // as in tests, a task of the scheduler does it.)
  if (auto* realtime = dynamic_cast<agent::RealtimeScheduler*>(&scheduler_)) {
    boost::asio::post(realtime->io(), [keep = std::move(self_)] {});
  } else {
    scheduler_.After(0, [keep = std::move(self_)] {});
  }
}

}  // namespace callsim::fakes::wire
