#include "agent/providers/resilient_stt.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::agent::provider_test {
namespace {

struct SttRecord {
  std::vector<std::string> interims;
  std::vector<std::string> finals;
  std::vector<int64_t> final_us;
  std::vector<std::string> errors;
  std::vector<int64_t> error_us;

  SttListener Listener(agent::SimScheduler& s) {
    SttListener l;
    l.on_interim = [this](const std::string& t) { interims.push_back(t); };
    l.on_final = [this, &s](const std::string& t) {
      finals.push_back(t);
      final_us.push_back(s.NowUs());
    };
    l.on_error = [this, &s](const std::string& e) {
      errors.push_back(e);
      error_us.push_back(s.NowUs());
    };
    return l;
  }
  size_t callbacks() const { return interims.size() + finals.size() + errors.size(); }
};

RetryPolicy Policy(int retries, double backoff_ms, double timeout_ms = 2500) {
  RetryPolicy p;
  p.retries = retries;
  p.backoff_ms = backoff_ms;
  p.first_response_timeout_ms = timeout_ms;
  return p;
}

// The caller: frame k (numbered k) at k * 20 ms for k in [first, last]; Finalize at the given
// times (after the frame due at the same time). Tasks hold the session by reference, so the test
// may destroy it.
void Talk(agent::SimScheduler& s, std::unique_ptr<SttSession>& session, int first, int last,
          std::vector<double> finalize_ms = {}) {
  for (int k = first; k <= last; ++k) {
    s.At(k * 20 * kMs, [&session, k] {
      if (session) session->PushAudio(NumberedFrame(k));
    });
  }
  for (double ms : finalize_ms) {
    s.At(MsUs(ms), [&session] {
      if (session) session->Finalize();
    });
  }
}

std::vector<int> Range(int first, int last) {
  std::vector<int> out;
  for (int k = first; k <= last; ++k) out.push_back(k);
  return out;
}

std::string Words(int first, int last) {
  std::string out;
  for (int k = first; k <= last; ++k) out += (out.empty() ? "" : " ") + std::to_string(k);
  return out;
}

std::vector<std::string> Kinds(const RecordingSink& sink) {
  std::vector<std::string> kinds;
  for (const RecordedEvent& e : sink.events) kinds.push_back(e.kind);
  return kinds;
}

TEST(ResilientSttTest, HealthySessionPassesThrough) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan plan;
  plan.interim_every = 2;
  ScriptedStt primary(s, {plan});
  ResilientStt stt(s, sink, Policy(1, 250), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 4, {80});
  s.RunAll();
  EXPECT_EQ(rec.interims, (std::vector<std::string>{"1 2", "1 2 3 4"}));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{"1 2 3 4"}));
  EXPECT_EQ(rec.final_us, (std::vector<int64_t>{180 * kMs}));
  EXPECT_EQ(primary.sessions.size(), 1u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(ResilientSttTest, ErrorReopensAfterBackoffAndReplaysTheTurnInOrder) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan failing;
  failing.error_after_frames = 3;
  ScriptedStt primary(s, {failing, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 15, {200});  // Finalize after frame 10, while backing off
  s.RunAll();
  ASSERT_EQ(primary.sessions.size(), 2u);
  EXPECT_EQ(primary.sessions[0]->frames, Range(1, 3));
  EXPECT_TRUE(primary.sessions[0]->destroyed);
  EXPECT_EQ(primary.sessions[1]->open_us, 310 * kMs);  // error at 60 + 250 backoff
  EXPECT_EQ(primary.sessions[1]->frames, Range(1, 15));
  EXPECT_EQ(primary.sessions[1]->finalize_after, (std::vector<size_t>{10}));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{Words(1, 10)}));
  EXPECT_EQ(rec.final_us, (std::vector<int64_t>{410 * kMs}));
  EXPECT_TRUE(rec.errors.empty());
  EXPECT_EQ(Kinds(sink), (std::vector<std::string>{"provider_retry", "provider_replay"}));
  EXPECT_EQ(sink.events[0].t_us, 60 * kMs);
  EXPECT_EQ(sink.events[0].detail,
            (nlohmann::json{{"stage", "stt"}, {"attempt", 1}, {"error", "stt down"}}));
  EXPECT_EQ(sink.events[1].detail,
            (nlohmann::json{{"stage", "stt"}, {"frames", 15}, {"finals", 1}, {"dropped_frames", 0}}));
  EXPECT_EQ(stt.stats().replayed_frames, 15u);
}

TEST(ResilientSttTest, NoFinalInTimeReopensAndReissuesFinalize) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan mute;
  mute.never_final = true;
  ScriptedStt primary(s, {mute, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250, 2500), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 5, {100});
  s.RunAll();
  ASSERT_EQ(sink.OfKind("provider_retry").size(), 1u);
  EXPECT_EQ(sink.OfKind("provider_retry")[0].t_us, 2600 * kMs);
  EXPECT_EQ(sink.OfKind("provider_retry")[0].detail["error"], "no first response within 2500 ms");
  ASSERT_EQ(primary.sessions.size(), 2u);
  EXPECT_EQ(primary.sessions[1]->open_us, 2850 * kMs);
  EXPECT_EQ(primary.sessions[1]->frames, Range(1, 5));
  EXPECT_EQ(primary.sessions[1]->finalize_after, (std::vector<size_t>{5}));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{Words(1, 5)}));
  EXPECT_EQ(rec.final_us, (std::vector<int64_t>{2950 * kMs}));
  EXPECT_EQ(stt.stats().timeouts, 1u);
}

