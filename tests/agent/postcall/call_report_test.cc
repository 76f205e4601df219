#include "agent/postcall/call_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

// A support call: the caller cancels an order and says a card number, an e-mail address and an
// SSN along the way; the model puts the card into tool arguments and the back end echoes it.
CallReportInput SupportCall() {
  CallReportInput input;
  input.transcript = {
      {"assistant", "Hi, this is Acme support. How can I help?", 0},
      {"user", "I want to cancel order four five six seven and my card is 4111 1111 1111 1111",
       2500},
      {"assistant", "Sure. To confirm, cancel order 4567?", 6000},
      {"user", "yes", 9000},
      {"assistant", "Done, order 4567 is cancelled. The refund goes to 4111-1111-1111-1111.",
       11000},
      {"user", "also email me at john dot smith at example dot com, my social is 123 45 6789",
       15000},
  };
  const std::string cancel_args = R"({"order_id":"4567","refund_card":"4111 1111 1111 1111"})";
  const std::string cancel_result = R"({"status":"cancelled","refund_to":"4111111111111111"})";
  input.tools = {
      {"check_order_status", "executed", "", R"({"order_id":"4567"})",
       R"({"status":"shipped","eta":"friday"})"},
      {"cancel_order", "executed", "", cancel_args, cancel_result},
      {"cancel_order", "reused", "duplicate_request", cancel_args, cancel_result},
      {"refund_order", "blocked", "not_allowed", R"({"order_id":"4567"})", ""},
      {"update_email", "declined", "caller_declined", R"({"email":"john.smith@example.com"})", ""},
      {"lookup_customer", "failed", "timeout", R"({"phone":"555-123-4567"})", ""},
      {"add_note", "blocked", "malformed_json", "{note: card 4111 1111 1111 1111", ""},
  };
  input.usage = CallUsage{180.0, 20000, 1000, 1500};
  input.outcome = CallEnding{"hangup", 93400};
  return input;
}

TEST(CallReportTest, ActionItemsListExecutedCallsAndWhatWasNotDone) {
  const CallReport report = BuildCallReport(SupportCall());
  EXPECT_EQ(
      report.action_items,
      (std::vector<std::string>{"check_order_status order_id=4567 -> shipped",
                                "cancel_order order_id=4567 refund_card=[card] -> cancelled"}));
  EXPECT_EQ(report.not_done,
            (std::vector<std::string>{
                "not done: refund_order order_id=4567 (blocked: not_allowed)",
                "not done: update_email email=[email] (declined: caller_declined)",
                "not done: lookup_customer phone=[phone] (failed: timeout)",
                "not done: add_note {note: card [card] (blocked: malformed_json)"}));
}

TEST(CallReportTest, SummarySaysWhatWasAskedWhatWasDoneAndHowItEnded) {
  const CallReport report = BuildCallReport(SupportCall());
  EXPECT_EQ(report.summary,
            "The caller first said: \"I want to cancel order four five six seven and my card is "
            "[card]\". The agent ran check_order_status (shipped) and cancel_order (cancelled). "
            "Not done: refund_order (blocked), update_email (declined), lookup_customer (failed) "
            "and add_note (blocked). The call lasted 1 min 33 s with 3 caller turns and ended "
            "when the caller hung up.");
}

TEST(CallReportTest, CostFromDefaultPrices) {
  // 3 min of STT at $0.0043; 20k input tokens at $0.00015/1k and 1k output at $0.0006/1k;
  // 1500 characters of TTS at $0.04/1k.
  const CallReport report = BuildCallReport(SupportCall());
  EXPECT_DOUBLE_EQ(report.cost.stt_usd, 0.0129);
  EXPECT_DOUBLE_EQ(report.cost.llm_usd, 0.0036);
  EXPECT_DOUBLE_EQ(report.cost.tts_usd, 0.06);
  EXPECT_DOUBLE_EQ(report.cost.total_usd, 0.0765);
  EXPECT_EQ(ToJson(report).at("cost").dump(),
            R"({"llm_usd":0.0036,"stt_usd":0.0129,"total_usd":0.0765,"tts_usd":0.06})");
}

