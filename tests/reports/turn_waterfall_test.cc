#include "reports/turn_waterfall.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::reports {
namespace {

using harness::EventRow;
using harness::TurnRow;

double Sum(const std::vector<WaterfallStage>& stages) {
  double ms = 0;
  for (const WaterfallStage& s : stages) ms += s.ms;
  return ms;
}

// Turn 1 of call 1 of scenarios/barge_in.yaml, seed 1, as stored.
agent::TurnSpansEvent StoredSpans() {
  agent::TurnSpansEvent s;
  s.endpointing_ms = 550.0;
  s.stt_final_ms = 50.197;
  s.llm_ttft_ms = 569.176;
  s.first_sentence_ms = 689.176;
  s.tts_ttfb_ms = 110.331;
  s.response_ms = 1400.0;
  return s;
}

TEST(WaterfallStages, TheStagesSumToTheTurnLatency) {
  const std::vector<WaterfallStage> stages = WaterfallStages(1591.437, StoredSpans());
  ASSERT_EQ(stages.size(), 7u);
  const double expected_ms[] = {550.0, 50.197, 569.176, 120.0, 110.331, 0.296, 191.437};
  const char* names[] = {"endpointing", "STT final", "LLM first token", "first sentence",
                         "TTS first byte", "agent, other", "network and playout"};
  for (size_t i = 0; i < stages.size(); ++i) {
    EXPECT_EQ(stages[i].name, names[i]);
    EXPECT_NEAR(stages[i].ms, expected_ms[i], 1e-9) << names[i];
  }
  EXPECT_NEAR(Sum(stages), 1591.437, 1e-9);
}

// A turn answered by a tool filler: no LLM spans, and the 1.5 s wait for the tool shows as the
// agent's own time, not as network.
TEST(WaterfallStages, AWaitTheSpansDoNotCoverIsTheAgentsNotTheNetworks) {
  agent::TurnSpansEvent s;
  s.endpointing_ms = 550.0;
  s.stt_final_ms = 144.013;
  s.tts_ttfb_ms = 119.264;
  s.response_ms = 2320.0;
  const std::vector<WaterfallStage> stages = WaterfallStages(2515.687, s);
  ASSERT_EQ(stages.size(), 7u);
  EXPECT_TRUE(stages[2].skipped);
  EXPECT_TRUE(stages[3].skipped);
  EXPECT_NEAR(stages[5].ms, 2320.0 - 550.0 - 144.013 - 119.264, 1e-9);
  EXPECT_NEAR(stages[6].ms, 2515.687 - 2320.0, 1e-9);
  EXPECT_NEAR(Sum(stages), 2515.687, 1e-9);
}

TEST(WaterfallStages, WithoutSpansTheWholeLatencyIsOneStage) {
  const std::vector<WaterfallStage> stages = WaterfallStages(1234.5, std::nullopt);
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_DOUBLE_EQ(stages[0].ms, 1234.5);
}

TurnRow Answered(int64_t call_id, int turn_index, std::optional<double> latency_ms) {
  TurnRow t;
  t.call_id = call_id;
  t.turn_index = turn_index;
  t.turn_latency_ms = latency_ms;
  return t;
}

TEST(TurnAtPercentile, PicksTheActualTurnAtTheNearestRank) {
  const std::vector<TurnRow> turns = {Answered(1, 1, 900), Answered(1, 2, 1200),
                                      Answered(2, 1, std::nullopt), Answered(2, 2, 1000),
                                      Answered(3, 1, 1100), Answered(4, 1, 1000)};
  // Five answered: 900, 1000 (call 2), 1000 (call 4), 1100, 1200. p50: rank 3.
  const std::optional<TurnRow> p50 = TurnAtPercentile(turns, 50);
  ASSERT_TRUE(p50);
  EXPECT_EQ(p50->call_id, 4);
  EXPECT_EQ(p50->turn_index, 1);
  const std::optional<TurnRow> p95 = TurnAtPercentile(turns, 95);
  ASSERT_TRUE(p95);
  EXPECT_EQ(p95->call_id, 1);
  EXPECT_EQ(p95->turn_index, 2);
  EXPECT_FALSE(TurnAtPercentile({Answered(1, 1, std::nullopt)}, 50));
}

EventRow Event(const std::string& source, const std::string& kind, const std::string& detail) {
  EventRow e;
  e.source = source;
  e.kind = kind;
  e.detail_json = detail;
  return e;
}

EventRow Spans(double endpointing_ms) {
  return Event("agent", "turn_spans",
               "{\"endpointing_ms\":" + std::to_string(endpointing_ms) + ",\"response_ms\":1000}");
}

TEST(FindTurnSpans, TakesTheSpansBetweenTheTurnsUtteranceAndItsReplyOnset) {
  const std::vector<EventRow> events = {
      Event("caller", "reply_onset", "{\"turn\":0}"),  // the greeting: no spans
      Event("caller", "utterance_start", "{\"turn\":1,\"barge_in\":false}"),
      Spans(501),
      Event("caller", "reply_onset", "{\"turn\":1,\"latency_ms\":1500}"),
      Event("caller", "utterance_start", "{\"turn\":2,\"barge_in\":true}"),
      Spans(502),
      Event("caller", "reply_onset", "{\"turn\":2,\"latency_ms\":1600}"),
      // Turn 3 was answered by a reply that is not an answer: no spans of its own.
      Event("caller", "utterance_start", "{\"turn\":3,\"barge_in\":false}"),
      Event("caller", "reply_onset", "{\"turn\":3,\"latency_ms\":900}"),
  };
  ASSERT_TRUE(FindTurnSpans(events, 1));
  EXPECT_DOUBLE_EQ(*FindTurnSpans(events, 1)->endpointing_ms, 501);
  ASSERT_TRUE(FindTurnSpans(events, 2));
  EXPECT_DOUBLE_EQ(*FindTurnSpans(events, 2)->endpointing_ms, 502);
  EXPECT_FALSE(FindTurnSpans(events, 3));
  EXPECT_FALSE(FindTurnSpans(events, 4));
}

TEST(SvgWaterfall, DrawsOneBarPerStageWithItsValue) {
  const std::string svg = SvgWaterfall(WaterfallStages(1591.437, StoredSpans()), "p50 turn");
  EXPECT_NE(svg.find("data-stages=\"7\" data-total-ms=\"1591.4\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("data-name=\"first sentence\" data-ms=\"120.000\""), std::string::npos);
  EXPECT_NE(svg.find("data-name=\"network and playout\" data-ms=\"191.437\""), std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
