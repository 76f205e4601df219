#include "agent/pipeline/conversation_history.h"

#include <algorithm>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::agent {

ConversationHistory::ConversationHistory(int max_messages)
    : max_messages_(static_cast<size_t>(std::max(1, max_messages))) {}

void ConversationHistory::Append(std::string_view role, const std::string& text) {
  if (role == "user" && LastIsUser()) {
    messages_.back().content += ' ';
    messages_.back().content += text;
  } else {
    messages_.push_back(ChatMessage{std::string(role), text, {}, {}});
  }
  Trim();
}

std::vector<ChatMessage> ConversationHistory::ToolExchange(const ToolCallRequest& call,
                                                           std::string result_json) {
  std::vector<ChatMessage> exchange;
  exchange.reserve(2);
  exchange.push_back(ChatMessage{"assistant", call.arguments_json, call.name, call.id});
  exchange.push_back(ChatMessage{"tool", std::move(result_json), call.name, call.id});
  return exchange;
}

void ConversationHistory::AddToolExchange(const ToolCallRequest& call, std::string result_json) {
  std::vector<ChatMessage> exchange = ToolExchange(call, std::move(result_json));
  Add(&exchange);
  Trim();
}

void ConversationHistory::Add(std::vector<ChatMessage>* messages) {
  for (ChatMessage& message : *messages) messages_.push_back(std::move(message));
  messages->clear();
}

void ConversationHistory::Trim() {
  if (messages_.size() > max_messages_) {
    messages_.erase(messages_.begin(), messages_.end() - static_cast<ptrdiff_t>(max_messages_));
  }
  while (!messages_.empty() &&
         (messages_.front().role == "tool" || !messages_.front().tool_name.empty())) {
    messages_.erase(messages_.begin());
  }
}

void ConversationHistory::MoveUserMessageLast() {
  CALLSIM_CHECK(messages_.size() >= 3);
  CALLSIM_CHECK(messages_[messages_.size() - 3].role == "user");
  std::rotate(messages_.end() - 3, messages_.end() - 2, messages_.end());
}

const ChatMessage& ConversationHistory::back() const {
  CALLSIM_CHECK(!messages_.empty());
  return messages_.back();
}

}  // namespace callsim::agent
