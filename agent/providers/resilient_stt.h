// An SttProvider whose sessions survive a failing recognizer: a failed inner session is replaced
// (primary retries, then the secondary) and hears again the caller audio since the last final, so
// the caller's turn is not lost. Only when the policy is exhausted does the agent hear on_error.
#pragma once

#include <memory>

#include "agent/providers/retry_policy.h"
#include "agent/providers/stt.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

inline constexpr double kDefaultMaxReplayMs = 15000;
inline constexpr double kMaxReplayMsBound = 60000;  // max_replay_ms is clamped to [0, this]

// A session error, or no final within the policy's first-response timeout after Finalize(),
// retires the inner session and opens a new one (on the primary after backoff_ms, `retries` times,
// then once on the secondary at once), replaying into it the buffered audio with the pending
// Finalize() calls in place. The buffer holds at most max_replay_ms; older audio is dropped and
// counted. A final ends the failure episode: the next failure starts the ladder from the top.
// Events (source "agent"): those of RetryLadder, plus "provider_replay" {stage: "stt", frames,
// finals, dropped_frames} for each replay. Time only from the Scheduler.
class ResilientStt final : public SttProvider {
 public:
  // `secondary` may be nullptr (no failover). The scheduler, the event sink and both providers
  // are not owned; they must outlive this object and every session it returns. `policy` is used
  // Bounded(). The replay buffer of a session holds at most max_replay_ms of audio (640 bytes per
  // 20 ms frame: 15 s is about 480 KB at its peak).
  ResilientStt(Scheduler& scheduler, EventSink& events, RetryPolicy policy,
               SttProvider& primary, SttProvider* secondary = nullptr,
               double max_replay_ms = kDefaultMaxReplayMs);

  // Opens a session on the primary at once. The listener gets the results of the current inner
  // session only. Exactly one on_final per Finalize() while the session lives, unless it gives
  // up (on_error, once; nothing after it). Destroying the session stops every inner session and
  // timer: no callback follows. More than kMaxPendingFinals unanswered Finalize() calls also end
  // the session with on_error ("too many pending finals").
  std::unique_ptr<SttSession> Open(SttListener listener) override;

  const ResilienceStats& stats() const { return context_->stats; }
  const RetryPolicy& policy() const { return context_->policy; }
  int max_replay_frames() const { return max_replay_frames_; }

 private:
  std::shared_ptr<ResilienceContext> context_;  // shared with the sessions
  SttProvider& primary_;
  SttProvider* secondary_;
  int max_replay_frames_;
};

}  // namespace callsim::agent
