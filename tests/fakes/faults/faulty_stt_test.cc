#include "fakes/faults/faulty_stt.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::fakes {
namespace {

using agent::provider_test::kMs;
using agent::provider_test::NumberedFrame;
using agent::provider_test::ScriptedStt;
using agent::provider_test::SessionPlan;

struct SttOutcome {
  std::vector<std::string> interims;
  std::vector<std::string> finals;
  std::vector<std::string> errors;
  int64_t error_us = -1;

  std::string Kind() const {
    if (!errors.empty()) return "error:" + errors[0];
    return finals.empty() ? "silent" : "final";
  }
};

agent::SttListener Listen(agent::SimScheduler& s, SttOutcome* o) {
  agent::SttListener l;
  l.on_interim = [o](const std::string& t) { o->interims.push_back(t); };
  l.on_final = [o](const std::string& t) { o->finals.push_back(t); };
  l.on_error = [o, &s](const std::string& e) {
    o->errors.push_back(e);
    o->error_us = s.NowUs();
  };
  return l;
}

SessionPlan Interims(int every) {
  SessionPlan p;
  p.interim_every = every;
  return p;
}

// n sessions opened at 0, each hearing frames 1..10 and one Finalize at once.
std::vector<SttOutcome> RunSessions(uint64_t seed, const FaultSpec& spec, int n,
                                    FaultStats* stats = nullptr) {
  agent::SimScheduler s;
  ScriptedStt inner(s, {Interims(3)});
  FaultyStt stt(s, agent::Rng(seed), spec, inner);
  std::vector<SttOutcome> outcomes(n);
  std::vector<std::unique_ptr<agent::SttSession>> sessions;
  for (int i = 0; i < n; ++i) {
    sessions.push_back(stt.Open(Listen(s, &outcomes[i])));
    for (int k = 1; k <= 10; ++k) sessions.back()->PushAudio(NumberedFrame(k));
    sessions.back()->Finalize();
  }
  s.RunAll();
  if (stats) *stats = stt.stats();
  return outcomes;
}

TEST(FaultySttTest, FaultRatesHoldWithinTolerance) {
  FaultSpec spec;
  spec.error_rate = 0.1;
  spec.timeout_rate = 0.1;
  spec.drop_rate = 0.1;
  constexpr int kN = 2000;
  FaultStats stats;
  const std::vector<SttOutcome> outcomes = RunSessions(21, spec, kN, &stats);
  int finals = 0, errors = 0, silent = 0;
  for (const SttOutcome& o : outcomes) {
    const std::string k = o.Kind();
    finals += k == "final";
    errors += k == "error:injected error";
    silent += k == "silent";
    if (k == "final") {
      ASSERT_EQ(o.finals[0], "1 2 3 4 5 6 7 8 9 10");
    }
  }
  EXPECT_EQ(finals + errors + silent, kN);
  // sd 0.0067 (p = 0.1), 0.0089 (p = 0.2), 0.010 (p = 0.7): tolerances about 3.5 sd.
  EXPECT_NEAR(errors / double(kN), 0.1, 0.025);
  EXPECT_NEAR(silent / double(kN), 0.2, 0.03);
  EXPECT_NEAR(finals / double(kN), 0.7, 0.035);
  EXPECT_EQ(stats.errors, static_cast<uint64_t>(errors));
  EXPECT_NEAR(stats.timeouts / double(kN), 0.1, 0.025);
}

TEST(FaultySttTest, InjectedErrorReplacesTheFinal) {
  agent::SimScheduler s;
  ScriptedStt inner(s, {SessionPlan{}});
  FaultSpec spec;
  spec.error_rate = 1;
  FaultyStt stt(s, agent::Rng(4), spec, inner);
  SttOutcome o;
  auto session = stt.Open(Listen(s, &o));
  session->PushAudio(NumberedFrame(1));
  session->Finalize();
  session->PushAudio(NumberedFrame(2));  // after the failure: goes nowhere
  s.RunAll();
  EXPECT_EQ(o.Kind(), "error:injected error");
  EXPECT_GT(o.error_us, 0);
  EXPECT_LE(o.error_us, 1000 * kMs);
  ASSERT_EQ(inner.sessions.size(), 1u);
  EXPECT_TRUE(inner.sessions[0]->finalize_us.empty());  // the real answer was never asked for
  EXPECT_EQ(inner.sessions[0]->frames, (std::vector<int>{1}));
}

TEST(FaultySttTest, DroppedSessionStopsProducingResultsPartWay) {
  agent::SimScheduler s;
  ScriptedStt inner(s, {Interims(1)});
  FaultSpec spec;
  spec.drop_rate = 1;
  spec.drop_max_results = 2;
  FaultyStt stt(s, agent::Rng(8), spec, inner);
  constexpr int kN = 150;
  std::vector<SttOutcome> outcomes(kN);
  std::vector<std::unique_ptr<agent::SttSession>> sessions;
  for (int i = 0; i < kN; ++i) sessions.push_back(stt.Open(Listen(s, &outcomes[i])));
  for (int k = 1; k <= 20; ++k) {
    s.At(k * 20 * kMs, [&sessions, k] {
      for (auto& session : sessions) session->PushAudio(NumberedFrame(k));
    });
  }
  s.At(400 * kMs, [&sessions] {
    for (auto& session : sessions) session->Finalize();
  });
  s.RunAll();
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < kN; ++i) {
    const SttOutcome& o = outcomes[i];
    ASSERT_EQ(o.Kind(), "silent");
    ASSERT_LE(o.interims.size(), 2u);
    ++seen[o.interims.size()];
    // The inner session heard nothing after the drop: interim j answers frame j + 1 within
    // 10 ms, before frame j + 2 is pushed.
    EXPECT_EQ(inner.sessions[i]->frames.size(), o.interims.size() + 1);
    EXPECT_TRUE(inner.sessions[i]->finalize_us.empty());
  }
  for (int k = 0; k <= 2; ++k) EXPECT_NEAR(seen[k] / double(kN), 1.0 / 3, 0.12);
  EXPECT_EQ(stt.stats().drops, static_cast<uint64_t>(kN));
}

