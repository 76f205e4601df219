// The reference agent's LLM over the wire: OpenAI's streaming Chat Completions API
// (POST {base}/chat/completions with stream: true), against api.openai.com or any server that
// speaks it (a fake on http://127.0.0.1). Tokens are delivered as they arrive.
//
// Mapping of the agent's conversation (ChatMessage, see conversation_history.h ToolExchange):
//   system/user/assistant text   -> {"role", "content"}
//   assistant with a tool_name   -> {"role":"assistant","content":null,"tool_calls":[{"id":
//                                    tool_call_id,"type":"function","function":{"name":
//                                    tool_name,"arguments": content}}]}
//   tool                         -> {"role":"tool","tool_call_id","content"}
// A tool call without an id gets "call_<n>" (n counting such calls in the request), and the tool
// message after it the same id. The body also carries "stream_options": {"include_usage": true}
// and, when the config declares tools, "tools" and "parallel_tool_calls": false (the agent runs
// one tool call per reply).
//
// The stream: each non-empty delta.content is one on_token; delta.tool_calls fragments are joined
// by index (id and function.name from the first fragment that has them, arguments appended) and
// the first tool call is delivered once, when finish_reason is "tool_calls" or at [DONE]; on_done
// follows [DONE] (or the end of the body after a finish_reason). Errors end the stream with one
// on_error: "HTTP 429: <the provider's error.message> (retry after 1.5 s)", "stream error: ..."
// (an `event: error` event or a chunk with an "error" key), "bad JSON in stream: ...", "stream
// ended early: ..." (the body ended or broke without finish_reason or [DONE]), "no response
// within N ms", the connect error. Cancel() or destroying the stream closes its connection (a
// stream that already delivered on_done lets its connection finish and go back to the pool); no
// callback follows.
//
// Callbacks are called on the io_context's thread (from its handlers, or posted), in order, never
// from inside Start() or Cancel(). The io_context and the scheduler must outlive the provider and
// its streams; streams may outlive the provider.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/providers/llm.h"
#include "agent/providers/wire/endpoint.h"
#include "agent/providers/wire/http_client.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent::wire {

struct OpenAiLlmConfig {
  WireEndpoint endpoint;
  // The agent's tools in OpenAI's function format: [{"type":"function","function":{"name",
  // "description","parameters"}}]. Omitted from the request when empty.
  nlohmann::json tools = nlohmann::json::array();
};

// "" when `config` is usable, else the reason (a bad URL or scheme, no model, a bad header or
// timeout, tools that are not an array of {"type":"function","function":{"name":...}}).
std::string ValidateConfig(const OpenAiLlmConfig& config);

// The messages array for `messages` (see the mapping above).
nlohmann::json OpenAiMessages(const std::vector<ChatMessage>& messages);
// The whole request body.
nlohmann::json OpenAiChatRequest(const OpenAiLlmConfig& config, const LlmRequest& request);

struct OpenAiLlmStats {
  uint64_t streams = 0;
  uint64_t errors = 0;
  uint64_t tokens = 0;  // on_token calls
  // From the usage chunks (stream_options.include_usage).
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
};

class OpenAiLlm final : public LlmProvider {
 public:
  // A config that fails ValidateConfig makes every stream fail with that reason.
  OpenAiLlm(boost::asio::io_context& io, Scheduler& scheduler, OpenAiLlmConfig config);
  ~OpenAiLlm() override;

  std::unique_ptr<LlmStream> Start(const LlmRequest& request, LlmListener listener) override;

  const std::string& config_error() const { return config_error_; }
  const OpenAiLlmStats& stats() const { return *stats_; }
  const HttpClient& http() const { return http_; }

 private:
  boost::asio::io_context& io_;
  // The constructor's shape is the same for the three clients; the HTTP clients' time comes from
  // their transport's timers, so this one is not used yet.
  [[maybe_unused]] Scheduler& scheduler_;
  OpenAiLlmConfig config_;
  std::string config_error_;
  Url url_;  // {base}/chat/completions
  HttpClient http_;
  std::shared_ptr<OpenAiLlmStats> stats_ = std::make_shared<OpenAiLlmStats>();
};

}  // namespace callsim::agent::wire
