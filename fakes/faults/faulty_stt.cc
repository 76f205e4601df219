#include "fakes/faults/faulty_stt.h"

#include <string>
#include <utility>

namespace callsim::fakes {
namespace {

class SessionState : public std::enable_shared_from_this<SessionState> {
 public:
  SessionState(agent::Scheduler& scheduler, std::shared_ptr<const FaultSpec> spec,
               std::shared_ptr<FaultStats> stats, agent::Rng rng, agent::SttListener listener)
      : scheduler_(scheduler),
        spec_(std::move(spec)),
        stats_(std::move(stats)),
        rng_(rng),
        listener_(std::move(listener)) {}

  void Begin(agent::SttProvider& inner);
  void PushAudio(const agent::Frame& frame) {
    if (answering_ && !closed_ && inner_) inner_->PushAudio(frame);
  }
  void Finalize();
  void Close() {
    closed_ = true;
    CancelTask(outage_timer_);
    CancelTask(error_timer_);
    inner_.reset();
  }

 private:
  agent::SttListener Wrap();
  void NextRequest();
  void OnInterim(const std::string& text);
  void OnFinal(const std::string& text);
  void OnInnerError(const std::string& error);
  void OnOutageStart();
  void ErrorAfter(int64_t delay_us, const char* error);
  void CancelTask(agent::TaskId& task) {
    if (task == agent::kNoTask) return;
    scheduler_.Cancel(task);
    task = agent::kNoTask;
  }

  agent::Scheduler& scheduler_;
  std::shared_ptr<const FaultSpec> spec_;
  std::shared_ptr<FaultStats> stats_;
  agent::Rng rng_;
  agent::SttListener listener_;
  std::unique_ptr<agent::SttSession> inner_;
  uint64_t request_ = 0;
  FaultDraw draw_;    // the current request's fate
  int interims_ = 0;  // delivered in the current request
  // False once a request timed out, was dropped or errored: later audio and results go nowhere.
  // Finals owed for earlier requests (passed on to the inner session) still arrive.
  bool answering_ = true;
  int owed_finals_ = 0;
  bool closed_ = false;  // an error was delivered (its last word), or the session was destroyed
  agent::TaskId outage_timer_ = agent::kNoTask;
  agent::TaskId error_timer_ = agent::kNoTask;
};

void SessionState::Begin(agent::SttProvider& inner) {
  NextRequest();
  if (InOutage(*spec_, scheduler_.NowUs())) {
    ++stats_->requests;
    ++stats_->outage_errors;
    ErrorAfter(draw_.error_delay_us, kUnavailableError);
    return;
  }
  inner_ = inner.Open(Wrap());
  const int64_t outage_us = NextOutageStartUs(*spec_, scheduler_.NowUs());
  if (outage_us < 0) return;
  std::weak_ptr<SessionState> weak = weak_from_this();
  outage_timer_ = scheduler_.At(outage_us, [weak] {
    if (std::shared_ptr<SessionState> self = weak.lock()) self->OnOutageStart();
  });
}

agent::SttListener SessionState::Wrap() {
  std::weak_ptr<SessionState> weak = weak_from_this();
  agent::SttListener wrapped;
  wrapped.on_interim = [weak](const std::string& text) {
    if (std::shared_ptr<SessionState> self = weak.lock()) self->OnInterim(text);
  };
  wrapped.on_final = [weak](const std::string& text) {
    if (std::shared_ptr<SessionState> self = weak.lock()) self->OnFinal(text);
  };
  wrapped.on_error = [weak](const std::string& error) {
    if (std::shared_ptr<SessionState> self = weak.lock()) self->OnInnerError(error);
  };
  return wrapped;
}

void SessionState::NextRequest() {
  ++request_;
  agent::Rng rng = rng_.Fork("request/" + std::to_string(request_));
  draw_ = DrawFault(*spec_, rng, 0, spec_->drop_max_results);
  interims_ = 0;
}

void SessionState::OnInterim(const std::string& text) {
  if (closed_ || !answering_) return;
  if (draw_.kind == FaultKind::kDrop && interims_ >= draw_.drop_after) {
    ++stats_->requests;
    ++stats_->drops;
    answering_ = false;
    return;
  }
  ++interims_;
  if (listener_.on_interim) listener_.on_interim(text);
}

void SessionState::OnFinal(const std::string& text) {
  if (closed_ || owed_finals_ == 0) return;
  --owed_finals_;
  if (listener_.on_final) listener_.on_final(text);
}

// A real error of the inner session is passed on, unless this session already went quiet.
void SessionState::OnInnerError(const std::string& error) {
  if (closed_ || (!answering_ && owed_finals_ == 0)) return;
  closed_ = true;
  CancelTask(outage_timer_);
  CancelTask(error_timer_);
  if (listener_.on_error) listener_.on_error(error);
}

void SessionState::Finalize() {
  if (closed_ || !answering_) return;
  ++stats_->requests;
  switch (draw_.kind) {
    case FaultKind::kError:
      ++stats_->errors;
      ErrorAfter(draw_.error_delay_us, kInjectedError);
      return;
    case FaultKind::kTimeout:
      ++stats_->timeouts;
      answering_ = false;
      return;
    case FaultKind::kDrop:
      ++stats_->drops;
      answering_ = false;
      return;
    case FaultKind::kNone:
      break;
  }
  ++owed_finals_;
  if (inner_) inner_->Finalize();
  NextRequest();
}

void SessionState::OnOutageStart() {
  outage_timer_ = agent::kNoTask;
  if (closed_ || !answering_) return;
  ++stats_->requests;
  ++stats_->outage_errors;
  closed_ = true;
  CancelTask(error_timer_);
  if (listener_.on_error) listener_.on_error(kUnavailableError);
}

// From now on the session answers nothing new; its last word comes `delay_us` later.
void SessionState::ErrorAfter(int64_t delay_us, const char* error) {
  answering_ = false;
  CancelTask(outage_timer_);
  std::weak_ptr<SessionState> weak = weak_from_this();
  error_timer_ = scheduler_.After(delay_us, [weak, error] {
    std::shared_ptr<SessionState> self = weak.lock();
    if (!self || self->closed_) return;
    self->error_timer_ = agent::kNoTask;
    self->closed_ = true;
    if (self->listener_.on_error) self->listener_.on_error(error);
  });
}

class FaultySession final : public agent::SttSession {
 public:
  explicit FaultySession(std::shared_ptr<SessionState> state) : state_(std::move(state)) {}
  ~FaultySession() override { state_->Close(); }
  void PushAudio(const agent::Frame& frame) override { state_->PushAudio(frame); }
  void Finalize() override { state_->Finalize(); }

 private:
  std::shared_ptr<SessionState> state_;
};

}  // namespace

FaultyStt::FaultyStt(agent::Scheduler& scheduler, agent::Rng rng, FaultSpec spec,
                     agent::SttProvider& inner)
    : scheduler_(scheduler),
      rng_(rng),
      spec_(std::make_shared<const FaultSpec>(std::move(spec))),
      inner_(inner) {}

std::unique_ptr<agent::SttSession> FaultyStt::Open(agent::SttListener listener) {
  const uint64_t n = ++sessions_opened_;
  auto state = std::make_shared<SessionState>(scheduler_, spec_, stats_,
                                              rng_.Fork("session/" + std::to_string(n)),
                                              std::move(listener));
  state->Begin(inner_);
  return std::make_unique<FaultySession>(std::move(state));
}

}  // namespace callsim::fakes
