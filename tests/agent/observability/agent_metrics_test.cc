#include "agent/observability/agent_metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/agent/observability/metrics_scrape.h"

namespace callsim::agent {
namespace {

using testing::BucketCount;
using testing::Scrape;

constexpr char kTurn[] = "callsim_agent_turn_latency_seconds";
constexpr char kStage[] = "callsim_agent_stage_latency_seconds";
constexpr char kCalls[] = "callsim_agent_calls_total";
constexpr char kTools[] = "callsim_agent_tool_calls_total";
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

TEST(CallOutcomeTest, EndReasonsMapToAFixedSet) {
  EXPECT_EQ(CallOutcomeForEndReason("hangup"), CallOutcome::kCallerHangup);
  EXPECT_EQ(CallOutcomeForEndReason("agent_hangup"), CallOutcome::kAgentHangup);
  EXPECT_EQ(CallOutcomeForEndReason("transfer"), CallOutcome::kTransfer);
  EXPECT_EQ(CallOutcomeForEndReason("max_call"), CallOutcome::kMaxCall);
  EXPECT_EQ(CallOutcomeForEndReason("silence_timeout"), CallOutcome::kSilenceTimeout);
  EXPECT_EQ(CallOutcomeForEndReason("stt_failed"), CallOutcome::kError);
  EXPECT_EQ(CallOutcomeForEndReason("llm_error"), CallOutcome::kError);
  EXPECT_EQ(CallOutcomeForEndReason("provider_error"), CallOutcome::kError);
  EXPECT_EQ(CallOutcomeForEndReason("failed"), CallOutcome::kOther);  // no "_failed" suffix
  EXPECT_EQ(CallOutcomeForEndReason("reply_done"), CallOutcome::kOther);
  EXPECT_EQ(CallOutcomeForEndReason(""), CallOutcome::kOther);
  EXPECT_STREQ(CallOutcomeName(CallOutcome::kCallerHangup), "caller_hangup");
  EXPECT_STREQ(CallOutcomeName(CallOutcome::kOther), "other");
}

TEST(ToolAuditDecisionTest, ParsesTheSixDecisionsOnly) {
  ToolAuditDecision decision = ToolAuditDecision::kExecuted;
  ASSERT_TRUE(ParseToolAuditDecision("reused", &decision));
  EXPECT_EQ(decision, ToolAuditDecision::kReused);
  ASSERT_TRUE(ParseToolAuditDecision("cancelled", &decision));
  EXPECT_EQ(decision, ToolAuditDecision::kCancelled);
  ASSERT_TRUE(ParseToolAuditDecision("declined", &decision));
  EXPECT_EQ(decision, ToolAuditDecision::kDeclined);
  EXPECT_FALSE(ParseToolAuditDecision("Executed", &decision));
  EXPECT_FALSE(ParseToolAuditDecision("run", &decision));
  EXPECT_EQ(decision, ToolAuditDecision::kDeclined);  // untouched on failure
}

TEST(AgentMetricsTest, EverySeriesExistsAtZeroFromTheStart) {
  AgentMetrics metrics({"check_order_status", "cancel_order"});
  Scrape scrape(metrics);
  EXPECT_EQ(scrape.Gauge("callsim_agent_active_calls"), 0);
  EXPECT_EQ(scrape.SeriesCount(kCalls), kCallOutcomeCount);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "max_call"}}), 0);
  EXPECT_EQ(scrape.SeriesCount(kStage), kLatencyStageCount);
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "tts_ttfb"}}).sample_count, 0u);
  // (2 declared + undeclared) x 6 decisions.
  EXPECT_EQ(scrape.SeriesCount(kTools), 18u);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "cancel_order"}, {"outcome", "reused"}}), 0);
  EXPECT_EQ(scrape.SeriesCount("callsim_agent_errors_total"), kErrorStageCount);
  EXPECT_EQ(scrape.SeriesCount("callsim_agent_post_call_reports_total"), 2u);
}

