#include "agent/observability/metrics_event_sink.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/agent/observability/metrics_scrape.h"

namespace callsim::agent {
namespace {

using nlohmann::json;
using testing::BucketCount;
using testing::Scrape;

constexpr char kActive[] = "callsim_agent_active_calls";
constexpr char kCalls[] = "callsim_agent_calls_total";
constexpr char kErrors[] = "callsim_agent_errors_total";
constexpr char kStage[] = "callsim_agent_stage_latency_seconds";
constexpr char kTools[] = "callsim_agent_tool_calls_total";
constexpr char kTurn[] = "callsim_agent_turn_latency_seconds";

struct Logged {
  int64_t t_us;
  std::string source;
  std::string kind;
  json detail;
};

class RecordingSink final : public EventSink {
 public:
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const json& detail) override {
    events.push_back({t_us, std::string(source), std::string(kind), detail});
  }
  std::vector<Logged> events;
};

json Ended(const char* reason) {
  return {{"from", "speaking"}, {"to", "ended"}, {"reason", reason}};
}

json Spans(json endpointing, json stt, json llm, json tts, json response) {
  return {{"endpointing_ms", endpointing}, {"stt_final_ms", stt},    {"llm_ttft_ms", llm},
          {"first_sentence_ms", 400},      {"tts_ttfb_ms", tts},     {"response_ms", response}};
}

json Audit(const char* name, const char* decision) {
  return {{"tool_call_id", "call_1"}, {"name", name},     {"arguments", "{}"},
          {"decision", decision},     {"reason", ""},     {"result", json::object()},
          {"duration_ms", 120}};
}

class MetricsEventSinkTest : public ::testing::Test {
 protected:
  RecordingSink inner_;
  AgentMetrics metrics_{{"check_order_status", "end_call"}};
};

TEST_F(MetricsEventSinkTest, ForwardsEveryEventUnchangedAndInOrder) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(10, "agent", "call_start", json::object());
  sink.Emit(20, "caller", "utterance", {{"text", "hello"}});
  sink.Emit(30, "agent", "stt_final", {{"text", "hello"}});
  ASSERT_EQ(inner_.events.size(), 3u);
  EXPECT_EQ(inner_.events[1].t_us, 20);
  EXPECT_EQ(inner_.events[1].source, "caller");
  EXPECT_EQ(inner_.events[1].kind, "utterance");
  EXPECT_EQ(inner_.events[1].detail, json({{"text", "hello"}}));
  EXPECT_EQ(inner_.events[2].kind, "stt_final");
}

TEST_F(MetricsEventSinkTest, PreemptiveRequestsAndTheirWasteAreCounted) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(0, "agent", "call_start", json::object());
  sink.Emit(100, "agent", "preemptive_start", {{"words", 4}});
  sink.Emit(200, "agent", "preemptive_wasted",
            {{"reason", "caller_resumed"}, {"tokens", 17}, {"tts_chars", 40}});
  sink.Emit(300, "agent", "preemptive_start", {{"words", 6}});
  sink.Emit(400, "agent", "preemptive_used", {{"lead_ms", 230}});
  sink.Emit(500, "agent", "preemptive_start", {{"words", 7}});
  sink.Emit(600, "agent", "preemptive_wasted", {{"reason", "dtmf"}, {"tokens", "many"}});
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Counter("callsim_agent_preemptive_requests_total"), 3);
  EXPECT_EQ(scrape.Counter("callsim_agent_wasted_llm_requests_total"), 2);
  EXPECT_EQ(scrape.Counter("callsim_agent_wasted_llm_tokens_total"), 17);  // "many" is no count
}

