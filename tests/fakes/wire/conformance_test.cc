// The fake providers' messages against examples from the providers' public API references: every
// field an example has, ours has too, with the same JSON type (recursively; arrays by their first
// element). Extra fields of ours are allowed (clients ignore what they do not know), missing or
// retyped ones are not. The examples are quoted as the references show them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/stt/modem_stt.h"
#include "fakes/wire/deepgram_live.h"
#include "fakes/wire/openai_chat.h"
#include "fakes/wire/openai_speech.h"
#include "fakes/wire/provider_state.h"
#include "tests/fakes/wire/provider_fixture.h"

namespace callsim::fakes::wire {
namespace {

using nlohmann::json;
using namespace testing;

// Where `ours` lacks a field of `example` or has it with another type; empty when it conforms.
// A null in the example matches anything (the field is nullable). Inside a `delta` every field is
// optional (a chunk carries only what changed), but one that is there must have the example's type.
void Compare(const json& example, const json& ours, const std::string& at,
             std::vector<std::string>* problems, bool optional = false) {
  if (example.is_null()) return;
  const bool both_numbers = example.is_number() && ours.is_number();
  if (example.type() != ours.type() && !both_numbers && !ours.is_null()) {
    problems->push_back(at + ": " + example.type_name() + " in the example, " + ours.type_name() +
                        " here");
    return;
  }
  if (example.is_object()) {
    for (const auto& [key, value] : example.items()) {
      if (!ours.contains(key)) {
        if (!optional) problems->push_back(at + "." + key + ": missing");
        continue;
      }
      Compare(value, ours[key], at + "." + key, problems, key == "delta");
    }
  } else if (example.is_array() && !example.empty() && !ours.empty()) {
    Compare(example[0], ours[0], at + "[0]", problems);
  }
}

std::vector<std::string> Conform(const char* example, const json& ours) {
  std::vector<std::string> problems;
  Compare(json::parse(example), ours, "$", &problems);
  return problems;
}

// platform.openai.com/docs/api-reference/chat-streaming/streaming: "The chat completion chunk
// object".
constexpr const char* kOpenAiChunk = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb", "choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})";
// The same page: a tool call's first fragment (from the function-calling guide's streaming
// example).
constexpr const char* kOpenAiToolChunk = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})";
// The usage chunk with stream_options.include_usage.
constexpr const char* kOpenAiUsageChunk = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}})";
// platform.openai.com/docs/api-reference/models/list
constexpr const char* kOpenAiModels = R"({"object": "list","data": [{"id": "model-id-0","object": "model","created": 1686935002,"owned_by": "organization-owner"}]})";
// platform.openai.com/docs/guides/error-codes: an error body.
constexpr const char* kOpenAiError = R"({"error": {"message": "Incorrect API key provided: sk-abc.","type": "invalid_request_error","param": null,"code": "invalid_api_key"}})";

// developers.deepgram.com/reference/speech-to-text/listen-streaming: the Results message.
constexpr const char* kDeepgramResults = R"({"type": "Results","channel_index": [0, 1],"duration": 1.98,"start": 5.99,"is_final": true,"speech_final": true,"channel": {"alternatives": [{"transcript": "Tell me more about this.","confidence": 0.99964225,"words": [{"word": "tell","start": 6.0699997,"end": 6.3499994,"confidence": 0.99782443,"punctuated_word": "Tell"}]}]},"metadata": {"request_id": "52cc0efe-fa77-4aa7-b79c-0dda09de2f14","model_info": {"name": "2-general-nova","version": "2024-01-18.26916","arch": "nova-2"},"model_uuid": "c0d1a568-ce81-4fea-97e7-bd45cb1fdf3c"},"from_finalize": false})";
// The same reference: Metadata, UtteranceEnd and SpeechStarted.
constexpr const char* kDeepgramMetadata = R"({"type": "Metadata","transaction_key": "deprecated","request_id": "8c8ebea9-dbec-45fa-a035-e4632cb05b5f","sha256": "154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33","created": "2024-02-06T19:56:16.180Z","duration": 0.0,"channels": 0})";
constexpr const char* kDeepgramUtteranceEnd = R"({"type": "UtteranceEnd","channel": [0, 1],"last_word_end": 2.395})";
constexpr const char* kDeepgramSpeechStarted = R"({"type": "SpeechStarted","channel": [0],"timestamp": 9.54})";
// developers.deepgram.com/docs/errors: an error body (the handshake's 401).
constexpr const char* kDeepgramError = R"({"err_code": "INVALID_AUTH","err_msg": "Invalid credentials.","request_id": "uuid"})";

