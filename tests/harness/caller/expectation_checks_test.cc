#include "harness/caller/expectation_checks.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

using nlohmann::json;

Expectation Make(Expectation::Kind kind) {
  Expectation e;
  e.kind = kind;
  return e;
}

TEST(ExpectationChecksTest, ArgumentsContainIsARecursiveSubset) {
  const json actual = json::parse(R"({"order_id":"4567","rush":true,"n":3,
      "address":{"city":"Oslo","zip":"0150"},"items":[1,2]})");
  EXPECT_TRUE(ArgumentsContain(actual, json::object()));
  EXPECT_TRUE(ArgumentsContain(actual, json::parse(R"({"order_id":"4567"})")));
  EXPECT_TRUE(ArgumentsContain(actual, json::parse(R"({"address":{"city":"Oslo"},"n":3.0})")));
  EXPECT_TRUE(ArgumentsContain(actual, json::parse(R"({"items":[1,2]})")));
  EXPECT_FALSE(ArgumentsContain(actual, json::parse(R"({"order_id":4567})")));  // type differs
  EXPECT_FALSE(ArgumentsContain(actual, json::parse(R"({"items":[1]})")));      // arrays: equal
  EXPECT_FALSE(ArgumentsContain(actual, json::parse(R"({"address":{"city":"Bergen"}})")));
  EXPECT_FALSE(ArgumentsContain(actual, json::parse(R"({"missing":null})")));
  EXPECT_FALSE(ArgumentsContain(json::parse("[1]"), json::parse(R"({"a":1})")));
}

TEST(ExpectationChecksTest, ToolCallNeedsTheNameAndTheArguments) {
  Expectation e = Make(Expectation::kToolCall);
  e.tool_name = "check_order_status";
  e.tool_args_json = R"({"order_id":"4567"})";
  TurnEvidence evidence;
  EXPECT_EQ(
      JudgeExpectation(e, evidence).detail,
      R"(expected a call of check_order_status with {"order_id":"4567"}, the agent called no tool)");
  evidence.tool_calls = {{"c1", "lookup", R"({"order_id":"4567"})"},
                         {"c2", "check_order_status", R"({"order_id": 45)"},  // not JSON
                         {"c3", "check_order_status", R"({"order_id":"1"})"}};
  Verdict v = JudgeExpectation(e, evidence);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.detail.find(R"(check_order_status {"order_id":"1"})"), std::string::npos) << v.detail;
  evidence.tool_calls.push_back({"c4", "check_order_status", R"({"order_id":"4567","rush":true})"});
  v = JudgeExpectation(e, evidence);
  EXPECT_TRUE(v.passed) << v.detail;
  e.tool_args_json.clear();  // any arguments, even malformed ones (a hostile model's)
  evidence.tool_calls = {{"c2", "check_order_status", "not json at all"}};
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
  evidence.tool_calls = {{"c2", "lookup", "{}"}};
  EXPECT_FALSE(JudgeExpectation(e, evidence).passed);
  evidence.tool_calls = {{"c2", "check_order_status", "{}"}};
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
}

TEST(ExpectationChecksTest, AgentSaysContainsAndMatches) {
  TurnEvidence evidence;
  evidence.heard_text = "your order has shipped today";
  Expectation e = Make(Expectation::kAgentSays);
  e.contains = "Order has";
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
  e.contains = "order ha";  // whole words only
  EXPECT_FALSE(JudgeExpectation(e, evidence).passed);
  e.contains.clear();
  e.matches = "SHIPPED (today|tomorrow)$";
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
  e.matches = "^shipped";
  EXPECT_FALSE(JudgeExpectation(e, evidence).passed);
  e.contains = "your order";  // both given: both must hold
  e.matches = "today";
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
  e.matches = "(";
  const Verdict bad = JudgeExpectation(e, evidence);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.detail.rfind("invalid regex /(/", 0), 0u) << bad.detail;
  evidence.heard_text = "";
  evidence.call_ended_reason = "agent hung up";
  e.matches.clear();
  EXPECT_EQ(JudgeExpectation(e, evidence).detail,
            "expected \"your order\", heard \"\" (the call ended before the turn completed: agent "
            "hung up)");
}