TEST(FaultySttTest, OutagesFailOpenSessionsAtTheStartAndNewOnesAfterADelay) {
  agent::SimScheduler s;
  ScriptedStt inner(s, {SessionPlan{}});
  FaultSpec spec;
  spec.outages = {{1000, 2000}};
  FaultyStt stt(s, agent::Rng(6), spec, inner);
  SttOutcome before, during, after;
  auto a = stt.Open(Listen(s, &before));
  std::unique_ptr<agent::SttSession> b, c;
  s.At(1500 * kMs, [&] { b = stt.Open(Listen(s, &during)); });
  s.At(2000 * kMs, [&] {
    c = stt.Open(Listen(s, &after));
    c->PushAudio(NumberedFrame(7));
    c->Finalize();
  });
  s.RunAll();
  EXPECT_EQ(before.Kind(), "error:unavailable");
  EXPECT_EQ(before.error_us, 1000 * kMs);
  EXPECT_EQ(during.Kind(), "error:unavailable");
  EXPECT_GT(during.error_us, 1500 * kMs);
  EXPECT_LE(during.error_us, 2500 * kMs);
  EXPECT_EQ(after.finals, (std::vector<std::string>{"7"}));
  EXPECT_EQ(inner.sessions.size(), 2u);  // the session opened in the outage never got through
  EXPECT_EQ(stt.stats().outage_errors, 2u);
}

// A seed whose session 1 passes request 1 and drops request 2 at its first result.
uint64_t SeedForPassThenDrop(const FaultSpec& spec) {
  for (uint64_t seed = 1; seed < 1000; ++seed) {
    const agent::Rng session = agent::Rng(seed).Fork("session/1");
    agent::Rng r1 = session.Fork("request/1");
    agent::Rng r2 = session.Fork("request/2");
    const FaultDraw d1 = DrawFault(spec, r1, 0, spec.drop_max_results);
    const FaultDraw d2 = DrawFault(spec, r2, 0, spec.drop_max_results);
    if (d1.kind == FaultKind::kNone && d2.kind == FaultKind::kDrop && d2.drop_after == 0) {
      return seed;
    }
  }
  return 0;
}

TEST(FaultySttTest, AFinalAlreadyOwedSurvivesALaterDrop) {
  FaultSpec spec;
  spec.drop_rate = 0.5;
  const uint64_t seed = SeedForPassThenDrop(spec);
  ASSERT_NE(seed, 0u);
  agent::SimScheduler s;
  ScriptedStt inner(s, {Interims(1)});
  FaultyStt stt(s, agent::Rng(seed), spec, inner);
  SttOutcome o;
  auto session = stt.Open(Listen(s, &o));
  for (int k = 1; k <= 3; ++k) session->PushAudio(NumberedFrame(k));
  session->Finalize();  // request 1 passes; its interims arrive (10 ms) after it, in request 2
  s.RunAll();
  EXPECT_TRUE(o.interims.empty());  // request 2 dropped at its first result
  EXPECT_EQ(o.finals, (std::vector<std::string>{"1 2 3"}));
  EXPECT_EQ(stt.stats().drops, 1u);
}

std::string Log(const std::vector<SttOutcome>& outcomes) {
  std::string log;
  for (const SttOutcome& o : outcomes) {
    log += o.Kind() + "/" + std::to_string(o.interims.size()) + "/" + std::to_string(o.error_us) + ";";
  }
  return log;
}

TEST(FaultySttTest, SameSeedSameFates) {
  FaultSpec spec;
  spec.error_rate = 0.2;
  spec.timeout_rate = 0.1;
  spec.drop_rate = 0.2;
  EXPECT_EQ(Log(RunSessions(3, spec, 300)), Log(RunSessions(3, spec, 300)));
  EXPECT_NE(Log(RunSessions(3, spec, 300)), Log(RunSessions(4, spec, 300)));
}

}  // namespace
}  // namespace callsim::fakes
