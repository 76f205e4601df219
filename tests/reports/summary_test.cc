#include "reports/summary.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>
#include "tests/reports/store_fixture.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::ExpectationRow;
using harness::RunInfo;
using harness::Store;
using harness::TurnRow;

class SummaryTest : public testing::StoreFixture {
 protected:

  int64_t Begin(const std::string& scenario, const std::string& config_json = "{}") {
    RunInfo run;
    run.scenario = scenario;
    run.seed = 42;
    run.config_json = config_json;
    return store_->BeginRun(run);
  }

  void AddCall(int64_t run_id, int64_t call_id, const std::string& status, bool passed,
               std::vector<TurnRow> turns, std::vector<ExpectationRow> expectations = {}) {
    CallRow c;
    c.run_id = run_id;
    c.call_id = call_id;
    c.scenario = "order_status";
    c.status = status;
    c.task_completed = passed;
    store_->AddCall(c, std::move(turns), std::move(expectations), {});
  }

  // The hand-made run: 4 calls (2 passed, 1 failed, 1 dropped), 6 turns.
  int64_t MakeRun() {
    const int64_t run_id = Begin("order_status");
    AddCall(run_id, 1, "completed", true, {Turn(0, 4, 0, 0, 0, 100), Turn(1, 4, 1, 0, 0, 300)});
    TurnRow barge = Turn(1, 6, 0, 1, 1, 400);
    barge.barge_in = true;
    barge.barge_in_stop_ms = 150;
    AddCall(run_id, 2, "completed", true, {Turn(0, 0, 0, 0, 0, 200), barge});
    TurnRow unanswered = Turn(1, 6, 2, 0, 0, std::nullopt);
    unanswered.barge_in = true;
    unanswered.barge_in_stop_ms = 250;
    ExpectationRow held{.turn_index = 0, .kind = "tool_call", .passed = true, .detail = "ok"};
    ExpectationRow missed{.turn_index = 1, .kind = "agent_says", .passed = false,
                          .detail = "expected \"shipped\", heard nothing"};
    AddCall(run_id, 3, "failed", false, {Turn(0, 0, 0, 0, 0, 500), unanswered}, {held, missed});
    AddCall(run_id, 4, "dropped", false, {});
    store_->FinishRun(run_id, "failed", "hash", 99);
    return run_id;
  }

  static TurnRow Turn(int index, int64_t n, int64_t s, int64_t d, int64_t i,
                      std::optional<double> latency_ms) {
    TurnRow t;
    t.turn_index = index;
    t.ref_words = n;
    t.substitutions = s;
    t.deletions = d;
    t.insertions = i;
    t.turn_latency_ms = latency_ms;
    return t;
  }

};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(SummaryTest, ShowsTheRunsNumbersComputedFromTheStoredRows) {
  const std::string out = RenderSummary(*store_, MakeRun());
  EXPECT_TRUE(Contains(out, "run 1: order_status\n")) << out;
  EXPECT_TRUE(Contains(out, "seed 42  mode virtual  status failed  exit 99\n")) << out;
  EXPECT_TRUE(Contains(out, "calls: 4 total, 2 passed, 1 failed, 1 dropped\n")) << out;
  EXPECT_TRUE(Contains(out, "task completion: 50.0%\n")) << out;
  // Latencies 100..500 (one turn unanswered): nearest rank p50 is the 3rd, p95 and p99 the 5th.
  EXPECT_TRUE(Contains(out, "turn latency ms: p50 300.0 p95 500.0 p99 500.0 max 500.0  (5 turns)\n"))
      << out;
  // (1 + 2 + 2) errors over 20 reference words; the mean of the per-turn rates would be 22.9%.
  EXPECT_TRUE(Contains(out, "WER: 25.00%  (S 3 D 1 I 1 N 20)\n")) << out;
  EXPECT_TRUE(Contains(out, "barge-in: 2  stop latency ms: p50 150.0 max 250.0\n")) << out;
  EXPECT_TRUE(Contains(out, "failed expectations (seed 42):\n"
                            "  call 3 turn 1 agent_says: expected \"shipped\", heard nothing\n"))
      << out;
  EXPECT_FALSE(Contains(out, "tool_call")) << out;  // passed expectations are not listed
  const std::string last = "replay: callsim run order_status --seed 42\n";
  ASSERT_GE(out.size(), last.size());
  EXPECT_EQ(out.substr(out.size() - last.size()), last) << out;
}

TEST_F(SummaryTest, CountsToolCallsByDecisionWhenThereAreAny) {
  const int64_t run_id = Begin("tools");
  CallRow c;
  c.run_id = run_id;
  c.call_id = 1;
  c.scenario = "tools";
  std::vector<harness::ToolCallRow> tools(4);
  tools[0].decision = "executed";
  tools[1].decision = "blocked";
  tools[2].decision = "blocked";
  tools[3].decision = "declined";
  store_->AddCall(c, {}, {}, {}, tools);
  store_->SetMetric(run_id, "unsafe_tool_executions_count", 0);
  store_->Flush();
  const std::string out = RenderSummary(*store_, run_id);
  EXPECT_TRUE(Contains(out, "tool calls: 4 proposed, 2 blocked, 1 declined, 1 executed; unsafe "
                            "executions 0  (tool_calls table)\n"))
      << out;
}

