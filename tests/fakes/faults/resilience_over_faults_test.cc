// The resilient decorators (agent/providers) over the fault injectors (fakes/faults): what the
// agent's listener sees when providers fail at known rates, and that the whole exchange replays
// exactly from its seed.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/providers/resilient_llm.h"
#include "agent/providers/resilient_stt.h"
#include "fakes/faults/faulty_llm.h"
#include "fakes/faults/faulty_stt.h"
#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::fakes {
namespace {

using agent::provider_test::NumberedFrame;
using agent::provider_test::RecordingSink;
using agent::provider_test::ScriptedLlm;
using agent::provider_test::ScriptedStt;
using agent::provider_test::SessionPlan;
using agent::provider_test::StreamPlan;

struct LlmRun {
  int done = 0;
  int errors = 0;
  int double_endings = 0;
  agent::ResilienceStats stats;
  std::string log;  // every event and every listener ending, with times
};

LlmRun RunLlm(uint64_t seed, int requests) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary_inner(s, "p", {StreamPlan{}});
  ScriptedLlm secondary_inner(s, "s", {StreamPlan{}});
  FaultSpec spec;
  spec.error_rate = 0.2;
  spec.timeout_rate = 0.1;
  const agent::Rng root(seed);
  FaultyLlm primary(s, root.Fork("llm/primary"), spec, primary_inner);
  FaultyLlm secondary(s, root.Fork("llm/secondary"), spec, secondary_inner);
  agent::ResilientLlm llm(s, sink, agent::RetryPolicy{}, primary, &secondary);
  LlmRun run;
  std::vector<int> endings(requests, 0);
  std::vector<std::unique_ptr<agent::LlmStream>> streams;
  for (int i = 0; i < requests; ++i) {
    agent::LlmListener l;
    l.on_done = [&, i] {
      ++run.done;
      run.double_endings += endings[i]++ > 0;
      run.log += "done " + std::to_string(i) + "@" + std::to_string(s.NowUs()) + ";";
    };
    l.on_error = [&, i](const std::string& e) {
      ++run.errors;
      run.double_endings += endings[i]++ > 0;
      run.log += "error " + std::to_string(i) + " " + e + "@" + std::to_string(s.NowUs()) + ";";
    };
    streams.push_back(llm.Start(agent::LlmRequest{}, l));
  }
  s.RunAll();
  for (const auto& e : sink.events) {
    run.log += e.kind + "@" + std::to_string(e.t_us) + e.detail.dump() + ";";
  }
  run.stats = llm.stats();
  return run;
}

TEST(ResilienceOverFaultsTest, RetriesAndFailoverHideMostLlmFaults) {
  constexpr int kN = 1000;
  const LlmRun run = RunLlm(1, kN);
  EXPECT_EQ(run.done + run.errors, kN);  // every request ends, exactly once
  EXPECT_EQ(run.double_endings, 0);
  // Each attempt fails with p = 0.3; three attempts (primary, retry, secondary) all fail with
  // p = 0.027 (sd 0.0051); retries happen for 30% of requests (sd 0.0145), failovers for 9%.
  EXPECT_NEAR(run.errors / double(kN), 0.027, 0.016);
  EXPECT_NEAR(run.stats.retries / double(kN), 0.3, 0.045);
  EXPECT_NEAR(run.stats.failovers / double(kN), 0.09, 0.027);
  EXPECT_EQ(run.stats.gave_up, static_cast<uint64_t>(run.errors));
  EXPECT_GT(run.stats.timeouts, 0u);
}

TEST(ResilienceOverFaultsTest, TheWholeExchangeReplaysFromItsSeed) {
  EXPECT_EQ(RunLlm(5, 200).log, RunLlm(5, 200).log);
  EXPECT_NE(RunLlm(5, 200).log, RunLlm(6, 200).log);
}

TEST(ResilienceOverFaultsTest, SttReplayKeepsTheTurnThroughInjectedErrors) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedStt inner(s, {SessionPlan{}});
  FaultSpec spec;
  spec.error_rate = 0.3;
  FaultyStt faulty(s, agent::Rng(12), spec, inner);
  agent::ResilientStt stt(s, sink, agent::RetryPolicy{}, faulty);  // one retry, no secondary
  constexpr int kN = 1000;
  std::vector<std::vector<std::string>> finals(kN);
  std::vector<int> errors(kN, 0);
  std::vector<std::unique_ptr<agent::SttSession>> sessions;
  for (int i = 0; i < kN; ++i) {
    agent::SttListener l;
    l.on_final = [&finals, i](const std::string& t) { finals[i].push_back(t); };
    l.on_error = [&errors, i](const std::string&) { ++errors[i]; };
    sessions.push_back(stt.Open(l));
    for (int k = 1; k <= 10; ++k) sessions.back()->PushAudio(NumberedFrame(k));
    sessions.back()->Finalize();
  }
  s.RunAll();
  int answered = 0, failed = 0;
  for (int i = 0; i < kN; ++i) {
    ASSERT_LE(finals[i].size() + errors[i], 1u) << "session " << i;
    if (!finals[i].empty()) {
      ++answered;
      EXPECT_EQ(finals[i][0], "1 2 3 4 5 6 7 8 9 10");  // the whole turn, even after a retry
    }
    failed += errors[i];
  }
  EXPECT_EQ(answered + failed, kN);
  // Two attempts both fail with p = 0.09 (sd 0.009); a retry happens with p = 0.3 (sd 0.0145).
  EXPECT_NEAR(failed / double(kN), 0.09, 0.03);
  EXPECT_NEAR(stt.stats().retries / double(kN), 0.3, 0.05);
}

}  // namespace
}  // namespace callsim::fakes
