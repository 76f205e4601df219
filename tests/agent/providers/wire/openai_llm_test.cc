#include "agent/providers/wire/openai_llm.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/pipeline/conversation_history.h"
#include "agent/runtime/realtime_scheduler.h"
#include "tests/agent/providers/wire/wire_test_servers.h"

namespace callsim::agent::wire {
namespace {

using namespace test;  // NOLINT

std::string Content(std::string_view text, std::string_view finish = "") {
  nlohmann::json chunk = {
      {"id", "chatcmpl-1"},
      {"object", "chat.completion.chunk"},
      {"choices",
       {{{"index", 0},
         {"delta", text.empty() ? nlohmann::json::object() : nlohmann::json{{"content", text}}},
         {"finish_reason", finish.empty() ? nlohmann::json(nullptr) : nlohmann::json(finish)}}}}};
  return Data(chunk.dump());
}
std::string Usage() {
  return Data(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],)"
              R"("usage":{"prompt_tokens":31,"completion_tokens":3,"total_tokens":34}})");
}
std::string Done() { return "data: [DONE]\n\n"; }

// What a listener heard, in order: "token:<t>", "tool:<id>|<name>|<args>", "done", "error:<e>".
struct Heard {
  std::vector<std::string> events;
  bool Ended() const {
    return !events.empty() && (events.back() == "done" || events.back().rfind("error:", 0) == 0);
  }
  std::vector<std::string> Tokens() const {
    std::vector<std::string> tokens;
    for (const std::string& e : events) {
      if (e.rfind("token:", 0) == 0) tokens.push_back(e.substr(6));
    }
    return tokens;
  }
};

LlmListener Listen(Heard* heard) {
  LlmListener listener;
  listener.on_token = [heard](const std::string& t) { heard->events.push_back("token:" + t); };
  listener.on_tool_call = [heard](const ToolCallRequest& call) {
    heard->events.push_back("tool:" + call.id + "|" + call.name + "|" + call.arguments_json);
  };
  listener.on_done = [heard] { heard->events.push_back("done"); };
  listener.on_error = [heard](const std::string& e) { heard->events.push_back("error:" + e); };
  return listener;
}

ChatMessage Msg(std::string role, std::string content, std::string tool_name = "",
                std::string tool_call_id = "") {
  return ChatMessage{std::move(role), std::move(content), std::move(tool_name),
                     std::move(tool_call_id)};
}

LlmRequest Hello() {
  LlmRequest request;
  request.messages = {Msg("system", "Be brief."), Msg("user", "Hello")};
  return request;
}

class WireOpenAiLlm : public ::testing::Test {
 protected:
  OpenAiLlmConfig Config() {
    OpenAiLlmConfig config;
    config.endpoint.url = server.Base("/v1");
    config.endpoint.model = "gpt-test";
    config.endpoint.api_key = "sk-test";
    return config;
  }
  // Serves `script` to every request.
  void Serve(Script script) {
    server.handler = [script](const ReceivedRequest&) { return script; };
  }

  boost::asio::io_context io;
  RealtimeScheduler scheduler{io};
  ScriptedHttpServer server{io};
};

