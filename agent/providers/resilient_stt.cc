#include "agent/providers/resilient_stt.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "agent/pipeline/agent_events.h"
#include "agent/providers/stt_replay_buffer.h"

namespace callsim::agent {
namespace {

// One agent-facing session: the inner session of the moment, the replay buffer and the timers.
// Callbacks of an inner session carry its number and are dropped once it is no longer current.
class SessionState : public std::enable_shared_from_this<SessionState> {
 public:
  SessionState(std::shared_ptr<ResilienceContext> context, SttProvider& primary,
               SttProvider* secondary, int max_replay_frames, SttListener listener)
      : context_(std::move(context)),
        ladder_(*context_, secondary != nullptr),
        primary_(primary),
        secondary_(secondary),
        listener_(std::move(listener)),
        buffer_(max_replay_frames) {}

  void Begin() { OpenInner(); }

  void PushAudio(const Frame& frame) {
    if (dead_) return;
    buffer_.PushFrame(frame);
    if (inner_) inner_->PushAudio(frame);
  }

  void Finalize() {
    if (dead_) return;
    if (!buffer_.MarkFinalize()) {
      GiveUpSoon("too many pending finals");
      return;
    }
    if (!inner_) return;  // between sessions: the replay will carry it
    inner_->Finalize();
    if (final_timer_ == kNoTask) ArmFinalTimer();
  }

  // The agent dropped its session.
  void Close() {
    dead_ = true;
    CancelTask(final_timer_);
    CancelTask(retry_timer_);
    inner_.reset();
    retired_.clear();
  }

 private:
  using Step = RetryLadder::Step;

  bool Current(uint64_t id) const { return !dead_ && id == session_id_; }

  SttListener Wrap(uint64_t id);
  void OpenInner();
  void Reopen();
  void ReplayInto(uint64_t id);
  void OnFinal(const std::string& text);
  void OnInnerError(const std::string& error);
  void Fail(const std::string& error);
  void FailSoon(const std::string& error);
  void GiveUpSoon(const std::string& error);
  void ArmFinalTimer();
  void CancelTask(TaskId& task) {
    if (task == kNoTask) return;
    context_->scheduler.Cancel(task);
    task = kNoTask;
  }

