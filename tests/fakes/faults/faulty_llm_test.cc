#include "fakes/faults/faulty_llm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::fakes {
namespace {

using agent::provider_test::kMs;
using agent::provider_test::ScriptedLlm;
using agent::provider_test::StreamPlan;

// What one request's listener saw.
struct Outcome {
  int tokens = 0;
  int done = 0;
  std::vector<std::string> errors;
  int64_t error_us = -1;

  // "ok", "error:<msg>", "timeout" (nothing at all) or "drop" (tokens, then nothing).
  std::string Kind() const {
    if (!errors.empty()) return "error:" + errors[0];
    if (done == 1) return "ok";
    return tokens == 0 ? "timeout" : "drop";
  }
};

agent::LlmListener Listen(agent::SimScheduler& s, Outcome* o) {
  agent::LlmListener l;
  l.on_token = [o](const std::string&) { ++o->tokens; };
  l.on_done = [o] { ++o->done; };
  l.on_error = [o, &s](const std::string& e) {
    o->errors.push_back(e);
    o->error_us = s.NowUs();
  };
  return l;
}

StreamPlan Tokens(int n) {
  StreamPlan p;
  p.events = n;
  return p;
}

agent::LlmRequest Req() { return agent::LlmRequest{{agent::ChatMessage{"user", "hi", "", ""}}}; }

// Starts n requests at time 0 and runs them all; returns each one's outcome.
std::vector<Outcome> RunRequests(uint64_t seed, const FaultSpec& spec, int n,
                                 FaultStats* stats = nullptr, size_t* inner_starts = nullptr) {
  agent::SimScheduler s;
  ScriptedLlm inner(s, "i", {Tokens(5)});
  FaultyLlm llm(s, agent::Rng(seed), spec, inner);
  std::vector<Outcome> outcomes(n);
  std::vector<std::unique_ptr<agent::LlmStream>> streams;
  for (int i = 0; i < n; ++i) streams.push_back(llm.Start(Req(), Listen(s, &outcomes[i])));
  s.RunAll();
  if (stats) *stats = llm.stats();
  if (inner_starts) *inner_starts = inner.start_us.size();
  return outcomes;
}

TEST(FaultyLlmTest, FaultRatesHoldWithinTolerance) {
  FaultSpec spec;
  spec.error_rate = 0.1;
  spec.timeout_rate = 0.1;
  spec.drop_rate = 0.1;
  constexpr int kN = 2000;
  FaultStats stats;
  size_t inner_starts = 0;
  const std::vector<Outcome> outcomes = RunRequests(7, spec, kN, &stats, &inner_starts);
  int ok = 0, errors = 0, timeouts = 0, drops = 0;
  for (const Outcome& o : outcomes) {
    const std::string k = o.Kind();
    ok += k == "ok";
    errors += k == "error:injected error";
    timeouts += k == "timeout";
    drops += k == "drop";
    ASSERT_LE(o.done + static_cast<int>(o.errors.size()), 1);  // at most one ending
  }
  EXPECT_EQ(ok + errors + timeouts + drops, kN);
  // Binomial sd for p = 0.1, n = 2000 is 0.0067: the tolerance is about 3.7 sd (seed 7).
  EXPECT_NEAR(errors / double(kN), 0.1, 0.025);
  EXPECT_NEAR(timeouts / double(kN), 0.1, 0.025);
  EXPECT_NEAR(drops / double(kN), 0.1, 0.025);
  EXPECT_NEAR(ok / double(kN), 0.7, 0.03);
  EXPECT_EQ(stats.requests, static_cast<uint64_t>(kN));
  EXPECT_EQ(stats.errors, static_cast<uint64_t>(errors));
  EXPECT_EQ(stats.timeouts, static_cast<uint64_t>(timeouts));
  EXPECT_EQ(stats.drops, static_cast<uint64_t>(drops));
  // Errors and timeouts never reach the inner provider.
  EXPECT_EQ(inner_starts, static_cast<size_t>(ok + drops));
}

TEST(FaultyLlmTest, InjectedErrorsComeAfterAShortDrawnDelay) {
  FaultSpec spec;
  spec.error_rate = 1;
  const std::vector<Outcome> outcomes = RunRequests(3, spec, 400);
  std::vector<int64_t> delays;
  for (const Outcome& o : outcomes) {
    ASSERT_EQ(o.Kind(), "error:injected error");
    ASSERT_GT(o.error_us, 0);
    ASSERT_LE(o.error_us, 1000 * kMs);
    delays.push_back(o.error_us);
  }
  std::sort(delays.begin(), delays.end());
  EXPECT_NEAR(delays[200] / double(kMs), 50, 10);  // error_delay p50 = 50 ms
}

TEST(FaultyLlmTest, DroppedStreamsStopPartWayWithNeitherDoneNorError) {
  agent::SimScheduler s;
  ScriptedLlm inner(s, "i", {Tokens(10)});
  FaultSpec spec;
  spec.drop_rate = 1;
  spec.drop_max_tokens = 3;
  FaultyLlm llm(s, agent::Rng(11), spec, inner);
  constexpr int kN = 300;
  std::vector<Outcome> outcomes(kN);
  std::vector<std::unique_ptr<agent::LlmStream>> streams;
  for (int i = 0; i < kN; ++i) streams.push_back(llm.Start(Req(), Listen(s, &outcomes[i])));
  s.RunAll();
  int seen[4] = {0, 0, 0, 0};
  for (int i = 0; i < kN; ++i) {
    const Outcome& o = outcomes[i];
    ASSERT_EQ(o.done, 0);
    ASSERT_TRUE(o.errors.empty());
    ASSERT_GE(o.tokens, 1);
    ASSERT_LE(o.tokens, 3);
    ++seen[o.tokens];
    EXPECT_TRUE(inner.runners[i]->cancelled());  // the inner stream was stopped, not left running
  }
  for (int k = 1; k <= 3; ++k) EXPECT_NEAR(seen[k] / double(kN), 1.0 / 3, 0.09);
}

TEST(FaultyLlmTest, OutageWindowFailsEveryNewRequest) {
  agent::SimScheduler s;
  ScriptedLlm inner(s, "i", {Tokens(2)});
  FaultSpec spec;
  spec.outages = {{1000, 2000}};
  FaultyLlm llm(s, agent::Rng(5), spec, inner);
  const std::vector<double> start_ms = {999, 1000, 1999, 2000};
  std::vector<Outcome> outcomes(start_ms.size());
  std::vector<std::unique_ptr<agent::LlmStream>> streams(start_ms.size());
  for (size_t i = 0; i < start_ms.size(); ++i) {
    s.At(agent::provider_test::MsUs(start_ms[i]),
         [&, i] { streams[i] = llm.Start(Req(), Listen(s, &outcomes[i])); });
  }
  s.RunAll();
  EXPECT_EQ(outcomes[0].Kind(), "ok");  // started before the window: unaffected inside it
  EXPECT_EQ(outcomes[1].Kind(), "error:unavailable");
  EXPECT_EQ(outcomes[2].Kind(), "error:unavailable");
  EXPECT_EQ(outcomes[3].Kind(), "ok");  // the end is exclusive
  EXPECT_GT(outcomes[1].error_us, 1000 * kMs);
  EXPECT_EQ(llm.stats().outage_errors, 2u);
  EXPECT_EQ(inner.start_us.size(), 2u);
}

TEST(FaultyLlmTest, CancelBeforeTheInjectedErrorMeansNoCallback) {
  agent::SimScheduler s;
  ScriptedLlm inner(s, "i", {Tokens(2)});
  FaultSpec spec;
  spec.error_rate = 1;
  FaultyLlm llm(s, agent::Rng(5), spec, inner);
  Outcome o;
  auto stream = llm.Start(Req(), Listen(s, &o));
  stream->Cancel();
  s.RunAll();
  EXPECT_EQ(o.Kind(), "timeout");  // i.e. nothing at all
  EXPECT_EQ(s.pending(), 0u);
}

TEST(FaultyLlmTest, NoFaultsMeansTheInnerStreamUntouched) {
  agent::SimScheduler s;
  ScriptedLlm inner(s, "i", {Tokens(3)});
  FaultyLlm llm(s, agent::Rng(5), FaultSpec{}, inner);
  std::vector<int64_t> token_us;
  agent::LlmListener l;
  l.on_token = [&](const std::string&) { token_us.push_back(s.NowUs()); };
  auto stream = llm.Start(Req(), l);
  s.RunAll();
  EXPECT_EQ(token_us, (std::vector<int64_t>{100 * kMs, 120 * kMs, 140 * kMs}));
}

std::string Log(const std::vector<Outcome>& outcomes) {
  std::string log;
  for (const Outcome& o : outcomes) {
    log += o.Kind() + "/" + std::to_string(o.tokens) + "/" + std::to_string(o.error_us) + ";";
  }
  return log;
}

TEST(FaultyLlmTest, SameSeedSameFatesAndEachRequestDrawsAlone) {
  FaultSpec spec;
  spec.error_rate = 0.2;
  spec.timeout_rate = 0.1;
  spec.drop_rate = 0.2;
  EXPECT_EQ(Log(RunRequests(9, spec, 200)), Log(RunRequests(9, spec, 200)));
  EXPECT_NE(Log(RunRequests(9, spec, 200)), Log(RunRequests(10, spec, 200)));
  // Request n's fate depends on n only: the first 50 of 200 equal a run of just 50.
  const std::vector<Outcome> long_run = RunRequests(9, spec, 200);
  const std::vector<Outcome> short_run = RunRequests(9, spec, 50);
  EXPECT_EQ(Log(std::vector<Outcome>(long_run.begin(), long_run.begin() + 50)), Log(short_run));
}

}  // namespace
}  // namespace callsim::fakes