TEST(AgentMetricsTest, GaugeGoesUpAndDownAndOutcomesCount) {
  AgentMetrics metrics;
  metrics.CallStarted();
  metrics.CallStarted();
  metrics.CallStarted();
  EXPECT_EQ(Scrape(metrics).Gauge("callsim_agent_active_calls"), 3);
  metrics.CallEnded(CallOutcome::kCallerHangup);
  metrics.CallEnded(CallOutcome::kCallerHangup);
  EXPECT_EQ(Scrape(metrics).Gauge("callsim_agent_active_calls"), 1);
  metrics.CallEnded(CallOutcome::kTransfer);
  Scrape scrape(metrics);
  EXPECT_EQ(scrape.Gauge("callsim_agent_active_calls"), 0);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "caller_hangup"}}), 2);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "transfer"}}), 1);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "agent_hangup"}}), 0);
}

TEST(AgentMetricsTest, TurnLatencyLandsInTheRightBuckets) {
  AgentMetrics metrics;
  metrics.ObserveTurnLatency(0.15);  // below the first bound
  metrics.ObserveTurnLatency(0.25);
  metrics.ObserveTurnLatency(1.0);   // exactly on a bound: le is inclusive
  metrics.ObserveTurnLatency(1.05);
  metrics.ObserveTurnLatency(12.0);  // above the last bound: only +Inf
  const auto h = Scrape(metrics).Histogram(kTurn);
  EXPECT_EQ(h.sample_count, 5u);
  EXPECT_NEAR(h.sample_sum, 14.45, 1e-9);
  ASSERT_EQ(h.bucket.size(), AgentMetrics::TurnLatencyBucketsSeconds().size() + 1);
  EXPECT_EQ(BucketCount(h, 0.2), 1u);
  EXPECT_EQ(BucketCount(h, 0.3), 2u);
  EXPECT_EQ(BucketCount(h, 0.9), 2u);
  EXPECT_EQ(BucketCount(h, 1.0), 3u);
  EXPECT_EQ(BucketCount(h, 1.2), 4u);
  EXPECT_EQ(BucketCount(h, 10.0), 4u);
  EXPECT_EQ(BucketCount(h, kInf), 5u);
}

TEST(AgentMetricsTest, BucketsCoverTheStatedRanges) {
  const auto& turn = AgentMetrics::TurnLatencyBucketsSeconds();
  EXPECT_EQ(turn.front(), 0.2);
  EXPECT_EQ(turn.back(), 10.0);
  const auto& stage = AgentMetrics::StageLatencyBucketsSeconds();
  EXPECT_EQ(stage.front(), 0.005);
  EXPECT_EQ(stage.back(), 10.0);
  for (const auto* buckets : {&turn, &stage}) {
    for (size_t i = 1; i < buckets->size(); ++i) EXPECT_LT((*buckets)[i - 1], (*buckets)[i]);
  }
}

TEST(AgentMetricsTest, StageLatencyIsPerStageAndImpossibleValuesAreIgnored) {
  AgentMetrics metrics;
  metrics.ObserveStageLatency(LatencyStage::kLlmTtft, 0.32);
  metrics.ObserveStageLatency(LatencyStage::kLlmTtft, 0.48);
  metrics.ObserveStageLatency(LatencyStage::kTtsTtfb, 0.04);
  metrics.ObserveStageLatency(LatencyStage::kTtsTtfb, -0.01);
  metrics.ObserveStageLatency(LatencyStage::kTtsTtfb, std::nan(""));
  metrics.ObserveTurnLatency(kInf);
  Scrape scrape(metrics);
  const auto llm = scrape.Histogram(kStage, {{"stage", "llm_ttft"}});
  EXPECT_EQ(llm.sample_count, 2u);
  EXPECT_NEAR(llm.sample_sum, 0.80, 1e-12);
  EXPECT_EQ(BucketCount(llm, 0.3), 0u);
  EXPECT_EQ(BucketCount(llm, 0.5), 2u);
  const auto tts = scrape.Histogram(kStage, {{"stage", "tts_ttfb"}});
  EXPECT_EQ(tts.sample_count, 1u);
  EXPECT_EQ(BucketCount(tts, 0.025), 0u);
  EXPECT_EQ(BucketCount(tts, 0.05), 1u);
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "endpointing"}}).sample_count, 0u);
  EXPECT_EQ(scrape.Histogram(kTurn).sample_count, 0u);
}

