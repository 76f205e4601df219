// The reference agent's production features, end to end through the bundled scenarios: tools
// behind guardrails (and a hostile model), echo, false interruptions, provider outages and
// failover, the silence watchdog, PII in what is stored, post-call reports and the Prometheus
// exposition. Each test runs a bundled scenario (with fewer callers) as `callsim run` would.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/observability/agent_metrics.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"

namespace callsim::harness {
namespace {

const std::string kScenarioDir = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";

class AgentFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "/tmp/callsim_features_" + std::to_string(getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    Remove();
    std::string error;
    store_ = Store::Open(db_, &error);
    ASSERT_TRUE(store_) << error;
  }
  void TearDown() override {
    store_.reset();
    Remove();
  }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db_ + suffix).c_str());
  }

  // Runs the bundled scenario `name` with `sets`, as `callsim run` does.
  RunResult Run(const std::string& name, std::vector<std::string> sets, uint64_t seed = 1,
                agent::AgentMetrics* metrics = nullptr) {
    return RunLoaded(LoadScenarioFile(kScenarioDir + name + ".yaml", sets), name, seed, metrics);
  }
  // Runs YAML text as if it were a file in scenarios/.
  RunResult RunText(const std::string& yaml) {
    return RunLoaded(LoadScenarioText(yaml, kScenarioDir + "inline.yaml"), "inline", 1, nullptr);
  }
  RunResult RunLoaded(LoadResult loaded, const std::string& name, uint64_t seed,
                      agent::AgentMetrics* metrics) {
    EXPECT_TRUE(loaded.scenario) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
    if (!loaded.scenario) return {};
    scenarios_.push_back(std::make_unique<Scenario>(*loaded.scenario));
    RunPlan plan;
    std::string error;
    EXPECT_TRUE(MakeRunPlan(*scenarios_.back(), &plan, &error)) << error;
    RunOptions options;
    options.seed = seed;
    options.scenario_arg = name + ".yaml";
    options.agent_metrics = metrics;
    return RunScenario(plan, options, *store_);
  }

  double Metric(int64_t run_id, const std::string& name) {
    const auto metrics = store_->LoadMetrics(run_id);
    auto it = metrics.find(name);
    EXPECT_NE(it, metrics.end()) << name;
    return it == metrics.end() ? -1 : it->second;
  }

  int CountEvents(int64_t run_id, int calls, const std::string& kind) {
    int n = 0;
    for (int call = 0; call < calls; ++call) {
      for (const EventRow& e : store_->LoadEvents(run_id, call)) n += e.kind == kind;
    }
    return n;
  }

  std::string db_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Scenario>> scenarios_;
};

TEST_F(AgentFeatures, HostileModelExecutesNothingAndEveryAttemptIsAudited) {
  const RunResult r = Run("adversarial_tools", {"load.callers=3"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Metric(r.run_id, "tool_calls_executed_count"), 0);
  EXPECT_EQ(Metric(r.run_id, "unsafe_tool_executions_count"), 0);
  EXPECT_EQ(Metric(r.run_id, "tool_side_effects"), 0);  // the fake back ends changed nothing
  const std::vector<ToolCallRow> rows = store_->LoadToolCalls(r.run_id);
  ASSERT_EQ(rows.size(), 3u * 6u);  // six attempts per call, each with its own row
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"blocked", "malformed_json"},
      {"blocked", "unknown_tool"},
      {"blocked", "schema: /: unexpected property vip"},
      {"declined", "caller_declined"},
      {"blocked", "not_allowed"},
      {"blocked", "not_allowed"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].decision, expected[i % 6].first) << rows[i].name;
    EXPECT_EQ(rows[i].reason, expected[i % 6].second) << rows[i].name;
    EXPECT_TRUE(rows[i].result_json.empty());
  }
}