TEST(ResilientSttTest, FailsOverToSecondaryAfterPrimaryFailsTwice) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan dying;
  dying.error_at_ms = 50;
  ScriptedStt primary(s, {dying});
  ScriptedStt secondary(s, {SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary, &secondary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 5, {100});
  s.RunAll();
  EXPECT_EQ(primary.sessions.size(), 2u);  // at 0 and at 300
  ASSERT_EQ(secondary.sessions.size(), 1u);
  EXPECT_EQ(secondary.sessions[0]->open_us, 350 * kMs);
  EXPECT_EQ(secondary.sessions[0]->frames, Range(1, 5));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{Words(1, 5)}));
  EXPECT_EQ(rec.final_us, (std::vector<int64_t>{450 * kMs}));
  EXPECT_TRUE(rec.errors.empty());
  EXPECT_EQ(Kinds(sink), (std::vector<std::string>{"provider_retry", "provider_replay",
                                                   "provider_failover", "provider_replay"}));
}

TEST(ResilientSttTest, GivingUpReachesTheListenerOnceAndEndsTheSession) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan dying;
  dying.error_at_ms = 50;
  ScriptedStt primary(s, {dying});
  ResilientStt stt(s, sink, Policy(1, 250), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 40, {100, 700});
  s.RunAll();
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"stt down"}));
  EXPECT_EQ(rec.error_us, (std::vector<int64_t>{350 * kMs}));
  EXPECT_EQ(rec.callbacks(), 1u);
  EXPECT_EQ(primary.sessions.size(), 2u);  // nothing opened after giving up
  EXPECT_EQ(primary.sessions[1]->frames, Range(1, 17));  // none after 350 (frame 17: 340)
  EXPECT_EQ(sink.OfKind("provider_gave_up").size(), 1u);
  EXPECT_EQ(stt.stats().gave_up, 1u);
}

TEST(ResilientSttTest, ReplayIsBoundedAndCountsWhatItDropped) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan failing;
  failing.error_after_frames = 12;
  ScriptedStt primary(s, {failing, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary, nullptr, /*max_replay_ms=*/100);
  EXPECT_EQ(stt.max_replay_frames(), 5);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 12, {600});
  s.RunAll();
  ASSERT_EQ(primary.sessions.size(), 2u);
  EXPECT_EQ(primary.sessions[1]->frames, Range(8, 12));  // the newest 100 ms
  EXPECT_EQ(rec.finals, (std::vector<std::string>{Words(8, 12)}));
  const std::vector<RecordedEvent> replays = sink.OfKind("provider_replay");
  ASSERT_EQ(replays.size(), 1u);
  EXPECT_EQ(replays[0].detail["frames"], 5);
  EXPECT_EQ(replays[0].detail["dropped_frames"], 7);
  EXPECT_EQ(stt.stats().replay_dropped_frames, 7u);
}

TEST(ResilientSttTest, AFinalEndsTheFailureEpisode) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan early;
  early.error_after_frames = 3;
  SessionPlan late;
  late.error_at_ms = 1000;
  ScriptedStt primary(s, {early, late, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary);  // one retry, no secondary
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 15, {200, 1700});
  s.RunAll();
  // Session 1 (opened 310) answered at 410, then died at 1310: that is a new episode, so it is
  // retried rather than given up; session 2 (1560) hears the 5 frames after the first final.
  EXPECT_EQ(Kinds(sink), (std::vector<std::string>{"provider_retry", "provider_replay",
                                                   "provider_retry", "provider_replay"}));
  EXPECT_EQ(sink.events[2].detail["attempt"], 1);
  ASSERT_EQ(primary.sessions.size(), 3u);
  EXPECT_EQ(primary.sessions[2]->open_us, 1560 * kMs);
  EXPECT_EQ(primary.sessions[2]->frames, Range(11, 15));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{Words(1, 10), Words(11, 15)}));
  EXPECT_TRUE(rec.errors.empty());
}

TEST(ResilientSttTest, SeveralPendingFinalizesAreReplayedInPlace) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan slow_then_dead;
  slow_then_dead.final_ms = 1000;
  slow_then_dead.error_at_ms = 500;
  ScriptedStt primary(s, {slow_then_dead, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 5, {60, 100});
  s.RunAll();
  ASSERT_EQ(primary.sessions.size(), 2u);
  EXPECT_EQ(primary.sessions[1]->frames, Range(1, 5));
  EXPECT_EQ(primary.sessions[1]->finalize_after, (std::vector<size_t>{3, 5}));
  EXPECT_EQ(rec.finals, (std::vector<std::string>{"1 2 3", "4 5"}));
  EXPECT_EQ(rec.final_us, (std::vector<int64_t>{850 * kMs, 850 * kMs}));
}

TEST(ResilientSttTest, DestroyingTheSessionDuringBackoffMeansNoCallbacks) {
  agent::SimScheduler s;
  RecordingSink sink;
  SessionPlan failing;
  failing.error_after_frames = 3;
  ScriptedStt primary(s, {failing, SessionPlan{}});
  ResilientStt stt(s, sink, Policy(1, 250), primary);
  SttRecord rec;
  std::unique_ptr<SttSession> session = stt.Open(rec.Listener(s));
  Talk(s, session, 1, 5, {100});
  s.At(150 * kMs, [&session] { session.reset(); });
  s.RunAll();
  EXPECT_EQ(rec.callbacks(), 0u);
  EXPECT_EQ(primary.sessions.size(), 1u);
  EXPECT_EQ(s.pending(), 0u);
}

}  // namespace
}  // namespace callsim::agent::provider_test
