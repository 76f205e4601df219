#include "agent/postcall/call_summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

ReportedTool Tool(std::string name, std::string decision, nlohmann::json args,
                  nlohmann::json result = nullptr, std::string reason = "") {
  return ReportedTool{std::move(name), std::move(decision), std::move(reason), std::move(args),
                      std::move(result)};
}

TEST(CallSummaryTest, ActionItemShowsArgumentsInKeyOrderAndTheResultStatus) {
  EXPECT_EQ(ActionItemText(Tool("cancel_order", "executed", {{"order_id", "4567"}, {"a", 1}},
                                {{"status", "cancelled"}, {"id", 9}})),
            "cancel_order a=1 order_id=4567 -> cancelled");
  EXPECT_EQ(ActionItemText(Tool("ping", "executed", nullptr, "pong")), "ping -> pong");
  EXPECT_EQ(
      ActionItemText(Tool("eta", "executed", nlohmann::json::object(), {{"message", "friday"}})),
      "eta -> friday");
  EXPECT_EQ(ActionItemText(Tool("eta", "executed", {{"id", "1"}}, {{"day", "fri"}, {"n", 2}})),
            "eta id=1 -> day=fri n=2");
  EXPECT_EQ(ActionItemText(Tool("list", "executed", {{"ids", {1, 2}}}, {1, 2})),
            "list ids=[1,2] -> [1,2]");
}

TEST(CallSummaryTest, NotDoneShowsTheDecisionAndReason) {
  EXPECT_EQ(NotDoneText(Tool("refund", "blocked", {{"order_id", "1"}}, nullptr, "not_allowed")),
            "not done: refund order_id=1 (blocked: not_allowed)");
  EXPECT_EQ(NotDoneText(Tool("refund", "cancelled", nullptr)), "not done: refund (cancelled)");
}

TEST(CallSummaryTest, LongValuesAreCutAtAWord) {
  std::string words;
  for (int i = 0; i < 40; ++i) words += "word ";
  const std::string item = ActionItemText(Tool("note", "executed", {{"text", words}}));
  EXPECT_LE(item.size(), std::string("note ").size() + 120);
  EXPECT_TRUE(item.ends_with("word..."));
}

TEST(CallSummaryTest, NoCallerNoToolsNoReason) {
  EXPECT_EQ(SummarizeCall({}, {}, CallEnding{"", 0}),
            "The caller said nothing. The agent used no tools. The call lasted 0 s with 0 caller "
            "turns and ended for an unknown reason.");
}

TEST(CallSummaryTest, WithoutToolsTheAgentsFirstAnswerSaysWhatItDid) {
  const std::vector<TranscriptTurn> turns = {
      {"assistant", "Hello, how can I help?", 0},
      {"user", "  what are\nyour hours ", 1000},
      {"assistant", "We are open nine to five.", 3000},
      {"user", "thanks", 6000},
  };
  EXPECT_EQ(SummarizeCall(turns, {}, CallEnding{"agent_hangup", 59600}),
            "The caller first said: \"what are your hours\". The agent replied: \"We are open "
            "nine to five.\". The call lasted 1 min 0 s with 2 caller turns and ended when the "
            "agent hung up.");
}

TEST(CallSummaryTest, EndReasonsInPlainWords) {
  const auto ending = [](const char* ended_by) {
    const std::string s = SummarizeCall({}, {}, CallEnding{ended_by, 1400});
    return s.substr(s.find(" and ended ") + 11);
  };
  EXPECT_EQ(ending("hangup"), "when the caller hung up.");
  EXPECT_EQ(ending("transfer"), "with a transfer.");
  EXPECT_EQ(ending("max_call"), "at the maximum call length.");
  EXPECT_EQ(ending("silence_timeout"), "after a long silence.");
  EXPECT_EQ(ending("stt_failed"), "on an error (stt_failed).");
  EXPECT_EQ(ending("something_else"), "(something_else).");
}

TEST(CallSummaryTest, ManyToolsAreCountedNotListed) {
  std::vector<ReportedTool> tools;
  for (int i = 0; i < 7; ++i) tools.push_back(Tool("t" + std::to_string(i), "executed", nullptr));
  tools.push_back(Tool("t0", "reused", nullptr));  // a duplicate: neither done again nor not done
  const std::string s = SummarizeCall({}, tools, CallEnding{"hangup", 0});
  EXPECT_NE(s.find("The agent ran t0, t1, t2, t3, t4 and 2 more."), std::string::npos) << s;
  EXPECT_EQ(s.find("Not done"), std::string::npos);
}

TEST(CallSummaryTest, LongFirstRequestIsQuotedInPart) {
  std::string ask;
  for (int i = 0; i < 60; ++i) ask += "please ";
  const std::string s = SummarizeCall({{"user", ask, 0}}, {}, CallEnding{"hangup", 0});
  const size_t open = s.find('"');
  const size_t close = s.find('"', open + 1);
  EXPECT_LE(close - open - 1, 160u);
  EXPECT_EQ(s.substr(close - 9, 10), "please...\"");
}

}  // namespace
}  // namespace callsim::agent