TEST_F(SummaryTest, PrefersTheRunsLatencyMetrics) {
  const int64_t run_id = MakeRun();
  store_->SetMetric(run_id, "turn_latency_p50_ms", 712);
  store_->SetMetric(run_id, "turn_latency_p95_ms", 1210.44);
  store_->SetMetric(run_id, "turn_latency_p99_ms", 1900);
  store_->SetMetric(run_id, "turn_latency_max_ms", 2100);
  const std::string out = RenderSummary(*store_, run_id);
  EXPECT_TRUE(Contains(out, "turn latency ms: p50 712.0 p95 1210.4 p99 1900.0 max 2100.0  (run metrics)\n"))
      << out;
}

TEST_F(SummaryTest, MarksAnUnfinishedRunAndAnEmptyOne) {
  const int64_t run_id = Begin("order_status");
  const std::string out = RenderSummary(*store_, run_id);
  EXPECT_TRUE(Contains(out, "status running  (not finished")) << out;
  EXPECT_TRUE(Contains(out, "calls: 0 total, 0 passed, 0 failed, 0 dropped\n")) << out;
  EXPECT_TRUE(Contains(out, "task completion: n/a\n")) << out;
  EXPECT_TRUE(Contains(out, "p50 n/a")) << out;
  EXPECT_TRUE(Contains(out, "WER: n/a")) << out;
  EXPECT_TRUE(Contains(out, "barge-in: 0\n")) << out;
  EXPECT_EQ(RenderSummary(*store_, run_id + 7), "no run " + std::to_string(run_id + 7) + " in " +
                                                    dir_ + "/runs.db\n");
}

TEST_F(SummaryTest, ListsOnlyTheFirstFailuresAndSaysThereAreMore) {
  const int64_t run_id = Begin("order_status");
  for (int64_t call = 1; call <= 4; ++call) {
    ExpectationRow missed{.turn_index = 2, .kind = "agent_stops", .passed = false,
                          .detail = "call " + std::to_string(call)};
    AddCall(run_id, call, "failed", false, {}, {missed});
  }
  store_->Flush();
  const std::string out = RenderSummary(*store_, run_id, SummaryOptions{.max_failed_expectations = 3});
  EXPECT_TRUE(Contains(out, "  call 3 turn 2 agent_stops")) << out;
  EXPECT_FALSE(Contains(out, "  call 4 turn 2")) << out;
  EXPECT_TRUE(Contains(out, "  ... more in the expectations table\n")) << out;
}

TEST_F(SummaryTest, ReplayLineCarriesOverridesAndQuotesForTheShell) {
  const int64_t run_id =
      Begin("my scenarios/it's.yaml", R"({"set": ["network.uplink.loss=0.05", "codec=opus"]})");
  const std::string out = RenderSummary(*store_, run_id);
  EXPECT_TRUE(Contains(out, "replay: callsim run 'my scenarios/it'\\''s.yaml' --seed 42 "
                            "--set network.uplink.loss=0.05 --set codec=opus\n"))
      << out;
}

// A shard's replay runs the same slice of the callers.
TEST_F(SummaryTest, ReplayLineOfAShardNamesTheSlice) {
  const int64_t run_id = Begin("order_status.yaml", R"({"shard": "2/4", "set": ["load.callers=10"]})");
  EXPECT_TRUE(Contains(RenderSummary(*store_, run_id),
                       "replay: callsim run order_status.yaml --seed 42 --shard 2/4 "
                       "--set load.callers=10\n"));
}

// Over SIP the protocol (for the agent served in the process) and SRTP are part of what ran.
TEST_F(SummaryTest, ReplayLineOfASipRunNamesTheProtocolAndSrtp) {
  const int64_t self = Begin("barge_in.yaml", R"({"wire": {"protocol": "sip", "self": true,
      "srtp": true, "target": "sip:agent@127.0.0.1:40000"}})");
  EXPECT_TRUE(Contains(RenderSummary(*store_, self),
                       "replay: callsim run barge_in.yaml --seed 42 --target self --protocol sip "
                       "--srtp\n"));
  const int64_t foreign = Begin("barge_in.yaml", R"({"wire": {"protocol": "sip", "self": false,
      "srtp": false, "target": "sip:agent@10.0.0.5:5060"}})");
  EXPECT_TRUE(Contains(RenderSummary(*store_, foreign),
                       "replay: callsim run barge_in.yaml --seed 42 --target sip:agent@10.0.0.5:5060\n"));
}

TEST_F(SummaryTest, ShowsALinePerThresholdBeforeTheReplayLine) {
  const int64_t run_id = MakeRun();
  store_->SetThresholds(
      run_id, {{.metric = "turn_latency", .expression = "p(95)<1200",
                .observed_metric = "turn_latency_p95_ms", .observed = 1143.24, .passed = true},
               {.metric = "wer", .expression = "value<0.08", .observed_metric = "wer",
                .observed = 0.09123, .passed = false},
               {.metric = "dropped_calls", .expression = "count==0",
                .observed_metric = "dropped_calls_count", .observed = 1, .passed = false},
               {.metric = "heard_wer", .expression = "value<0.1", .observed_metric = "heard_wer",
                .observed = std::nan(""), .passed = true}});  // no data passes, as in k6
  const std::string out = RenderSummary(*store_, run_id);
  EXPECT_TRUE(Contains(out, "thresholds: 2 of 4 passed\n"
                            "  \u2713 turn_latency p(95)<1200  observed 1143.2\n"
                            "  \u2717 wer value<0.08  observed 0.09123\n"
                            "  \u2717 dropped_calls count==0  observed 1\n"
                            "  \u2713 heard_wer value<0.1  observed no data\n"
                            "failed expectations"))
      << out;
  EXPECT_FALSE(Contains(RenderSummary(*store_, Begin("other")), "thresholds:"));
}

}  // namespace
}  // namespace callsim::reports
