// A streaming LLM, as the reference agent sees it: a request with the conversation so far; tokens
// (pieces of text) stream back, possibly a tool call, then done or an error. Callbacks run on the
// Scheduler. Cancel() (or destroying the stream) guarantees no further callbacks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace callsim::agent {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", "tool"
  std::string content;
  // role "assistant" with a tool call, or role "tool" (its result): the tool's name and the
  // call's id, as the model named them. Empty otherwise.
  std::string tool_name;
  std::string tool_call_id;
};

struct LlmRequest {
  std::vector<ChatMessage> messages;
};

struct ToolCallRequest {
  std::string id;
  std::string name;
  std::string arguments_json;  // as the model produced it: untrusted, maybe not even JSON
};

struct LlmListener {
  std::function<void(const std::string& token)> on_token;
  std::function<void(const ToolCallRequest& call)> on_tool_call;
  std::function<void()> on_done;
  std::function<void(const std::string& error)> on_error;
};

class LlmStream {
 public:
  virtual ~LlmStream() = default;
  virtual void Cancel() = 0;
};

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;
  virtual std::unique_ptr<LlmStream> Start(const LlmRequest& request, LlmListener listener) = 0;
};

}  // namespace callsim::agent
