#include "agent/pipeline/conversation_history.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

std::string Roles(const ConversationHistory& history) {
  std::string roles;
  for (const ChatMessage& m : history.messages()) roles += m.role.substr(0, 1);
  return roles;  // "u", "a", "t" per message
}

TEST(ConversationHistoryTest, AUserMessageAfterAnotherJoinsIt) {
  ConversationHistory history(10);
  history.Append("user", "my order");
  history.Append("user", "number is 42");
  history.Append("assistant", "Let me look.");
  history.Append("user", "thanks");
  ASSERT_EQ(history.messages().size(), 3u);
  EXPECT_EQ(history.messages()[0].content, "my order number is 42");
  EXPECT_TRUE(history.LastIsUser());
  EXPECT_EQ(history.back().content, "thanks");
}

TEST(ConversationHistoryTest, TrimKeepsTheNewestAndNeverStartsInsideAToolExchange) {
  ConversationHistory history(3);
  history.Append("user", "cancel it");
  history.AddToolExchange(ToolCallRequest{"c1", "cancel_order", "{\"id\":7}"}, "{\"ok\":true}");
  EXPECT_EQ(Roles(history), "uat");
  history.Append("assistant", "Done.");
  // Four messages, bound three: the user message goes, and with it the call whose result
  // would otherwise open the history.
  EXPECT_EQ(Roles(history), "a");
  EXPECT_EQ(history.back().content, "Done.");
}

TEST(ConversationHistoryTest, ToolExchangeIsTheCallThenItsResult) {
  const std::vector<ChatMessage> exchange =
      ConversationHistory::ToolExchange(ToolCallRequest{"c9", "lookup", "{}"}, "{\"n\":1}");
  ASSERT_EQ(exchange.size(), 2u);
  EXPECT_EQ(exchange[0].role, "assistant");
  EXPECT_EQ(exchange[0].content, "{}");
  EXPECT_EQ(exchange[0].tool_name, "lookup");
  EXPECT_EQ(exchange[0].tool_call_id, "c9");
  EXPECT_EQ(exchange[1].role, "tool");
  EXPECT_EQ(exchange[1].content, "{\"n\":1}");
  EXPECT_EQ(exchange[1].tool_call_id, "c9");
}

TEST(ConversationHistoryTest, AddDoesNotTrimUntilAskedTo) {
  ConversationHistory history(2);
  history.Append("user", "hi");
  std::vector<ChatMessage> messages =
      ConversationHistory::ToolExchange(ToolCallRequest{"c1", "lookup", "{}"}, "{}");
  history.Add(&messages);
  EXPECT_TRUE(messages.empty());
  EXPECT_EQ(Roles(history), "uat");
  history.Trim();
  EXPECT_EQ(Roles(history), "");  // the bound keeps "at", which starts inside the exchange
}

TEST(ConversationHistoryTest, MoveUserMessageLastPutsTheAnswerAfterTheExchange) {
  ConversationHistory history(10);
  history.Append("user", "what about my refund");
  history.AddToolExchange(ToolCallRequest{"c1", "refund", "{}"}, "{\"error\":\"no\"}");
  history.MoveUserMessageLast();
  EXPECT_EQ(Roles(history), "atu");
  EXPECT_EQ(history.back().content, "what about my refund");
}

TEST(ConversationHistoryTest, ABoundUnderOneKeepsOneMessage) {
  ConversationHistory history(0);
  history.Append("user", "a");
  history.Append("assistant", "b");
  EXPECT_EQ(Roles(history), "a");
}

}  // namespace
}  // namespace callsim::agent
