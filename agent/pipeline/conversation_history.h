// The conversation the model is sent: user and assistant messages and tool exchanges, oldest
// first (the system prompt is not in it), bounded to max_messages. A user message right after
// another joins it (the caller resumed: one message per turn). Trimming drops the oldest
// messages and never leaves half of a tool exchange at the front, because models reject a tool
// result without its call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/providers/llm.h"

namespace callsim::agent {

class ConversationHistory {
 public:
  // A bound under 1 counts as 1.
  explicit ConversationHistory(int max_messages);

  // A "user" or "assistant" message; then trims.
  void Append(std::string_view role, const std::string& text);
  // A tool call (an assistant message naming the tool) and its result (a "tool" message).
  // Returned rather than added: a reply collects its exchanges until the model is asked again.
  static std::vector<ChatMessage> ToolExchange(const ToolCallRequest& call,
                                               std::string result_json);
  // ToolExchange(call, result_json) added; then trims.
  void AddToolExchange(const ToolCallRequest& call, std::string result_json);
  // Moves `messages` in, in order, and clears it. Does not trim: the caller calls Trim() when
  // the history is complete (the next Append trims too).
  void Add(std::vector<ChatMessage>* messages);
  // Drops the oldest messages beyond the bound, then any tool message left at the front.
  void Trim();
  // Moves the third-last message, a user message, to the end: the caller's answer that turned
  // out not to concern the two messages after it is answered as any other.
  void MoveUserMessageLast();

  bool empty() const { return messages_.empty(); }
  // The newest message; the history must not be empty.
  const ChatMessage& back() const;
  bool LastIsUser() const { return !messages_.empty() && messages_.back().role == "user"; }
  const std::vector<ChatMessage>& messages() const { return messages_; }

 private:
  size_t max_messages_;
  std::vector<ChatMessage> messages_;
};

}  // namespace callsim::agent