TEST(AgentMetricsTest, UndeclaredToolNamesCollapseIntoOneLabel) {
  AgentMetrics metrics({"check_order_status", "cancel_order"});
  metrics.CountToolCall("check_order_status", ToolAuditDecision::kExecuted);
  metrics.CountToolCall("check_order_status", ToolAuditDecision::kExecuted);
  metrics.CountToolCall("cancel_order", ToolAuditDecision::kDeclined);
  // A hostile model invents names; none of them may become a series.
  for (int i = 0; i < 200; ++i) {
    metrics.CountToolCall("exfiltrate_" + std::to_string(i), ToolAuditDecision::kBlocked);
  }
  metrics.CountToolCall(std::string(10000, 'x'), ToolAuditDecision::kBlocked);
  metrics.CountToolCall("", ToolAuditDecision::kBlocked);
  metrics.CountToolCall("Check_Order_Status", ToolAuditDecision::kFailed);  // names are exact
  Scrape scrape(metrics);
  EXPECT_EQ(scrape.SeriesCount(kTools), 18u);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "executed"}}), 2);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "cancel_order"}, {"outcome", "declined"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "blocked"}}), 202);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "failed"}}), 0);
}

// Adding one registry into another gives what recording both into one would: every histogram
// bucket and sum, the gauge, counters, tools by name (a tool the other registry declared and this
// one did not counts as undeclared).
TEST(AgentMetricsTest, AddingARegistryCountsWhatItRecorded) {
  auto record = [](AgentMetrics& m, int scale, const std::string& tool) {
    for (int i = 0; i < scale; ++i) {
      m.CallStarted();
      m.ObserveTurnLatency(0.25 * (i + 1));  // sums exact in binary: any order gives them
      m.ObserveStageLatency(LatencyStage::kLlmTtft, 0.0078125 * (i + 1));
      m.CountBargeIn();
      m.CountWastedLlmRequest(7);
      m.CountToolCall(tool, ToolAuditDecision::kExecuted);
      m.CountError(ErrorStage::kTts);
      m.CountPostCallReport(i % 2 == 0);
    }
    m.CallEnded(CallOutcome::kCallerHangup);
  };
  AgentMetrics both({"check_order_status"});
  record(both, 3, "check_order_status");
  record(both, 5, "check_order_status");
  record(both, 2, "undeclared");

  AgentMetrics run({"check_order_status"});
  record(run, 3, "check_order_status");
  AgentMetrics attempt({"check_order_status"});
  record(attempt, 5, "check_order_status");
  AgentMetrics other_tools({"cancel_order"});
  record(other_tools, 2, "cancel_order");  // declared there, not in `run`
  run.Add(attempt);
  run.Add(other_tools);
  EXPECT_EQ(run.Exposition(), both.Exposition());
  Scrape scrape(run);
  EXPECT_EQ(BucketCount(scrape.Histogram(kTurn, {}), kInf), 10u);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "executed"}}), 2);
}

TEST(AgentMetricsTest, DeclaredToolListIsBoundedAndDeduplicated) {
  std::vector<std::string> names = {"b_tool", "", "a_tool", "b_tool", "undeclared"};
  for (int i = 0; i < 100; ++i) names.push_back("tool_" + std::to_string(i));
  AgentMetrics metrics(names);
  const std::vector<std::string> kept = metrics.declared_tools();
  ASSERT_EQ(kept.size(), AgentMetrics::kMaxDeclaredTools);
  EXPECT_EQ(kept[0], "a_tool");
  EXPECT_EQ(kept[1], "b_tool");
  EXPECT_EQ(Scrape(metrics).SeriesCount(kTools),
            (AgentMetrics::kMaxDeclaredTools + 1) * kToolAuditDecisionCount);
  // The first 62 numbered tools fit beside a_tool and b_tool; tool_62 does not.
  metrics.CountToolCall("tool_61", ToolAuditDecision::kExecuted);
  metrics.CountToolCall("tool_62", ToolAuditDecision::kExecuted);
  Scrape scrape(metrics);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "tool_61"}, {"outcome", "executed"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "executed"}}), 1);
}