  std::shared_ptr<ResilienceContext> context_;
  RetryLadder ladder_;
  SttProvider& primary_;
  SttProvider* secondary_;
  SttListener listener_;
  SttReplayBuffer buffer_;
  std::unique_ptr<SttSession> inner_;
  // Failed sessions, destroyed on the next reopen (never inside their own callbacks). At most one
  // per step of the ladder, so bounded by the policy.
  std::vector<std::unique_ptr<SttSession>> retired_;
  uint64_t session_id_ = 0;
  TaskId final_timer_ = kNoTask;  // the oldest pending Finalize's first-response timeout
  TaskId retry_timer_ = kNoTask;  // a backoff, or a failure handled from its own task
  bool dead_ = false;             // gave up or closed
  bool feeding_ = false;          // inside the inner session's Open, or replaying into it
};

SttListener SessionState::Wrap(uint64_t id) {
  std::weak_ptr<SessionState> weak = weak_from_this();
  SttListener wrapped;
  wrapped.on_interim = [weak, id](const std::string& text) {
    std::shared_ptr<SessionState> self = weak.lock();
    if (self && self->Current(id) && self->listener_.on_interim) self->listener_.on_interim(text);
  };
  wrapped.on_final = [weak, id](const std::string& text) {
    std::shared_ptr<SessionState> self = weak.lock();
    if (self && self->Current(id)) self->OnFinal(text);
  };
  wrapped.on_error = [weak, id](const std::string& error) {
    std::shared_ptr<SessionState> self = weak.lock();
    if (self && self->Current(id)) self->OnInnerError(error);
  };
  return wrapped;
}

void SessionState::OpenInner() {
  const uint64_t id = ++session_id_;
  SttProvider& provider = ladder_.on_secondary() ? *secondary_ : primary_;
  feeding_ = true;
  std::unique_ptr<SttSession> session = provider.Open(Wrap(id));
  feeding_ = false;
  if (!Current(id)) {
    if (session) retired_.push_back(std::move(session));
    return;
  }
  inner_ = std::move(session);
  if (!inner_) FailSoon("provider returned no session");
}

void SessionState::Reopen() {
  retry_timer_ = kNoTask;
  retired_.clear();
  OpenInner();
  if (inner_) ReplayInto(session_id_);
}

void SessionState::ReplayInto(uint64_t id) {
  const uint64_t frames = buffer_.held_frames();
  const uint64_t dropped = buffer_.dropped_frames();
  context_->stats.replayed_frames += frames;
  context_->stats.replay_dropped_frames += dropped;
  context_->events.Emit(context_->scheduler.NowUs(), event_sources::kAgent,
                        agent_events::kProviderReplay,
                        {{"stage", context_->stage},
                         {"frames", frames},
                         {"finals", buffer_.pending_finals()},
                         {"dropped_frames", dropped}});
  feeding_ = true;
  buffer_.Replay(
      [this, id](const Frame& frame) {
        if (!Current(id) || !inner_) return false;
        inner_->PushAudio(frame);
        return true;
      },
      [this, id] {
        if (!Current(id) || !inner_) return false;
        inner_->Finalize();
        return true;
      });
  feeding_ = false;
  if (Current(id) && inner_ && buffer_.pending_finals() > 0) ArmFinalTimer();
}

void SessionState::OnFinal(const std::string& text) {
  buffer_.OnFinal();
  ladder_.Reset();  // the recognizer answered: the failure episode is over
  CancelTask(final_timer_);
  if (buffer_.pending_finals() > 0 && inner_) ArmFinalTimer();
  if (listener_.on_final) listener_.on_final(text);
}

void SessionState::OnInnerError(const std::string& error) {
  if (feeding_) {
    FailSoon(error);  // never re-enter the ladder from inside Open or a replay
  } else {
    Fail(error);
  }
}

// The current inner session failed: retire it, then reopen after the ladder's delay or give up.
void SessionState::Fail(const std::string& error) {
  CancelTask(final_timer_);
  CancelTask(retry_timer_);
  if (inner_) retired_.push_back(std::move(inner_));
  ++session_id_;  // whatever the retired session still sends is dropped
  const Step step = ladder_.OnFailure(error);
  if (step == Step::kGiveUp) {
    dead_ = true;
    if (listener_.on_error) listener_.on_error(error);
    return;
  }
  std::weak_ptr<SessionState> weak = weak_from_this();
  retry_timer_ = context_->scheduler.After(ladder_.DelayUs(step), [weak] {
    std::shared_ptr<SessionState> self = weak.lock();
    if (self && !self->dead_) self->Reopen();
  });
}

void SessionState::FailSoon(const std::string& error) {
  CancelTask(retry_timer_);
  std::weak_ptr<SessionState> weak = weak_from_this();
  const uint64_t id = session_id_;
  retry_timer_ = context_->scheduler.After(0, [weak, id, error] {
    std::shared_ptr<SessionState> self = weak.lock();
    if (!self || !self->Current(id)) return;
    self->retry_timer_ = kNoTask;
    self->Fail(error);
  });
}

// A bound was hit that no new session can cure: the session ends, from a task of its own.
void SessionState::GiveUpSoon(const std::string& error) {
  dead_ = true;
  CancelTask(final_timer_);
  CancelTask(retry_timer_);
  ++context_->stats.gave_up;
  context_->events.Emit(context_->scheduler.NowUs(), event_sources::kAgent,
                        agent_events::kProviderGaveUp,
                        {{"stage", context_->stage}, {"error", error}});
  std::weak_ptr<SessionState> weak = weak_from_this();
  retry_timer_ = context_->scheduler.After(0, [weak, error] {
    std::shared_ptr<SessionState> self = weak.lock();
    if (!self) return;
    self->retry_timer_ = kNoTask;
    if (self->listener_.on_error) self->listener_.on_error(error);
  });
}

void SessionState::ArmFinalTimer() {
  CancelTask(final_timer_);
  const double timeout_ms = context_->policy.first_response_timeout_ms;
  std::weak_ptr<SessionState> weak = weak_from_this();
  const uint64_t id = session_id_;
  final_timer_ = context_->scheduler.After(
      std::llround(timeout_ms * kMicrosPerMs), [weak, id, timeout_ms] {
        std::shared_ptr<SessionState> self = weak.lock();
        if (!self || !self->Current(id)) return;
        self->final_timer_ = kNoTask;
        ++self->context_->stats.timeouts;
        self->Fail(FirstResponseTimeoutError(timeout_ms));
      });
}

class ResilientSession final : public SttSession {
 public:
  explicit ResilientSession(std::shared_ptr<SessionState> state) : state_(std::move(state)) {}
  ~ResilientSession() override { state_->Close(); }
  void PushAudio(const Frame& frame) override { state_->PushAudio(frame); }
  void Finalize() override { state_->Finalize(); }

 private:
  std::shared_ptr<SessionState> state_;
};

}  // namespace

ResilientStt::ResilientStt(Scheduler& scheduler, EventSink& events, RetryPolicy policy,
                           SttProvider& primary, SttProvider* secondary, double max_replay_ms)
    : context_(std::make_shared<ResilienceContext>(scheduler, events, policy, "stt")),
      primary_(primary),
      secondary_(secondary) {
  const double ms = std::isnan(max_replay_ms) ? kDefaultMaxReplayMs
                                              : std::clamp(max_replay_ms, 0.0, kMaxReplayMsBound);
  max_replay_frames_ = static_cast<int>(std::llround(ms / kFrameMs));
}

std::unique_ptr<SttSession> ResilientStt::Open(SttListener listener) {
  ++context_->stats.requests;
  auto state = std::make_shared<SessionState>(context_, primary_, secondary_, max_replay_frames_,
                                               std::move(listener));
  state->Begin();
  return std::make_unique<ResilientSession>(std::move(state));
}

}  // namespace callsim::agent