TEST_F(MetricsEventSinkTest, AKnownCallIsCountedExactly) {
  {
    MetricsEventSink sink(inner_, metrics_);
    sink.Emit(0, "agent", "call_start", json::object());
    EXPECT_EQ(Scrape(metrics_).Gauge(kActive), 1);
    sink.Emit(1000, "agent", "turn_spans", Spans(300, 120, 350, 60, 850));
    sink.Emit(2000, "agent", "barge_in", {{"played_ms", 800}});
    sink.Emit(2500, "agent", "false_interruption", json::object());
    sink.Emit(3000, "agent", "turn_spans", Spans(300, 80, 1450, 90, 1950));
    sink.Emit(3500, "agent", "provider_error", {{"stage", "llm"}, {"error", "timeout"}});
    sink.Emit(4000, "agent", "tool_audit", Audit("check_order_status", "executed"));
    sink.Emit(4500, "agent", "tool_audit", Audit("delete_all_orders", "blocked"));
    sink.Emit(5000, "agent", "tool_audit", Audit("check_order_status", "failed"));
    sink.Emit(5500, "agent", "tool_audit", Audit("check_order_status", "cancelled"));
    sink.Emit(6000, "agent", "state", Ended("hangup"));
    EXPECT_FALSE(sink.call_active());
  }
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Gauge(kActive), 0);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "caller_hangup"}}), 1);
  const auto turn = scrape.Histogram(kTurn);
  EXPECT_EQ(turn.sample_count, 2u);
  EXPECT_NEAR(turn.sample_sum, 2.8, 1e-9);
  EXPECT_EQ(BucketCount(turn, 0.8), 0u);
  EXPECT_EQ(BucketCount(turn, 0.9), 1u);  // 0.85 s
  EXPECT_EQ(BucketCount(turn, 1.5), 1u);
  EXPECT_EQ(BucketCount(turn, 2.0), 2u);  // 1.95 s
  const auto llm = scrape.Histogram(kStage, {{"stage", "llm_ttft"}});
  EXPECT_EQ(llm.sample_count, 2u);
  EXPECT_NEAR(llm.sample_sum, 1.8, 1e-9);
  EXPECT_EQ(BucketCount(llm, 0.5), 1u);
  EXPECT_EQ(BucketCount(llm, 1.5), 2u);
  const auto stt = scrape.Histogram(kStage, {{"stage", "stt_final"}});
  EXPECT_EQ(stt.sample_count, 2u);
  EXPECT_NEAR(stt.sample_sum, 0.2, 1e-9);
  EXPECT_EQ(BucketCount(stt, 0.1), 1u);  // 80 ms
  EXPECT_EQ(BucketCount(stt, 0.2), 2u);  // 120 ms
  EXPECT_NEAR(scrape.Histogram(kStage, {{"stage", "endpointing"}}).sample_sum, 0.6, 1e-9);
  EXPECT_NEAR(scrape.Histogram(kStage, {{"stage", "tts_ttfb"}}).sample_sum, 0.15, 1e-9);
  EXPECT_EQ(scrape.Counter("callsim_agent_barge_ins_total"), 1);
  EXPECT_EQ(scrape.Counter("callsim_agent_false_interruptions_total"), 1);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "llm"}}), 1);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "tool"}}), 1);  // the failed tool call
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "executed"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "cancelled"}}),
            1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "blocked"}}), 1);
}

TEST_F(MetricsEventSinkTest, OverlappingCallsMoveTheGaugeUpAndDown) {
  auto gauge = [&] { return Scrape(metrics_).Gauge(kActive); };
  auto a = std::make_unique<MetricsEventSink>(inner_, metrics_);
  auto b = std::make_unique<MetricsEventSink>(inner_, metrics_);
  MetricsEventSink c(inner_, metrics_);
  a->Emit(0, "agent", "call_start", json::object());
  b->Emit(0, "agent", "call_start", json::object());
  EXPECT_EQ(gauge(), 2);
  a->Emit(5, "agent", "state", Ended("transfer"));
  c.Emit(6, "agent", "call_start", json::object());
  EXPECT_EQ(gauge(), 2);
  c.Emit(7, "agent", "state", Ended("stt_failed"));
  EXPECT_EQ(gauge(), 1);
  b.reset();  // dropped by the harness before it ended
  EXPECT_EQ(gauge(), 0);
  a.reset();  // already ended: nothing more
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Gauge(kActive), 0);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "transfer"}}), 1);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "error"}}), 1);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "other"}}), 1);
}

TEST_F(MetricsEventSinkTest, OnlyTheAgentsEventsCount) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(0, "caller", "call_start", json::object());
  sink.Emit(0, "call", "start", json::object());
  sink.Emit(1, "caller", "barge_in", json::object());
  sink.Emit(2, "stt", "provider_error", {{"stage", "stt"}});
  sink.Emit(3, "harness", "turn_spans", Spans(1, 1, 1, 1, 1));
  sink.Emit(4, "agents", "barge_in", json::object());
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Gauge(kActive), 0);
  EXPECT_EQ(scrape.Counter("callsim_agent_barge_ins_total"), 0);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "stt"}}), 0);
  EXPECT_EQ(scrape.Histogram(kTurn).sample_count, 0u);
  EXPECT_EQ(inner_.events.size(), 6u);
}

TEST_F(MetricsEventSinkTest, NullSpansAreSkipped) {
  MetricsEventSink sink(inner_, metrics_);
  // A DTMF turn has no endpointing; a fixed-text repeat no LLM.
  sink.Emit(0, "agent", "turn_spans", Spans(nullptr, 0, nullptr, 40, 200));
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "endpointing"}}).sample_count, 0u);
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "llm_ttft"}}).sample_count, 0u);
  const auto stt = scrape.Histogram(kStage, {{"stage", "stt_final"}});
  EXPECT_EQ(stt.sample_count, 1u);
  EXPECT_EQ(BucketCount(stt, 0.005), 1u);  // 0 ms is a real value
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "tts_ttfb"}}).sample_count, 1u);
  EXPECT_EQ(scrape.Histogram(kTurn).sample_count, 1u);
  EXPECT_NEAR(scrape.Histogram(kTurn).sample_sum, 0.2, 1e-12);
}

