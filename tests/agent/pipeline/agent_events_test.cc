#include "agent/pipeline/agent_events.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace callsim::agent {
namespace {

bool SnakeCase(std::string_view name) {
  if (name.empty() || name.front() == '_' || name.back() == '_') return false;
  for (char c : name) {
    if (!(c >= 'a' && c <= 'z') && c != '_') return false;
  }
  return true;
}

TEST(AgentEventsTest, EveryKindIsDeclaredOnceAndSnakeCase) {
  std::set<std::string_view> seen;
  for (std::string_view kind : agent_events::kAll) {
    EXPECT_TRUE(seen.insert(kind).second) << "declared twice: " << kind;
    EXPECT_TRUE(SnakeCase(kind)) << kind;
  }
  // 50 the reference agent and its providers emit, 2 only read (tool_call, post_call_report).
  EXPECT_EQ(seen.size(), 52u);
  EXPECT_TRUE(seen.count("tool_audit") && seen.count("usage") && seen.count("turn_spans"));
}

TEST(AgentEventsTest, TheSourcesAreTheAgentTheCallerAndTheCall) {
  EXPECT_EQ(event_sources::kAgent, "agent");
  EXPECT_EQ(event_sources::kCaller, "caller");
  EXPECT_EQ(event_sources::kCall, "call");
}

TEST(AgentEventsTest, TurnSpansWriteNullForWhatWasNotReached) {
  TurnSpansEvent spans;
  spans.endpointing_ms = 300;
  spans.stt_final_ms = 42.5;
  spans.response_ms = 812.25;
  EXPECT_EQ(ToJson(spans).dump(),
            R"({"endpointing_ms":300.0,"first_sentence_ms":null,"llm_ttft_ms":null,)"
            R"("response_ms":812.25,"stt_final_ms":42.5,"tts_ttfb_ms":null,"waterfall":null})");
}

TEST(AgentEventsTest, TurnSpansRoundTrip) {
  TurnSpansEvent spans;
  spans.endpointing_ms = 0;  // zero is a span, not a missing one
  spans.llm_ttft_ms = 180.125;
  spans.first_sentence_ms = 400;
  spans.tts_ttfb_ms = 95.5;
  spans.waterfall = TurnSpansEvent::Waterfall{550, 0, 120.5, 60, 80, 9.5};
  TurnSpansEvent back;
  FromJson(ToJson(spans), &back);
  EXPECT_EQ(back, spans);
  EXPECT_FALSE(back.stt_final_ms.has_value());
}

// In turn: each stage adds what it took after the one before. Speech ends at 1 s.
TEST(AgentEventsTest, WaterfallOfSequentialStagesIsTheirSpans) {
  const auto w = ComputeWaterfall(1'000'000, 1'550'000, 1'650'000, 1'950'000, 2'050'000,
                                  2'170'000, 2'180'000);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w, (TurnSpansEvent::Waterfall{550, 100, 300, 100, 120, 10}));
}

// Preemptive generation: the final (1.2 s) and the first token (1.5 s) come before the endpoint
// (1.55 s); they add nothing after it, and the sum is still the time to the first audio.
TEST(AgentEventsTest, WaterfallCountsOverlappedStagesOnce) {
  const auto w = ComputeWaterfall(1'000'000, 1'550'000, 1'200'000, 1'500'000, 1'600'000,
                                  1'700'000, 1'720'000);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w, (TurnSpansEvent::Waterfall{550, 0, 0, 50, 100, 20}));
  // The LLM still thinking at the endpoint adds only what is left of it.
  const auto late = ComputeWaterfall(1'000'000, 1'250'000, 1'150'000, 1'400'000, 1'450'000,
                                     1'550'000, 1'560'000);
  EXPECT_EQ(*late, (TurnSpansEvent::Waterfall{250, 0, 150, 50, 100, 10}));
  // A stage not reached (a replayed answer has no LLM) adds nothing; no end of speech, no
  // waterfall.
  const auto replay = ComputeWaterfall(1'000'000, 1'550'000, 1'650'000, -1, 1'650'000,
                                       1'750'000, 1'760'000);
  EXPECT_EQ(*replay, (TurnSpansEvent::Waterfall{550, 100, 0, 0, 100, 10}));
  EXPECT_FALSE(ComputeWaterfall(-1, 1'550'000, 1'650'000, -1, -1, -1, 1'760'000).has_value());
}

TEST(AgentEventsTest, TurnSpansReadOnlyNumbers) {
  TurnSpansEvent spans;
  spans.response_ms = 1;  // overwritten: FromJson fills every field
  FromJson(
      nlohmann::json{{"endpointing_ms", "300"}, {"stt_final_ms", 12}, {"response_ms", nullptr}},
      &spans);
  EXPECT_FALSE(spans.endpointing_ms.has_value());  // a string is not a number
  EXPECT_EQ(spans.stt_final_ms, 12.0);
  EXPECT_FALSE(spans.response_ms.has_value());
  FromJson(nlohmann::json::array(), &spans);  // not an object: nothing
  EXPECT_FALSE(spans.stt_final_ms.has_value());
}

}  // namespace
}  // namespace callsim::agent
