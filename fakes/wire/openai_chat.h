// The fake LLM as OpenAI's Chat Completions API (POST /v1/chat/completions, GET /v1/models).
// The parts a test can check without a socket are here: the request as the rule LLM sees it, and
// the chunks of a streamed answer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/providers/llm.h"
#include "agent/server/http_server.h"
#include "fakes/wire/fake_providers.h"

namespace callsim::fakes::wire {

struct ChatRequest {
  std::string model;
  agent::LlmRequest request;  // roles system (also "developer"), user, assistant, tool
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string user;            // the `user` field: names the call when no header does
  int prompt_tokens = 0;       // words in the messages, a stand-in for a tokenizer
};

// False with OpenAI's error message in *error and the offending field in *param (for a 400).
// Text parts of array contents are joined; an assistant message with tool_calls becomes one
// ChatMessage per call (content: its arguments, tool_name and tool_call_id set); a tool message
// gets the name of the call it answers.
bool ParseChatRequest(const nlohmann::json& body, ChatRequest* out, std::string* error,
                      std::string* param);

// One streamed chunk: {"id","object":"chat.completion.chunk","created","model","choices":[...]}
// with `delta` and `finish_reason` (null when empty) for choice 0; with `usage` non-null, the
// usage-only chunk (choices: []).
std::string ChunkJson(std::string_view id, int64_t created, std::string_view model,
                      const nlohmann::json& delta, std::string_view finish_reason,
                      const nlohmann::json& usage = nullptr);

// A tool call's arguments in the pieces they are streamed in: at most `piece_bytes` each, never
// splitting a UTF-8 character; concatenated they equal `arguments`.
std::vector<std::string> SplitArguments(std::string_view arguments, size_t piece_bytes);

void HandleChat(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                std::shared_ptr<agent::HttpResponder> responder);
void HandleModels(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                  std::shared_ptr<agent::HttpResponder> responder);

}  // namespace callsim::fakes::wire