// Every chunk of a streamed text answer and of a streamed tool call, as the handler wrote them.
TEST(ProviderConformance, OpenAiChunks) {
  Fixture f;
  auto text = f.Chat(Post("/v1/chat/completions", UserChat("can i talk to a person")));
  auto tool = f.Chat(Post("/v1/chat/completions", UserChat("where is my order")));
  std::vector<std::string> events = text->Events();
  const std::vector<std::string> tool_events = tool->Events();
  ASSERT_GT(events.size(), 4u);
  ASSERT_EQ(events.back(), "[DONE]");
  const json usage = json::parse(events[events.size() - 2]);
  EXPECT_EQ(Conform(kOpenAiUsageChunk, usage), std::vector<std::string>{});
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    EXPECT_EQ(Conform(kOpenAiChunk, json::parse(events[i])), std::vector<std::string>{}) << events[i];
  }
  bool first_fragment = true;
  for (const std::string& e : tool_events) {
    if (e == "[DONE]") continue;
    const json chunk = json::parse(e);
    if (chunk["choices"].empty() || !chunk["choices"][0]["delta"].contains("tool_calls")) continue;
    if (first_fragment) {
      EXPECT_EQ(Conform(kOpenAiToolChunk, chunk), std::vector<std::string>{}) << e;
      first_fragment = false;
    }
  }
  EXPECT_FALSE(first_fragment);
  EXPECT_EQ(json::parse(events[events.size() - 3])["choices"][0]["finish_reason"], "stop");
}

TEST(ProviderConformance, OpenAiErrorAndModels) {
  FakeProvidersConfig c = Config();
  c.api_keys = {"sk-0123456789abcdef"};
  Fixture f(c);
  auto refused = f.Chat(Post("/v1/chat/completions", UserChat("hi"), {{"Authorization", "Bearer x"}}));
  EXPECT_EQ(refused->status_, 401);
  EXPECT_EQ(Conform(kOpenAiError, json::parse(refused->body_)), std::vector<std::string>{});
  auto models = std::make_shared<RecordingResponder>(f.scheduler);
  agent::HttpRequest list;
  list.method = "GET";
  list.target = list.path = "/v1/models";
  list.headers = {{"Authorization", "Bearer sk-0123456789abcdef"}};
  HandleModels(f.state, list, models);
  EXPECT_EQ(models->status_, 200);
  EXPECT_EQ(Conform(kOpenAiModels, json::parse(models->body_)), std::vector<std::string>{});
}

TEST(ProviderConformance, DeepgramMessages) {
  ListenFixture f(
      "encoding=linear16&sample_rate=16000&interim_results=true&vad_events=true&endpointing=300"
      "&utterance_end_ms=1000");
  f.Send(Speech("tell me more", 1.5));
  f.session->OnText(R"({"type":"CloseStream"})");
  f.scheduler.RunAll(1000);
  for (const char* type : {"Results", "Metadata", "UtteranceEnd", "SpeechStarted"}) {
    EXPECT_FALSE(f.OfType(type).empty()) << type;
  }
  for (const json& m : f.OfType("Results")) {
    if (m["channel"]["alternatives"][0]["words"].empty()) continue;  // the close's empty final
    EXPECT_EQ(Conform(kDeepgramResults, m), std::vector<std::string>{}) << m.dump();
  }
  for (const json& m : f.OfType("Metadata")) {
    EXPECT_EQ(Conform(kDeepgramMetadata, m), std::vector<std::string>{}) << m.dump();
  }
  for (const json& m : f.OfType("UtteranceEnd")) {
    EXPECT_EQ(Conform(kDeepgramUtteranceEnd, m), std::vector<std::string>{}) << m.dump();
  }
  for (const json& m : f.OfType("SpeechStarted")) {
    EXPECT_EQ(Conform(kDeepgramSpeechStarted, m), std::vector<std::string>{}) << m.dump();
  }
  // The handshake's refusal.
  FakeProvidersConfig c = Config();
  c.api_keys = {"dg-0123456789abcdef"};
  auto state = std::make_shared<FakeProviders::State>(c);
  agent::HttpRequest upgrade;
  upgrade.method = "GET";
  upgrade.target = "/v1/listen?encoding=linear16&sample_rate=16000";
  upgrade.path = "/v1/listen";
  upgrade.headers = {{"Authorization", "Token wrong"}};
  const std::optional<agent::HttpAnswer> answer = AdmitListen(state, upgrade);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 401);
  EXPECT_EQ(Conform(kDeepgramError, json::parse(answer->body)), std::vector<std::string>{});
  upgrade.headers = {{"Authorization", "Token dg-0123456789abcdef"}};
  EXPECT_FALSE(AdmitListen(state, upgrade));
}

TEST(ProviderConformance, TheComparisonCatchesAMissingOrRetypedField) {
  json chunk = json::parse(ChunkJson("c", 1, "m", {{"content", "x"}}, ""));
  chunk["choices"][0].erase("index");
  chunk["created"] = "yesterday";
  const std::vector<std::string> problems = Conform(kOpenAiChunk, chunk);
  EXPECT_EQ(problems, (std::vector<std::string>{"$.choices[0].index: missing",
                                                "$.created: number in the example, string here"}));
  chunk = json::parse(ChunkJson("c", 1, "m", {{"role", 7}}, ""));
  EXPECT_EQ(Conform(kOpenAiChunk, chunk),
            (std::vector<std::string>{"$.choices[0].delta.role: string in the example, number here"}));
}

}  // namespace
}  // namespace callsim::fakes::wire