TEST(AgentMetricsTest, ErrorsBargeInsAndReportsCount) {
  AgentMetrics metrics;
  metrics.CountError(ErrorStage::kLlm);
  metrics.CountError(ErrorStage::kLlm);
  metrics.CountError(ErrorStage::kTool);
  metrics.CountBargeIn();
  metrics.CountFalseInterruption();
  metrics.CountBargeIn();
  metrics.CountPostCallReport(true);
  metrics.CountPostCallReport(false);
  metrics.CountPostCallReport(true);
  Scrape scrape(metrics);
  EXPECT_EQ(scrape.Counter("callsim_agent_errors_total", {{"stage", "llm"}}), 2);
  EXPECT_EQ(scrape.Counter("callsim_agent_errors_total", {{"stage", "tool"}}), 1);
  EXPECT_EQ(scrape.Counter("callsim_agent_errors_total", {{"stage", "stt"}}), 0);
  EXPECT_EQ(scrape.Counter("callsim_agent_barge_ins_total"), 2);
  EXPECT_EQ(scrape.Counter("callsim_agent_false_interruptions_total"), 1);
  EXPECT_EQ(scrape.Counter("callsim_agent_post_call_reports_total", {{"result", "written"}}), 2);
  EXPECT_EQ(scrape.Counter("callsim_agent_post_call_reports_total", {{"result", "dropped"}}), 1);
}

TEST(AgentMetricsTest, ExpositionIsSortedAndIndependentOfDeclarationOrder) {
  AgentMetrics a({"zeta", "alpha", "mid"});
  AgentMetrics b({"mid", "zeta", "alpha"});
  for (AgentMetrics* m : {&a, &b}) {
    m->CallStarted();
    m->ObserveTurnLatency(0.7);
    m->CountToolCall("zeta", ToolAuditDecision::kExecuted);
  }
  const std::string text = a.Exposition();
  EXPECT_EQ(text, b.Exposition());
  EXPECT_NE(text.find("# HELP callsim_agent_turn_latency_seconds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE callsim_agent_calls_total counter"), std::string::npos);
  EXPECT_NE(text.find("callsim_agent_active_calls 1"), std::string::npos);
  EXPECT_NE(text.find("callsim_agent_tool_calls_total{outcome=\"executed\",tool=\"zeta\"} 1"),
            std::string::npos);
  const size_t agent = text.find("callsim_agent_calls_total{outcome=\"agent_hangup\"}");
  const size_t caller = text.find("callsim_agent_calls_total{outcome=\"caller_hangup\"}");
  const size_t transfer = text.find("callsim_agent_calls_total{outcome=\"transfer\"}");
  ASSERT_NE(agent, std::string::npos);
  EXPECT_LT(agent, caller);
  EXPECT_LT(caller, transfer);
}

TEST(AgentMetricsTest, WriteExpositionReplacesTheFileWhole) {
  const std::string path =
      ::testing::TempDir() + "agent_metrics_" + std::to_string(getpid()) + ".prom";
  AgentMetrics metrics;
  metrics.CountBargeIn();
  std::string error;
  ASSERT_TRUE(metrics.WriteExposition(path, &error)) << error;
  metrics.CountBargeIn();
  ASSERT_TRUE(metrics.WriteExposition(path, &error)) << error;  // over an existing file
  EXPECT_EQ(ReadFile(path), metrics.Exposition());
  EXPECT_NE(ReadFile(path).find("callsim_agent_barge_ins_total 2"), std::string::npos);
  EXPECT_FALSE(FileExists(path + ".tmp"));
  std::remove(path.c_str());
}

TEST(AgentMetricsTest, WriteExpositionReportsAFailure) {
  AgentMetrics metrics;
  const std::string path = "/nonexistent-dir-for-callsim/metrics.prom";
  std::string error;
  EXPECT_FALSE(metrics.WriteExposition(path, &error));
  EXPECT_NE(error.find("/nonexistent-dir-for-callsim/metrics.prom.tmp"), std::string::npos)
      << error;
  EXPECT_FALSE(FileExists(path));
}

}  // namespace
}  // namespace callsim::agent