TEST(CallReportTest, NothingUnredactedReachesTheJson) {
  const CallReport report = BuildCallReport(SupportCall());
  const std::string dumped = ToJson(report).dump();
  for (const char* secret : {"4111", "1111", "john", "smith", "example", "555", "123 45", "6789"}) {
    EXPECT_EQ(dumped.find(secret), std::string::npos) << secret << " in " << dumped;
  }
  EXPECT_NE(dumped.find("order_id"), std::string::npos);
  EXPECT_NE(dumped.find("4567"), std::string::npos);  // the order number survives
  // Input: 2 cards, 1 e-mail, 1 SSN in the transcript; in tools 2 cards in each of the two
  // cancel_order records, 1 card in the malformed arguments, 1 e-mail, 1 phone.
  EXPECT_EQ(report.redactions.of(PiiKind::kCard), 7);
  EXPECT_EQ(report.redactions.of(PiiKind::kEmail), 2);
  EXPECT_EQ(report.redactions.of(PiiKind::kSsn), 1);
  EXPECT_EQ(report.redactions.of(PiiKind::kPhone), 1);
}

TEST(CallReportTest, JsonHoldsTheRedactedTranscriptAndToolCalls) {
  const nlohmann::json json = ToJson(BuildCallReport(SupportCall()));
  ASSERT_EQ(json.at("transcript").size(), 6u);
  EXPECT_EQ(json.at("transcript")[5],
            (nlohmann::json{{"role", "user"},
                            {"text", "also email me at [email], my social is [ssn]"},
                            {"t_ms", 15000}}));
  ASSERT_EQ(json.at("tool_calls").size(), 7u);
  EXPECT_EQ(json.at("tool_calls")[1],
            (nlohmann::json{{"name", "cancel_order"},
                            {"decision", "executed"},
                            {"reason", ""},
                            {"arguments", {{"order_id", "4567"}, {"refund_card", "[card]"}}},
                            {"result", {{"status", "cancelled"}, {"refund_to", "[card]"}}}}));
  EXPECT_EQ(json.at("tool_calls")[3].at("result"), nullptr);
  EXPECT_EQ(json.at("tool_calls")[6].at("arguments"), "{note: card [card]");
  EXPECT_EQ(json.at("outcome"), (nlohmann::json{{"ended_by", "hangup"}, {"duration_ms", 93400}}));
  EXPECT_EQ(json.at("usage").at("tts_chars"), 1500);
  EXPECT_EQ(json.at("redactions").at("card"), 7);
  EXPECT_EQ(json.at("turns_omitted"), 0);
}

TEST(CallReportTest, SameInputSameJson) {
  EXPECT_EQ(ToJson(BuildCallReport(SupportCall())).dump(),
            ToJson(BuildCallReport(SupportCall())).dump());
}

TEST(CallReportTest, BoundsOnTurnsToolsAndToolJsonSize) {
  CallReportInput input;
  input.transcript.assign(kMaxReportTurns + 3, TranscriptTurn{"user", "hello", 0});
  input.tools.assign(kMaxReportTools + 2, ToolAuditRecord{"t", "executed", "", "{}", ""});
  input.tools[0].arguments_json = "\"" + std::string(70000, '1') + "\"";
  const CallReport report = BuildCallReport(input);
  EXPECT_EQ(report.transcript.size(), kMaxReportTurns);
  EXPECT_EQ(report.turns_omitted, 3u);
  EXPECT_EQ(report.tool_calls.size(), kMaxReportTools);
  EXPECT_EQ(report.tools_omitted, 2u);
  EXPECT_EQ(report.tool_calls[0].at("arguments"), "[omitted: 70002 bytes]");
  EXPECT_EQ(report.action_items[1], "t");  // "{}" arguments and no result: the name alone
}

TEST(CallReportTest, InvalidUtf8StillDumps) {
  CallReportInput input;
  input.transcript = {{"user", std::string("caf\xC3 ok 555 123 4567"), 0}};
  input.tools = {{"t", "executed", "", std::string("not json \xFF"), ""}};
  const nlohmann::json json = ToJson(BuildCallReport(input));
  std::string dumped;
  EXPECT_NO_THROW(dumped = json.dump());
  EXPECT_EQ(dumped.find("555"), std::string::npos);
}

}  // namespace
}  // namespace callsim::agent