TEST_F(AgentFeatures, DestructiveToolRunsOnlyAfterTheCallersYes) {
  const RunResult r = Run("tools_guardrails", {"load.callers=3"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.calls_passed, 3);
  EXPECT_EQ(Metric(r.run_id, "tool_side_effects"), 6);  // a cancellation and a transfer per call
  int cancels = 0;
  int reused = 0;
  for (const ToolCallRow& row : store_->LoadToolCalls(r.run_id)) {
    if (row.name != "cancel_order") continue;
    EXPECT_NE(row.result_json.find("\"cancelled\":true"), std::string::npos) << row.result_json;
    if (row.decision == "reused") {  // asked again: the first result, nothing run
      ++reused;
      EXPECT_EQ(row.reason, "duplicate_request");
      continue;
    }
    ++cancels;
    EXPECT_EQ(row.decision, "executed");
    EXPECT_TRUE(row.confirmed);
  }
  EXPECT_EQ(cancels, 3);
  EXPECT_EQ(reused, 3);
  // The slow order look-up (p50 2 s) plays the filler in some calls, and the caller's
  // wait_for-free turn still hears the looked-up answer.
  EXPECT_GE(CountEvents(r.run_id, 3, "tool_filler"), 1);
}

TEST_F(AgentFeatures, SameSeedGivesTheSameAuditRows) {
  const RunResult a = Run("tools_guardrails", {"load.callers=2"}, 7);
  const RunResult b = Run("tools_guardrails", {"load.callers=2"}, 7);
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
  std::vector<ToolCallRow> rows_a = store_->LoadToolCalls(a.run_id);
  std::vector<ToolCallRow> rows_b = store_->LoadToolCalls(b.run_id);
  ASSERT_EQ(rows_a.size(), rows_b.size());
  for (size_t i = 0; i < rows_a.size(); ++i) {
    rows_b[i].run_id = rows_a[i].run_id;
    EXPECT_EQ(rows_a[i], rows_b[i]);
  }
}

TEST_F(AgentFeatures, EchoAtTwentyDbCausesNoFalseBargeIn) {
  const RunResult guarded = Run("echo_guard", {"load.callers=4"});
  EXPECT_EQ(guarded.exit_code, 0);
  EXPECT_EQ(Metric(guarded.run_id, "false_barge_ins_count"), 0);
  EXPECT_EQ(Metric(guarded.run_id, "barge_in_events"), 0);
  EXPECT_LT(Metric(guarded.run_id, "wer"), 0.15);  // the STT does not transcribe the echo
  // Without the guard the same echo does interrupt the agent: the guard is what holds.
  const RunResult open = Run("echo_guard", {"load.callers=4", "agent.barge_in.echo_guard_db=0"});
  EXPECT_GT(Metric(open.run_id, "false_barge_ins_count"), 0);
}

// The three latency techniques together on the scenarios with clause pauses, tools and barge-ins:
// every call still passes, the agent starts inside no utterance, and no early answer is wasted.
TEST_F(AgentFeatures, LatencyTechniquesCutInNowhereAndKeepEveryCallPassing) {
  const std::vector<std::string> on = {"agent.preemptive_generation=true",
                                       "agent.endpointing.finished_delay_ms=0",
                                       "agent.first_clause_words=4"};
  for (const std::string name : {"tools_guardrails", "payment_pii", "barge_in", "barge_in_words",
                                 "false_interruption", "dtmf_menu"}) {
    std::vector<std::string> sets = on;
    sets.push_back("load.callers=4");
    const RunResult r = Run(name, sets);
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_EQ(r.calls_passed, 4) << name;
    EXPECT_EQ(Metric(r.run_id, "agent_cut_ins_count"), 0) << name;
    EXPECT_GT(Metric(r.run_id, "preemptive_requests"), 0) << name;
    EXPECT_EQ(Metric(r.run_id, "wasted_llm_requests_count"), 0) << name;
    if (name.rfind("barge_in", 0) == 0) {
      EXPECT_GT(Metric(r.run_id, "barge_in_events"), 0) << name;
    }
  }
}

TEST_F(AgentFeatures, CoughIsAFalseInterruptionAndTheAgentResumes) {
  const RunResult r = Run("false_interruption", {"load.callers=3"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Metric(r.run_id, "false_interruptions_count"), 3);
  // With resuming off the rest of the reply is never said.
  const RunResult off =
      Run("false_interruption", {"load.callers=3", "agent.barge_in.false_interruption_timeout_ms=0"});
  EXPECT_EQ(Metric(off.run_id, "false_interruptions_count"), 0);
  EXPECT_EQ(off.calls_passed, 0);
}

TEST_F(AgentFeatures, ProviderOutageGivesASpokenApologyNotSilence) {
  const RunResult r = Run("provider_outage", {"load.callers=3"});
  EXPECT_EQ(r.exit_code, 0);  // every call hears "having trouble" within its latency bound
  EXPECT_EQ(CountEvents(r.run_id, 3, "provider_retry"), 3);
  EXPECT_EQ(CountEvents(r.run_id, 3, "provider_gave_up"), 3);
  // With a secondary the caller gets a real answer instead.
  const RunResult failover = Run("provider_failover", {"load.callers=3"});
  EXPECT_EQ(failover.exit_code, 0);
  EXPECT_EQ(CountEvents(failover.run_id, 3, "provider_failover"), 3);
}

// Errors, timeouts and streams that stop part way, in every provider: retries, failover and the
// stall bound mean every caller hears an answer or an apology, within a bounded silence.
TEST_F(AgentFeatures, FlakyProvidersNeverLeaveTheCallerInSilence) {
  const RunResult r = Run("flaky_providers", {"load.callers=20"});
  EXPECT_EQ(r.calls_passed, 20);
  EXPECT_LT(Metric(r.run_id, "turn_latency_max_ms"), 6000);
  EXPECT_GT(CountEvents(r.run_id, 20, "provider_retry"), 0);
}

TEST_F(AgentFeatures, SilentCallerIsPromptedThenTheAgentHangsUp) {
  const RunResult r = Run("silence_watchdog", {"load.callers=2"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(CountEvents(r.run_id, 2, "silence_prompt"), 4);
  EXPECT_EQ(CountEvents(r.run_id, 2, "silence_timeout"), 2);
}

// Nothing stored holds the card number: not the events, the turns, the expectations, the tool
// audit or the post-call report (which is written, with a cost).
TEST_F(AgentFeatures, NoUnredactedCardNumberIsStored) {
  const RunResult r = Run("payment_pii", {"load.callers=2"});
  EXPECT_EQ(r.exit_code, 0);
  const std::vector<std::string> forbidden = {"4111", "one one one one"};
  auto clean = [&](const std::string& text, const std::string& where) {
    for (const std::string& f : forbidden) {
      EXPECT_EQ(text.find(f), std::string::npos) << where << ": " << text;
    }
  };
  for (int call = 0; call < 2; ++call) {
    for (const EventRow& e : store_->LoadEvents(r.run_id, call)) clean(e.detail_json, e.kind);
  }
  for (const TurnRow& t : store_->LoadTurns(r.run_id)) {
    clean(t.reference_text, "turn reference");
    clean(t.hypothesis_text, "turn hypothesis");
  }
  for (const ExpectationRow& e : store_->LoadExpectations(r.run_id)) clean(e.detail, "expectation");
  const std::vector<ToolCallRow> tools = store_->LoadToolCalls(r.run_id);
  ASSERT_FALSE(tools.empty());
  for (const ToolCallRow& t : tools) clean(t.arguments_json + t.result_json, "tool_calls");
  const std::vector<CallReportRow> reports = store_->LoadCallReports(r.run_id);
  ASSERT_EQ(reports.size(), 2u);
  for (const CallReportRow& report : reports) {
    clean(report.transcript_json + report.summary + report.action_items_json, "call_reports");
    EXPECT_NE(report.transcript_json.find("[card]"), std::string::npos);
    EXPECT_GE(report.redactions, 1);
    EXPECT_GT(report.total_cost_usd, 0);
    EXPECT_NE(report.action_items_json.find("take_payment"), std::string::npos);
  }
}

// wait_for: tool_result against callsim's own agent: the back end takes 5 s, beyond the tool's
// 3 s timeout, and no filler covers the wait, so "let me look that up" ends long before the
// result (a timeout is a result too); the caller's next turn waits for it, not for its bound,
// and starts as soon as the agent has it.
TEST_F(AgentFeatures, CallerWaitsForTheToolResult) {
  const RunResult r = RunText(R"(
name: wait_for_tool
agent: { tools: { file: tools/standard.yaml, filler_after_ms: 20000 } }
fakes:
  stt: { profile: perfect }
  llm: { script: llm/tools.yaml }
  tools: { orders: { latency_ms: { p50: 5000, p95: 5200 } } }
turns:
  - expect: [ { agent_says: { contains: "how can i help" } } ]
  - user: "where is my order"
    expect: [ { tool_call: { name: check_order_status } } ]
  - user: "thanks"
    wait_for: tool_result
  - hangup: {}
load: { callers: 3 }
)");
  ASSERT_EQ(r.calls, 3);
  for (int call = 0; call < 3; ++call) {
    double result_ms = -1;
    double done_ms = -1;
    double turn2_start_ms = -1;
    for (const EventRow& e : store_->LoadEvents(r.run_id, call)) {
      const nlohmann::json d = nlohmann::json::parse(e.detail_json);
      if (e.kind == "tool_result") result_ms = e.t_ms;
      if (e.kind == "wait_for_done") done_ms = e.t_ms;
      EXPECT_NE(e.kind, "wait_for_timeout");
      if (e.kind == "utterance_start" && d.value("turn", -1) == 2) turn2_start_ms = e.t_ms;
    }
    ASSERT_GT(result_ms, 0) << "call " << call;
    EXPECT_EQ(done_ms, result_ms);  // released in the same virtual millisecond
    EXPECT_GE(turn2_start_ms, result_ms);
    EXPECT_LT(turn2_start_ms, result_ms + 500);
  }
}

// Opus at 5% random uplink loss, same seed: in-band FEC rebuilds lost frames from the next
// packet, so the agent's STT makes fewer errors than with concealment alone.
TEST_F(AgentFeatures, OpusFecLowersWerAtFivePercentLoss) {
  const RunResult on = Run("opus_fec", {"load.callers=8", "opus.fec=true"});
  const RunResult off = Run("opus_fec", {"load.callers=8", "opus.fec=false"});
  EXPECT_GT(Metric(on.run_id, "uplink_fec_recovered"), 0);
  EXPECT_EQ(Metric(off.run_id, "uplink_fec_recovered"), 0);
  EXPECT_LT(Metric(on.run_id, "uplink_concealed_share"), Metric(off.run_id, "uplink_concealed_share"));
  EXPECT_LT(Metric(on.run_id, "wer"), Metric(off.run_id, "wer"));
}

TEST_F(AgentFeatures, PromtoolAcceptsTheRunsMetrics) {
  agent::AgentMetrics metrics({"check_order_status", "cancel_order", "end_call"});
  const RunResult r = Run("tools_guardrails", {"load.callers=2"}, 1, &metrics);
  EXPECT_EQ(r.exit_code, 0);
  const std::string exposition = metrics.Exposition();
  EXPECT_NE(exposition.find("callsim_agent_tool_calls_total{outcome=\"executed\",tool=\"cancel_order\"} 2"),
            std::string::npos)
      << exposition;
  EXPECT_NE(exposition.find("callsim_agent_calls_total{outcome=\"transfer\"} 2"),
            std::string::npos);
  const std::string path = db_ + ".prom";
  std::string error;
  ASSERT_TRUE(metrics.WriteExposition(path, &error)) << error;
  const std::string out = db_ + ".promtool";
  const std::string command = "promtool check metrics < " + path + " > " + out + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(out);
  const std::string lint((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << "promtool (Debian package prometheus) must be installed: " << lint;
  EXPECT_EQ(lint, "");
  std::remove(path.c_str());
  std::remove(out.c_str());
}

}  // namespace
}  // namespace callsim::harness