TEST_F(WireOpenAiLlm, TextTokensArriveInOrder) {
  Serve({{SseHead()},
         {Chunk(Data(R"({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"))},
         {Chunk(Content("Hel")), 5},
         {Chunk(Content("lo") + Content(" world")), 5},  // two events in one chunk
         {Chunk(Content("", "stop") + Usage())},
         {Chunk(Done()) + LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events,
            std::vector<std::string>({"token:Hel", "token:lo", "token: world", "done"}));
  EXPECT_EQ(llm.stats().prompt_tokens, 31u);
  EXPECT_EQ(llm.stats().completion_tokens, 3u);
  RunFor(io, 30);
  EXPECT_EQ(heard.events.size(), 4u);
}

TEST_F(WireOpenAiLlm, ToolCallArgumentsInThreePieces) {
  auto fragment = [](const nlohmann::json& call, std::string_view finish = "") {
    nlohmann::json delta = {{"tool_calls", nlohmann::json::array({call})}};
    return Chunk(Data(nlohmann::json{{"id", "c"},
                                     {"choices",
                                      {{{"index", 0},
                                        {"delta", delta},
                                        {"finish_reason", finish.empty()
                                                              ? nlohmann::json(nullptr)
                                                              : nlohmann::json(finish)}}}}}
                          .dump()));
  };
  Serve({{SseHead()},
         {fragment({{"index", 0},
                    {"id", "call_abc"},
                    {"type", "function"},
                    {"function", {{"name", "lookup_order"}, {"arguments", ""}}}})},
         {fragment({{"index", 0},
                    {"id", nullptr},
                    {"function", {{"name", nullptr}, {"arguments", "{\"order"}}}})},
         {fragment({{"index", 0}, {"function", {{"arguments", "_id\": \"A"}}}})},
         {fragment({{"index", 0}, {"function", {{"arguments", "17\"}"}}}})},
         {Chunk(Data(R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})")) +
          Chunk(Usage()) + Chunk(Done()) + LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>(
                              {"tool:call_abc|lookup_order|{\"order_id\": \"A17\"}", "done"}));
}

TEST_F(WireOpenAiLlm, RateLimitedNamesTheStatusMessageAndRetryAfter) {
  const std::string body =
      R"({"error":{"message":"Rate limit reached for gpt-test","type":"requests","param":null,"code":"rate_limit_exceeded"}})";
  Serve({{Response(429, "Too Many Requests", "Content-Type: application/json\r\nretry-after-ms: 1500\r\nRetry-After: 2\r\n", body)}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>(
                              {"error:HTTP 429: Rate limit reached for gpt-test (retry after 1.5 s)"}));
  EXPECT_EQ(llm.stats().errors, 1u);

  // Retry-After alone, in seconds; a body that is not JSON is quoted.
  Serve({{Response(503, "Service Unavailable", "Retry-After: 2\r\n", "upstream busy\n")}});
  Heard second;
  auto stream2 = llm.Start(Hello(), Listen(&second));
  ASSERT_TRUE(RunUntil(io, [&] { return second.Ended(); }));
  EXPECT_EQ(second.events,
            std::vector<std::string>({"error:HTTP 503: upstream busy (retry after 2 s)"}));
}

TEST_F(WireOpenAiLlm, ErrorEventMidStream) {
  Serve({{SseHead()},
         {Chunk(Content("Let me"))},
         {Chunk("event: error\ndata: {\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}\n\n")},
         {Chunk(Content(" never")) + LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  RunFor(io, 30);
  EXPECT_EQ(heard.events, std::vector<std::string>(
                              {"token:Let me", "error:stream error: The server is overloaded"}));
}

TEST_F(WireOpenAiLlm, ChunkWithAnErrorKey) {
  Serve({{SseHead()},
         {Chunk(Data(R"({"error":{"message":"context length exceeded","code":"context_length_exceeded"}})")) +
          LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events,
            std::vector<std::string>({"error:stream error: context length exceeded"}));
}

TEST_F(WireOpenAiLlm, DroppedStreamEndsEarly) {
  Serve({{SseHead()}, {Chunk(Content("Half"))}, {Chunk(Content(" a")), 5, /*close=*/true}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  ASSERT_EQ(heard.events.size(), 3u);
  EXPECT_EQ(heard.Tokens(), std::vector<std::string>({"Half", " a"}));
  EXPECT_EQ(heard.events[2].rfind("error:stream ended early: connection closed", 0), 0u)
      << heard.events[2];
}

TEST_F(WireOpenAiLlm, BodyEndingWithoutFinishReasonEndsEarly) {
  Serve({{SseHead()}, {Chunk(Content("Half")) + LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events,
            std::vector<std::string>(
                {"token:Half",
                 "error:stream ended early: the body ended without finish_reason or [DONE]"}));
}

TEST_F(WireOpenAiLlm, FinishReasonThenEofWithoutDoneIsDone) {
  // A server that closes the connection (no Content-Length, no chunking) after the finish.
  Serve({{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"},
         {Content("Bye") + Content("", "stop"), 0, /*close=*/true}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>({"token:Bye", "done"}));
}

TEST_F(WireOpenAiLlm, CancelMidStreamClosesTheConnectionAndSilences) {
  Serve({{SseHead()}, {Chunk(Content("One"))}, {Chunk(Content(" two")), 150}, {Chunk(Done()) + LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return !heard.events.empty(); }));
  stream->Cancel();
  EXPECT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 1; }));
  RunFor(io, 250);
  EXPECT_EQ(heard.events, std::vector<std::string>({"token:One"}));
  stream.reset();
  RunFor(io, 20);
  EXPECT_EQ(heard.events.size(), 1u);
  EXPECT_EQ(llm.http().idle_connections(), 0u);  // never pooled
}

TEST_F(WireOpenAiLlm, DestroyingTheStreamFromItsOwnCallback) {
  Serve({{SseHead()}, {Chunk(Content("One") + Content(" two")), 0}, {Chunk(Done()) + LastChunk(), 50}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard heard;
  std::unique_ptr<LlmStream> stream;
  LlmListener listener = Listen(&heard);
  listener.on_token = [&](const std::string& t) {
    heard.events.push_back("token:" + t);
    stream.reset();  // the agent drops the stream from inside a callback
  };
  stream = llm.Start(Hello(), listener);
  ASSERT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 1; }));
  RunFor(io, 100);
  EXPECT_EQ(heard.events, std::vector<std::string>({"token:One"}));
}

TEST_F(WireOpenAiLlm, RequestBodyAndHeaders) {
  Serve({{SseHead()}, {Chunk(Content("ok", "stop") + Done()) + LastChunk()}});
  OpenAiLlmConfig config = Config();
  config.endpoint.headers = {{"X-Callsim-Call-Id", "call-7"}, {"X-Callsim-Seed", "42"}};
  config.tools = nlohmann::json::parse(R"([{"type":"function","function":{
      "name":"lookup_order","description":"Find an order",
      "parameters":{"type":"object","properties":{"order_id":{"type":"string"}},
                    "required":["order_id"]}}}])");
  OpenAiLlm llm(io, scheduler, config);
  ASSERT_EQ(llm.config_error(), "");
  LlmRequest request;
  request.messages = {Msg("system", "You help with orders."), Msg("user", "Where is order A17?")};
  for (ChatMessage& m : ConversationHistory::ToolExchange(
           ToolCallRequest{"call_abc", "lookup_order", R"({"order_id":"A17"})"},
           R"({"status":"shipped"})")) {
    request.messages.push_back(m);
  }
  request.messages.push_back(Msg("assistant", "It shipped."));
  request.messages.push_back(Msg("user", "Thanks"));
  Heard heard;
  auto stream = llm.Start(request, Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  ASSERT_EQ(server.requests.size(), 1u);
  const ReceivedRequest& got = server.requests[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/v1/chat/completions");
  EXPECT_EQ(got.Header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(got.Header("Content-Type"), "application/json");
  EXPECT_EQ(got.Header("X-Callsim-Call-Id"), "call-7");
  EXPECT_EQ(got.Header("X-Callsim-Seed"), "42");
  EXPECT_EQ(got.Header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  const nlohmann::json body = nlohmann::json::parse(got.body);
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "model": "gpt-test",
    "stream": true,
    "stream_options": {"include_usage": true},
    "parallel_tool_calls": false,
    "messages": [
      {"role": "system", "content": "You help with orders."},
      {"role": "user", "content": "Where is order A17?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
        "function": {"name": "lookup_order", "arguments": "{\"order_id\":\"A17\"}"}}]},
      {"role": "tool", "tool_call_id": "call_abc", "content": "{\"status\":\"shipped\"}"},
      {"role": "assistant", "content": "It shipped."},
      {"role": "user", "content": "Thanks"}
    ]})");
  nlohmann::json without_tools = body;
  without_tools.erase("tools");
  EXPECT_EQ(without_tools, expected) << body.dump(2);
  EXPECT_EQ(body["tools"], config.tools);
}

TEST_F(WireOpenAiLlm, NoToolsAndNoKeyLeaveThemOut) {
  Serve({{SseHead()}, {Chunk(Content("ok", "stop") + Done()) + LastChunk()}});
  OpenAiLlmConfig config = Config();
  config.endpoint.api_key = "";
  OpenAiLlm llm(io, scheduler, config);
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  ASSERT_EQ(server.requests.size(), 1u);
  const nlohmann::json body = nlohmann::json::parse(server.requests[0].body);
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("parallel_tool_calls"));
  EXPECT_EQ(server.requests[0].Header("Authorization"), "");
}

TEST_F(WireOpenAiLlm, SequentialRequestsShareOneConnection) {
  Serve({{SseHead()}, {Chunk(Content("Hi", "stop"))}, {Chunk(Done())}, {LastChunk()}});
  OpenAiLlm llm(io, scheduler, Config());
  for (int i = 0; i < 2; ++i) {
    Heard heard;
    auto stream = llm.Start(Hello(), Listen(&heard));
    ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
    EXPECT_EQ(heard.events, std::vector<std::string>({"token:Hi", "done"}));
    stream.reset();  // after on_done: the rest of the body is drained, the connection pooled
    ASSERT_TRUE(RunUntil(io, [&] { return llm.http().idle_connections() == 1; }));
  }
  ASSERT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.connections_accepted, 1);
  EXPECT_EQ(server.requests[1].connection, 1);
  EXPECT_EQ(llm.http().connections_opened(), 1u);
  EXPECT_EQ(llm.http().requests_on_reused_connections(), 1u);
}

TEST_F(WireOpenAiLlm, CancelledRequestsConnectionIsNotReused) {
  Serve({{SseHead()}, {Chunk(Content("Hi"))}, {Chunk(Content("", "stop") + Done()) + LastChunk(), 100}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard first;
  auto stream = llm.Start(Hello(), Listen(&first));
  ASSERT_TRUE(RunUntil(io, [&] { return !first.events.empty(); }));
  stream.reset();  // cancelled before done
  Heard second;
  auto stream2 = llm.Start(Hello(), Listen(&second));
  ASSERT_TRUE(RunUntil(io, [&] { return second.Ended(); }));
  EXPECT_EQ(second.events, std::vector<std::string>({"token:Hi", "done"}));
  EXPECT_EQ(server.connections_accepted, 2);
  EXPECT_EQ(first.events, std::vector<std::string>({"token:Hi"}));
}

TEST_F(WireOpenAiLlm, StalePooledConnectionIsReplacedOnce) {
  // The server closes each connection right after its response: the pooled one is dead when the
  // second request comes.
  Serve({{SseHead()}, {Chunk(Content("Hi", "stop") + Done()) + LastChunk()}, {"", 20, true}});
  OpenAiLlm llm(io, scheduler, Config());
  Heard first;
  auto stream = llm.Start(Hello(), Listen(&first));
  ASSERT_TRUE(RunUntil(io, [&] { return first.Ended(); }));
  stream.reset();
  ASSERT_TRUE(RunUntil(io, [&] { return llm.http().idle_connections() == 1; }));
  RunFor(io, 60);  // the server closes it
  Heard second;
  auto stream2 = llm.Start(Hello(), Listen(&second));
  ASSERT_TRUE(RunUntil(io, [&] { return second.Ended(); }));
  EXPECT_EQ(second.events, std::vector<std::string>({"token:Hi", "done"}));
  EXPECT_EQ(server.connections_accepted, 2);
  EXPECT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(llm.http().requests_on_reused_connections(), 1u);  // tried, found stale
  EXPECT_EQ(llm.http().connections_opened(), 2u);
}

TEST_F(WireOpenAiLlm, NoResponseWithinTheTimeout) {
  Serve({{SseHead(), 2000}});
  OpenAiLlmConfig config = Config();
  config.endpoint.response_timeout_ms = 100;
  OpenAiLlm llm(io, scheduler, config);
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>({"error:no response within 100 ms"}));
}

TEST_F(WireOpenAiLlm, StalledStreamHitsTheIdleTimeout) {
  Serve({{SseHead()}, {Chunk(Content("Hi"))}, {Chunk(Done()), 2000}});
  OpenAiLlmConfig config = Config();
  config.endpoint.idle_timeout_ms = 100;
  OpenAiLlm llm(io, scheduler, config);
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>(
                              {"token:Hi", "error:stream ended early: no data for 100 ms"}));
}

TEST_F(WireOpenAiLlm, ConnectionRefused) {
  OpenAiLlmConfig config = Config();
  uint16_t closed_port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  config.endpoint.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/v1";
  OpenAiLlm llm(io, scheduler, config);
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  ASSERT_EQ(heard.events.size(), 1u);
  EXPECT_EQ(heard.events[0], "error:connect to 127.0.0.1:" + std::to_string(closed_port) +
                                 ": Connection refused");
}

TEST_F(WireOpenAiLlm, BadConfigFailsEveryStreamLater) {
  OpenAiLlmConfig config = Config();
  config.endpoint.url = "ftp://example.com/v1";
  OpenAiLlm llm(io, scheduler, config);
  EXPECT_EQ(llm.config_error(),
            "OpenAI LLM: url \"ftp://example.com/v1\": unsupported scheme \"ftp\" (expected "
            "http://, https://, ws:// or wss://)");
  Heard heard;
  auto stream = llm.Start(Hello(), Listen(&heard));
  EXPECT_TRUE(heard.events.empty());  // never from inside Start()
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>({"error:" + llm.config_error()}));
}

TEST(WireOpenAiLlmConfig, Validation) {
  OpenAiLlmConfig config;
  config.endpoint.url = "https://api.openai.com/v1";
  config.endpoint.model = "gpt-4o-mini";
  EXPECT_EQ(ValidateConfig(config), "");
  config.endpoint.url = "wss://api.openai.com/v1";
  EXPECT_EQ(ValidateConfig(config),
            "OpenAI LLM: url \"wss://api.openai.com/v1\": scheme wss:// is not supported here "
            "(expected http://, https://)");
  config.endpoint.url = "https://api.openai.com/v1?key=secret";
  EXPECT_EQ(ValidateConfig(config),
            "OpenAI LLM: url \"https://api.openai.com/v1?key=***\": a base URL has no query "
            "string (keys go in api_key or headers)");
  config.endpoint.url = "https://api.openai.com:99999/v1";
  EXPECT_EQ(ValidateConfig(config),
            "OpenAI LLM: url \"https://api.openai.com:99999/v1\": bad port \"99999\" (expected "
            "1-65535)");
  config.endpoint.url = "https://api.openai.com/v1";
  config.endpoint.model = "";
  EXPECT_EQ(ValidateConfig(config), "OpenAI LLM: no model given");
  config.endpoint.model = "m";
  config.endpoint.response_timeout_ms = 0;
  EXPECT_EQ(ValidateConfig(config),
            "OpenAI LLM: response_timeout_ms 0 is out of range (1 to 600000 ms)");
  config.endpoint.response_timeout_ms = 1000;
  config.endpoint.headers = {{"X-Bad\n", "v"}};
  EXPECT_NE(ValidateConfig(config).find("bad header name"), std::string::npos);
  config.endpoint.headers = {};
  config.tools = nlohmann::json::parse(R"([{"type":"function","function":{}}])");
  EXPECT_EQ(ValidateConfig(config), "OpenAI LLM: tools[0] has no function.name");
  config.tools = nlohmann::json::object();
  EXPECT_EQ(ValidateConfig(config), "OpenAI LLM: tools must be a JSON array");
}

TEST(WireOpenAiLlmConfig, MessagesWithoutToolCallIdsGetMatchingIds) {
  const nlohmann::json messages = OpenAiMessages({Msg("user", "hi"),
                                                  Msg("assistant", "{}", "get_time", ""),
                                                  Msg("tool", "{\"t\":1}", "get_time", "")});
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[1]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(messages[2]["tool_call_id"], "call_1");
  EXPECT_TRUE(messages[1]["content"].is_null());
}

}  // namespace
}  // namespace callsim::agent::wire