// (.*)*x backtracks catastrophically in std::regex: this test finishing is the proof.
TEST(ExpectationChecksTest, CatastrophicPatternAnswersPromptly) {
  TurnEvidence evidence;
  evidence.heard_text = "I would like to know where my order is, please; it has been a week.";
  Expectation e = Make(Expectation::kAgentSays);
  e.matches = "(.*)*x";
  EXPECT_FALSE(JudgeExpectation(e, evidence).passed);
  evidence.heard_text += " X";
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
}

TEST(ExpectationChecksTest, NoReplyWindowIsHalfOpen) {
  Expectation e = Make(Expectation::kNoReply);
  e.within_ms = 2000;
  TurnEvidence evidence;
  evidence.listen_from_us = 10'000'000;
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);  // nothing heard at all
  evidence.reply_onset_us = 11'999'000;
  const Verdict spoke = JudgeExpectation(e, evidence);
  EXPECT_FALSE(spoke.passed);
  EXPECT_EQ(spoke.detail,
            "the agent spoke 1999 ms after the caller's action ended (silent window 2000 ms)");
  evidence.reply_onset_us = 12'000'000;
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
}

TEST(ExpectationChecksTest, AgentRepeatsAllowsAFifthOfTheWordsWrong) {
  const Expectation e = Make(Expectation::kAgentRepeats);
  TurnEvidence evidence;
  evidence.heard_text = "it has shipped today";
  EXPECT_EQ(JudgeExpectation(e, evidence).detail, "no earlier reply was heard to compare with");
  evidence.previous_heard_text = "it has shipped today okay";  // one deletion in five: 0.2
  EXPECT_TRUE(JudgeExpectation(e, evidence).passed);
  evidence.previous_heard_text = "it has shipped";  // one insertion in three: 0.33
  EXPECT_FALSE(JudgeExpectation(e, evidence).passed);
  evidence.heard_text.clear();
  EXPECT_EQ(JudgeExpectation(e, evidence).detail, "no reply heard");
}

TEST(ExpectationChecksTest, CallEndsComparesWhoEndedIt) {
  Expectation e = Make(Expectation::kCallEnds);
  e.ends_by = CallEndedBy::kAgent;
  EXPECT_TRUE(JudgeCallEnds(e, CallEndedBy::kAgent, "agent hung up").passed);
  const Verdict v = JudgeCallEnds(e, CallEndedBy::kTransfer, "agent transferred the call");
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.detail, "the call ended by transfer (agent transferred the call), expected by agent");
  e.ends_by = CallEndedBy::kCaller;
  EXPECT_FALSE(JudgeCallEnds(e, CallEndedBy::kOther, "maximum call duration reached").passed);
  EXPECT_FALSE(JudgeExpectation(e, TurnEvidence{}).passed);  // not judged per turn
}

TEST(ExpectationChecksTest, LatencyAndStops) {
  Expectation latency = Make(Expectation::kTurnLatency);
  latency.max_ms = 1000;
  TurnEvidence evidence;
  EXPECT_EQ(JudgeExpectation(latency, evidence).detail, "no reply heard");
  evidence.turn_latency_ms = 1000;
  EXPECT_TRUE(JudgeExpectation(latency, evidence).passed);
  evidence.turn_latency_ms = 1000.5;
  EXPECT_FALSE(JudgeExpectation(latency, evidence).passed);
  Expectation stops = Make(Expectation::kAgentStops);
  stops.within_ms = 300;
  EXPECT_EQ(JudgeExpectation(stops, evidence).detail,
            "the agent was not speaking when the caller barged in");
  evidence.barge_in_stop_ms = 250;
  EXPECT_TRUE(JudgeExpectation(stops, evidence).passed);
}

}  // namespace
}  // namespace callsim::harness