TEST_F(MetricsEventSinkTest, MillisecondsOnABucketBoundaryLandInThatBucket) {
  MetricsEventSink sink(inner_, metrics_);
  // 700 * 1e-3 is 0.7000000000000001, which would fall in le="0.8"; 700 / 1000 is 0.7.
  sink.Emit(0, "agent", "turn_spans", Spans(300, 100, 750, 50, 700));
  Scrape scrape(metrics_);
  const auto turn = scrape.Histogram(kTurn);
  EXPECT_EQ(BucketCount(turn, 0.6), 0u);
  EXPECT_EQ(BucketCount(turn, 0.7), 1u);
  EXPECT_EQ(turn.sample_sum, 0.7);
  EXPECT_EQ(BucketCount(scrape.Histogram(kStage, {{"stage", "endpointing"}}), 0.3), 1u);
  EXPECT_EQ(BucketCount(scrape.Histogram(kStage, {{"stage", "stt_final"}}), 0.1), 1u);
  EXPECT_EQ(BucketCount(scrape.Histogram(kStage, {{"stage", "llm_ttft"}}), 0.75), 1u);
  EXPECT_EQ(BucketCount(scrape.Histogram(kStage, {{"stage", "tts_ttfb"}}), 0.05), 1u);
}

TEST_F(MetricsEventSinkTest, MalformedDetailsAreNotRecorded) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(0, "agent", "call_start", json::object());
  sink.Emit(1, "agent", "state", json::array({"ended"}));
  sink.Emit(2, "agent", "state", {{"to", 7}, {"reason", "hangup"}});
  sink.Emit(3, "agent", "state", {{"to", "listening"}, {"reason", "hangup"}});
  EXPECT_TRUE(sink.call_active());
  sink.Emit(4, "agent", "turn_spans", "not an object");
  sink.Emit(5, "agent", "turn_spans", {{"response_ms", "850"}, {"llm_ttft_ms", true}});
  sink.Emit(6, "agent", "provider_error", {{"stage", "database"}});
  sink.Emit(7, "agent", "provider_error", {{"stage", 3}});
  sink.Emit(8, "agent", "provider_error", nullptr);
  sink.Emit(9, "agent", "tool_audit", Audit("check_order_status", "approved"));
  sink.Emit(10, "agent", "tool_audit", {{"name", "check_order_status"}});
  sink.Emit(11, "agent", "tool_audit", {{"name", json::array()}, {"decision", "blocked"}});
  sink.Emit(12, "agent", "post_call_report", {{"result", "lost"}});
  sink.Emit(13, "agent", "state", {{"to", "ended"}});  // no reason: still ends the call
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Gauge(kActive), 0);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "other"}}), 1);
  EXPECT_EQ(scrape.Histogram(kTurn).sample_count, 0u);
  EXPECT_EQ(scrape.Histogram(kStage, {{"stage", "llm_ttft"}}).sample_count, 0u);
  for (const char* stage : {"stt", "llm", "tts", "tool"}) {
    EXPECT_EQ(scrape.Counter(kErrors, {{"stage", stage}}), 0) << stage;
  }
  // The one with a decision but a nameless tool counts, as undeclared.
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "undeclared"}, {"outcome", "blocked"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "check_order_status"}, {"outcome", "executed"}}), 0);
  EXPECT_EQ(scrape.Counter("callsim_agent_post_call_reports_total", {{"result", "dropped"}}), 0);
}

TEST_F(MetricsEventSinkTest, StartAndEndCountOncePerCall) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(0, "agent", "state", Ended("hangup"));  // ended before it started: not a call
  sink.Emit(1, "agent", "call_start", json::object());
  sink.Emit(2, "agent", "call_start", json::object());
  EXPECT_EQ(Scrape(metrics_).Gauge(kActive), 1);
  sink.Emit(3, "agent", "state", Ended("max_call"));
  sink.Emit(4, "agent", "state", Ended("max_call"));
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Gauge(kActive), 0);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "max_call"}}), 1);
  EXPECT_EQ(scrape.Counter(kCalls, {{"outcome", "caller_hangup"}}), 0);
}

TEST_F(MetricsEventSinkTest, ToolErrorsComeFromTheAuditOnly) {
  MetricsEventSink sink(inner_, metrics_);
  sink.Emit(0, "agent", "provider_error", {{"stage", "tool"}, {"error", "timeout"}});
  sink.Emit(0, "agent", "tool_audit", Audit("end_call", "failed"));
  sink.Emit(1, "agent", "provider_error", {{"stage", "stt"}, {"error", "closed"}});
  sink.Emit(2, "agent", "provider_error", {{"stage", "tts"}, {"error", "timeout"}});
  sink.Emit(3, "agent", "post_call_report", {{"result", "written"}});
  Scrape scrape(metrics_);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "tool"}}), 1);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "stt"}}), 1);
  EXPECT_EQ(scrape.Counter(kErrors, {{"stage", "tts"}}), 1);
  EXPECT_EQ(scrape.Counter(kTools, {{"tool", "end_call"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(scrape.Counter("callsim_agent_post_call_reports_total", {{"result", "written"}}), 1);
}

}  // namespace
}  // namespace callsim::agent
