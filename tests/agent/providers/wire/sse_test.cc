#include "agent/providers/wire/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent::wire {
namespace {

// The stream of OpenAI's Chat Completions streaming docs (stream_options.include_usage): a role
// chunk, content chunks, the finish chunk, the usage chunk with "choices": [] and [DONE].
const std::vector<std::string> kOpenAiChunks = {
    R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"!"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})",
    R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})",
    "[DONE]",
};

// The function-calling guide's streamed tool call: id and name first, then the arguments in
// pieces with null id and name.
const std::vector<std::string> kToolCallChunks = {
    R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"type":null,"function":{"name":null,"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"location\": \"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]})",
    "[DONE]",
};

std::string Stream(const std::vector<std::string>& chunks, const std::string& eol) {
  std::string stream;
  for (const std::string& chunk : chunks) stream += "data: " + chunk + eol + eol;
  return stream;
}

std::vector<std::string> Datas(const std::vector<SseEvent>& events) {
  std::vector<std::string> datas;
  for (const SseEvent& event : events) datas.push_back(event.data);
  return datas;
}

// Feeds `stream` split into two pieces at every byte boundary, and byte by byte, and checks each
// gives `expected`.
void ExpectEverySplit(const std::string& stream, const std::vector<std::string>& expected) {
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser parser;
    std::vector<SseEvent> events;
    ASSERT_TRUE(parser.Feed(std::string_view(stream).substr(0, cut), &events));
    ASSERT_TRUE(parser.Feed(std::string_view(stream).substr(cut), &events));
    ASSERT_EQ(Datas(events), expected) << "split at byte " << cut;
    EXPECT_FALSE(parser.has_partial_event());
  }
  SseParser parser;
  std::vector<SseEvent> events;
  for (const char c : stream) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1), &events));
  EXPECT_EQ(Datas(events), expected);
}

TEST(WireSse, OpenAiStreamSplitAtEveryByte) {
  ExpectEverySplit(Stream(kOpenAiChunks, "\n"), kOpenAiChunks);
}

TEST(WireSse, ToolCallStreamSplitAtEveryByte) {
  ExpectEverySplit(Stream(kToolCallChunks, "\n"), kToolCallChunks);
}

TEST(WireSse, CrLfAndCrLineEndingsSplitAtEveryByte) {
  ExpectEverySplit(Stream(kOpenAiChunks, "\r\n"), kOpenAiChunks);
  ExpectEverySplit(Stream(kOpenAiChunks, "\r"), kOpenAiChunks);
  // Mixed within one stream.
  const std::string mixed = "data: a\r\n\r\ndata: b\r\rdata: c\n\r\ndata: d\n\n";
  ExpectEverySplit(mixed, {"a", "b", "c", "d"});
}

TEST(WireSse, FieldsCommentsAndMultiLineData) {
  SseParser parser;
  std::vector<SseEvent> events;
  const std::string stream =
      ": keep-alive comment\n"
      "event: delta\n"
      "id: 7\n"
      "data:first\n"          // no space after the colon
      "data:  second\n"       // only one space is dropped
      "data\n"                // no colon: an empty data line
      "retry: 1000\n"         // ignored
      "unknown: field\n"      // ignored
      "\n"
      ":only a comment\n"
      "\n"                    // no fields: no event
      "event: error\n"
      "\n";                   // an event type without data is still delivered
  ASSERT_TRUE(parser.Feed(stream, &events));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].data, "first\n second\n");
  EXPECT_EQ(events[1].event, "error");
  EXPECT_EQ(events[1].data, "");
  EXPECT_EQ(parser.events_parsed(), 2u);
}

TEST(WireSse, UnfinishedEventIsPartial) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: {\"a\":1}\n", &events));
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(parser.has_partial_event());
  ASSERT_TRUE(parser.Feed("\n", &events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_FALSE(parser.has_partial_event());
}

TEST(WireSse, ByteOrderMarkAtTheStartIsSkipped) {
  const std::string stream = "\xEF\xBB\xBF" "data: x\n\n";
  ExpectEverySplit(stream, {"x"});
  // Not at the start: part of the field name, so not a data line.
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: a\n\n\xEF\xBB\xBF" "data: b\n\n", &events));
  EXPECT_EQ(Datas(events), std::vector<std::string>({"a"}));
}

TEST(WireSse, EventOverTheBoundIsAnError) {
  SseParser parser(64);
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: small\n\n", &events));
  // Two lines of 40 bytes: each fits, the event does not.
  EXPECT_FALSE(parser.Feed("data: " + std::string(34, 'x') + "\ndata: " + std::string(34, 'y') +
                               "\n\n",
                           &events));
  EXPECT_EQ(parser.error(), "event over 64 bytes");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "small");
  // One line over the bound, arriving in pieces, also fails.
  SseParser one_line(64);
  EXPECT_TRUE(one_line.Feed("data: " + std::string(40, 'z'), &events));
  EXPECT_FALSE(one_line.Feed(std::string(40, 'z'), &events));
  // Everything after a failure is refused.
  EXPECT_FALSE(one_line.Feed("\n\ndata: ok\n\n", &events));
  EXPECT_EQ(events.size(), 1u);
}

}  // namespace
}  // namespace callsim::agent::wire
