// The fake providers' handlers in virtual time (no socket): a recording HttpResponder and
// StreamIo on a SimScheduler, so every chunk's content and time can be asserted exactly. The
// socket side is tested with the real SDKs (tests/node/provider_sdks.mjs) and end to end
// (tests/cli/wire/wire_providers_test.cc).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/media/soxr_resampler.h"
#include "agent/runtime/sim_scheduler.h"
#include "fakes/modem/word_modem.h"
#include "fakes/wire/deepgram_live.h"
#include "fakes/wire/fake_providers.h"
#include "fakes/wire/openai_chat.h"
#include "fakes/wire/openai_speech.h"
#include "fakes/wire/provider_state.h"
#include "tests/fakes/wire/provider_fixture.h"

namespace callsim::fakes::wire {
namespace {

using nlohmann::json;
using namespace testing;

TEST(FakeChat, StreamsTokensAtTheModelledTimes) {
  Fixture f;
  auto r = f.Chat(Post("/v1/chat/completions", UserChat("can i talk to a person")));
  EXPECT_EQ(r->status_, 200);
  EXPECT_EQ(r->Header("Content-Type"), "text/event-stream; charset=utf-8");
  ASSERT_TRUE(r->complete_);
  const std::vector<std::string> events = r->Events();
  // role chunk, 6 tokens, the finish chunk, usage, [DONE]
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(json::parse(events[0])["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (size_t i = 1; i <= 6; ++i) text += json::parse(events[i])["choices"][0]["delta"]["content"];
  EXPECT_EQ(text, "Let me find someone for you.");
  EXPECT_EQ(json::parse(events[7])["choices"][0]["finish_reason"], "stop");
  const json usage = json::parse(events[8]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 6);
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 6);
  EXPECT_EQ(events[9], "[DONE]");
  // The head with the first token at the time to first token; then one token per 20 ms.
  EXPECT_EQ(r->begun_at_, 200000);
  EXPECT_EQ(r->at_[1], 200000);
  EXPECT_EQ(r->at_[6], 300000);
}

TEST(FakeChat, StreamsAToolCallsArgumentsInPieces) {
  Fixture f;
  auto r = f.Chat(Post("/v1/chat/completions", UserChat("where is my order")));
  std::string arguments;
  std::string name;
  std::string id;
  int pieces = 0;
  std::string finish;
  for (const std::string& e : r->Events()) {
    if (e == "[DONE]") continue;
    const json chunk = json::parse(e);
    if (chunk["choices"].empty()) continue;
    const json& choice = chunk["choices"][0];
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    if (!choice["delta"].contains("tool_calls")) continue;
    const json& call = choice["delta"]["tool_calls"][0];
    EXPECT_EQ(call["index"], 0);
    if (call.contains("id")) {
      EXPECT_TRUE(id.empty());  // only the first fragment names the call
      id = call["id"];
      name = call["function"]["name"];
    }
    const std::string piece = call["function"]["arguments"];
    if (!piece.empty()) ++pieces;
    arguments += piece;
  }
  EXPECT_EQ(name, "check_order_status");
  EXPECT_EQ(id.rfind("call_", 0), 0u);
  EXPECT_EQ(id.size(), 29u);  // as OpenAI's: "call_" and 24 characters
  EXPECT_EQ(arguments, R"({"order_id":"4567"})");
  EXPECT_EQ(pieces, 3);
  EXPECT_EQ(finish, "tool_calls");
}

TEST(FakeChat, AnswersAToolResultWithTheAfterToolRule) {
  Fixture f;
  json body = UserChat("where is my order", false);
  body["messages"].push_back(
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls",
        json::array({{{"id", "call_9"},
                      {"type", "function"},
                      {"function", {{"name", "check_order_status"}, {"arguments", "{}"}}}}})}});
  body["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_9"}, {"content", "{}"}});
  auto r = f.Chat(Post("/v1/chat/completions", body));
  ASSERT_EQ(r->status_, 200) << r->body_;
  const json answer = json::parse(r->body_);
  EXPECT_EQ(answer["object"], "chat.completion");
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "It has shipped.");
  EXPECT_EQ(answer["choices"][0]["finish_reason"], "stop");
}

TEST(FakeChat, TheSameCallGetsTheSameAnswerAtTheSameTimes) {
  FakeProvidersConfig c = Config();
  c.llm.ttft = {100, 900, 2000};  // drawn: a different stream would differ
  auto run = [&](const std::string& request_number) {
    Fixture f(c);
    auto r = f.Chat(Post("/v1/chat/completions", UserChat("where is my order"),
                         {{"X-Callsim-Call-Id", "CA1"}, {"X-Callsim-Request", request_number}}));
    std::vector<std::string> events = r->Events();
    for (std::string& e : events) {
      if (e != "[DONE]") {
        json chunk = json::parse(e);
        chunk.erase("created");  // the wall clock
        e = chunk.dump();
      }
    }
    return std::make_pair(events, r->at_);
  };
  const auto a = run("1");
  EXPECT_EQ(a, run("1"));
  EXPECT_NE(a.second, run("2").second);
}

TEST(FakeChat, RefusesAWrongKeyAndBadRequestsInOpenAisShape) {
  FakeProvidersConfig c = Config();
  c.api_keys = {"sk-0123456789abcdef"};
  Fixture f(c);
  auto r = f.Chat(Post("/v1/chat/completions", UserChat("hi"), {{"Authorization", "Bearer nope"}}));
  EXPECT_EQ(r->status_, 401);
  EXPECT_EQ(json::parse(r->body_)["error"]["code"], "invalid_api_key");
  json no_model = UserChat("hi");
  no_model.erase("model");
  r = f.Chat(Post("/v1/chat/completions", no_model,
                  {{"authorization", "bearer sk-0123456789abcdef"}}));
  EXPECT_EQ(r->status_, 400);
  EXPECT_EQ(json::parse(r->body_)["error"]["param"], "model");
  agent::HttpRequest garbage = Post("/v1/chat/completions", {}, {{"Authorization", "Bearer sk-0123456789abcdef"}});
  garbage.body = "{not json";
  r = f.Chat(garbage);
  EXPECT_EQ(r->status_, 400);
  EXPECT_EQ(json::parse(r->body_)["error"]["type"], "invalid_request_error");
}

TEST(FakeChat, FaultsAreAnsweredAsOpenAiAnswersThem) {
  FakeProvidersConfig c = Config();
  c.llm_faults.error_rate = 1;
  c.llm_faults.error_delay = {50, 50, 50};
  auto r = Fixture(c).Chat(Post("/v1/chat/completions", UserChat("hi")));
  EXPECT_EQ(r->status_, 500);
  EXPECT_EQ(r->at_[0], 50000);
  EXPECT_EQ(json::parse(r->body_)["error"]["type"], "server_error");

  c = Config();
  c.llm_faults.outages = {{0, 1000}};
  c.llm_faults.error_delay = {50, 50, 50};
  r = Fixture(c).Chat(Post("/v1/chat/completions", UserChat("hi")));
  EXPECT_EQ(r->status_, 503);

  c = Config();
  c.llm_faults.drop_rate = 1;
  c.llm_faults.drop_max_tokens = 2;
  r = Fixture(c).Chat(Post("/v1/chat/completions", UserChat("can i talk to a person")));
  EXPECT_TRUE(r->aborted_);
  EXPECT_FALSE(r->complete_);
  const std::vector<std::string> events = r->Events();
  EXPECT_GE(events.size(), 2u);  // the role chunk and 1..2 tokens, then the cut
  EXPECT_LE(events.size(), 3u);

  c = Config();
  c.llm_faults.timeout_rate = 1;
  r = Fixture(c).Chat(Post("/v1/chat/completions", UserChat("hi")));
  EXPECT_EQ(r->status_, 0);
  EXPECT_FALSE(r->complete_);
  ASSERT_TRUE(r->on_gone_);  // the connection's end is what releases it
}

TEST(FakeChat, ParsesContentPartsAndRefusesUnknownRoles) {
  ChatRequest chat;
  std::string error;
  std::string param;
  json body = {{"model", "m"},
               {"messages",
                json::array({{{"role", "developer"}, {"content", "be brief"}},
                             {{"role", "user"},
                              {"content", json::array({{{"type", "text"}, {"text", "my"}},
                                                       {{"type", "image_url"}, {"image_url", {}}},
                                                       {{"type", "text"}, {"text", "order"}}})}}})}};
  ASSERT_TRUE(ParseChatRequest(body, &chat, &error, &param)) << error;
  ASSERT_EQ(chat.request.messages.size(), 2u);
  EXPECT_EQ(chat.request.messages[0].role, "system");
  EXPECT_EQ(chat.request.messages[1].content, "my order");
  body["messages"][0]["role"] = "wizard";
  EXPECT_FALSE(ParseChatRequest(body, &chat, &error, &param));
  EXPECT_EQ(param, "messages[0].role");
}

TEST(FakeChat, SplitsArgumentsOnCharacterBoundaries) {
  EXPECT_EQ(SplitArguments(R"({"order_id":"4567"})", 8),
            (std::vector<std::string>{R"({"order_)", R"(id":"456)", R"(7"})"}));
  const std::string accented = "{\"n\":\"\xC3\xA9\xC3\xA9\xC3\xA9\"}";  // three two-byte letters
  std::string joined;
  for (const std::string& piece : SplitArguments(accented, 4)) {
    EXPECT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80) << "a piece starts mid-letter";
    joined += piece;
  }
  EXPECT_EQ(joined, accented);
}

// ---- speech ----

std::string Heard24k(const std::string& bytes) {
  std::vector<int16_t> pcm(bytes.size() / 2);
  for (size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<int16_t>(static_cast<uint8_t>(bytes[2 * i]) |
                                  (static_cast<uint8_t>(bytes[2 * i + 1]) << 8));
  }
  auto resampler = agent::SoxrResampler::Create(24000, 16000, 480, agent::SoxrQuality::kHigh, nullptr);
  ModemDecoder decoder;
  agent::Frame frame;
  pcm.resize(pcm.size() + 480 * 20);  // a trailing pause
  for (size_t at = 0; at + 480 <= pcm.size(); at += 480) {
    resampler->Process(std::span<const int16_t>(pcm.data() + at, 480), frame.samples);
    decoder.Push(frame);
  }
  decoder.Flush();
  std::string words;
  for (const DecodedWord& w : decoder.TakeWords()) words += (words.empty() ? "" : " ") + w.word;
  return words;
}

TEST(FakeSpeech, StreamsPcmThatTheModemDecodes) {
  Fixture f;
  auto r = std::make_shared<RecordingResponder>(f.scheduler);
  HandleSpeech(f.state,
               Post("/v1/audio/speech", {{"model", "tts-1"}, {"voice", "alloy"},
                                         {"input", "four five six seven"},
                                         {"response_format", "pcm"}}),
               r);
  f.scheduler.RunAll(100000);
  EXPECT_EQ(r->status_, 200);
  EXPECT_EQ(r->Header("Content-Type"), "audio/pcm");
  EXPECT_TRUE(r->complete_);
  EXPECT_EQ(r->begun_at_, 100000);  // the time to first byte
  std::string audio;
  for (const std::string& p : r->pieces_) {
    EXPECT_EQ(p.size() % 960, 0u);  // whole 20 ms frames at 24 kHz, 16-bit
    EXPECT_LE(p.size(), 5u * 960);  // at most the 100 ms the TTS delivers at once
    audio += p;
  }
  EXPECT_GT(r->pieces_.size(), 5u);
  EXPECT_EQ(Heard24k(audio), "four five six seven");
  // Faster than real time (the default factor 4), in 100 ms bursts.
  EXPECT_LT(r->at_.back() - r->at_.front(), static_cast<int64_t>(audio.size() / 960) * 20000 / 3);
}

TEST(FakeSpeech, WritesAStreamingWavAndRefusesOtherFormats) {
  const std::string header = StreamingWavHeader();
  ASSERT_EQ(header.size(), 44u);
  EXPECT_EQ(header.substr(0, 4), "RIFF");
  EXPECT_EQ(header.substr(4, 4), std::string(4, '\xFF'));
  EXPECT_EQ(header.substr(36, 4), "data");
  SpeechRequest speech;
  std::string error;
  std::string param;
  EXPECT_FALSE(ParseSpeechRequest({{"model", "tts-1"}, {"voice", "alloy"}, {"input", "hi"}}, 4096,
                                  &speech, &error, &param));  // mp3, OpenAI's default
  EXPECT_EQ(param, "response_format");
  EXPECT_FALSE(ParseSpeechRequest({{"model", "tts-1"}, {"voice", "alloy"}, {"input", "hi"},
                                   {"response_format", "pcm"}, {"speed", 9}},
                                  4096, &speech, &error, &param));
  EXPECT_EQ(param, "speed");
  EXPECT_TRUE(ParseSpeechRequest({{"model", "tts-1"}, {"voice", {{"id", "v1"}}}, {"input", "hi"},
                                  {"response_format", "wav"}},
                                 4096, &speech, &error, &param))
      << error;
  EXPECT_EQ(speech.voice, "v1");
}

TEST(FakeListen, InterimsThenAnEndpointFinalThenUtteranceEnd) {
  ListenFixture f(
      "encoding=linear16&sample_rate=16000&interim_results=true&vad_events=true&endpointing=300"
      "&utterance_end_ms=1000");
  ASSERT_NE(f.session, nullptr);
  f.Send(Speech("where is my order", 1.5));
  ASSERT_FALSE(f.OfType("SpeechStarted").empty());
  EXPECT_NEAR(f.OfType("SpeechStarted")[0]["timestamp"].get<double>(), 0.2, 0.03);
  std::vector<std::string> interims;
  std::vector<json> finals;
  for (const json& m : f.OfType("Results")) {
    const std::string transcript = m["channel"]["alternatives"][0]["transcript"];
    if (m["is_final"]) {
      finals.push_back(m);
    } else {
      interims.push_back(transcript);
    }
  }
  EXPECT_EQ(interims, (std::vector<std::string>{"where", "where is", "where is my",
                                                "where is my order"}));
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_TRUE(finals[0]["speech_final"]);
  EXPECT_FALSE(finals[0]["from_finalize"]);
  const json& alternative = finals[0]["channel"]["alternatives"][0];
  EXPECT_EQ(alternative["transcript"], "where is my order");
  ASSERT_EQ(alternative["words"].size(), 4u);
  EXPECT_NEAR(alternative["words"][0]["start"].get<double>(), 0.2, 0.03);
  EXPECT_EQ(f.OfType("UtteranceEnd").size(), 1u);
  EXPECT_NEAR(f.OfType("UtteranceEnd")[0]["last_word_end"].get<double>(),
              alternative["words"][3]["end"].get<double>(), 0.001);
  // CloseStream: Metadata last, then the close.
  f.session->OnText(R"({"type":"CloseStream"})");
  f.scheduler.RunAll(1000);
  ASSERT_EQ(f.sent.back()["type"], "Metadata");
  EXPECT_TRUE(f.close_called);
  EXPECT_FALSE(f.sent.back().contains("warnings"));
}

// "four five six" then a Finalize on a stream with `extra_query`: every Results message.
std::vector<json> ResultsOfFinalizedWords(const std::string& extra_query) {
  ListenFixture f("encoding=linear16&sample_rate=16000&endpointing=false" + extra_query);
  f.Send(Speech("four five six", 0.1));
  f.session->OnText(R"({"type":"Finalize"})");
  f.scheduler.RunUntil(f.scheduler.NowUs() + 500000);
  return f.OfType("Results");
}

TEST(FakeListen, FinalizeGivesOneFromFinalizeResult) {
  const std::vector<json> results = ResultsOfFinalizedWords("");
  ASSERT_EQ(results.size(), 1u);  // no interims without interim_results
  EXPECT_TRUE(results[0]["is_final"]);
  EXPECT_TRUE(results[0]["from_finalize"]);
  EXPECT_FALSE(results[0]["speech_final"]);
  EXPECT_EQ(results[0]["channel"]["alternatives"][0]["transcript"], "four five six");
}

TEST(FakeListen, PunctuateEndsTheTurnsLastWordWithAPeriod) {
  const std::vector<json> results = ResultsOfFinalizedWords("&punctuate=true");
  ASSERT_EQ(results.size(), 1u);
  const json& alternative = results[0]["channel"]["alternatives"][0];
  EXPECT_EQ(alternative["transcript"], "four five six.");  // the voice yielded its turn there
  ASSERT_EQ(alternative["words"].size(), 3u);
  EXPECT_EQ(alternative["words"][1]["punctuated_word"], "five");
  EXPECT_EQ(alternative["words"][2]["word"], "six");
  EXPECT_EQ(alternative["words"][2]["punctuated_word"], "six.");
}

TEST(FakeListen, SoundThatIsNotTheModemGetsNoWordsAndAWarning) {
  ListenFixture f("encoding=linear16&sample_rate=16000&interim_results=true");
  agent::Rng rng(3);
  std::vector<int16_t> noise(16000 * 2);
  for (size_t i = 0; i < noise.size(); ++i) {
    // Bursts of loud noise, like syllables: 200 ms on, 200 ms off.
    noise[i] = (i / 3200) % 2 == 0 ? static_cast<int16_t>(rng.Uniform(-8000, 8000)) : 0;
  }
  f.Send(noise);
  f.session->OnText(R"({"type":"CloseStream"})");
  f.scheduler.RunAll(1000);
  for (const json& m : f.OfType("Results")) {
    EXPECT_EQ(m["channel"]["alternatives"][0]["transcript"], "");
  }
  ASSERT_EQ(f.sent.back()["type"], "Metadata");
  ASSERT_TRUE(f.sent.back().contains("warnings")) << f.sent.back().dump();
  EXPECT_EQ(f.sent.back()["warnings"][0]["type"], "unrecognized_audio");
}

// Deepgram closes a stream that sends nothing for 10 s; a stream opened long after the server
// started is not closed at once.
TEST(FakeListen, ClosesAStreamIdleForTheBoundCountedFromItsOpen) {
  ListenFixture f("encoding=linear16&sample_rate=16000", 60'000'000);  // a minute in
  f.Send(Speech("four", 0));
  EXPECT_FALSE(f.close_called);
  f.scheduler.RunUntil(f.scheduler.NowUs() + 9'000'000);
  EXPECT_FALSE(f.close_called);
  f.session->OnText(R"({"type":"KeepAlive"})");
  f.scheduler.RunUntil(f.scheduler.NowUs() + 9'000'000);
  EXPECT_FALSE(f.close_called);
  f.scheduler.RunUntil(f.scheduler.NowUs() + 1'100'000);
  EXPECT_TRUE(f.close_called);
  EXPECT_EQ(f.closed.rfind("NET-0001", 0), 0u) << f.closed;
}

TEST(FakeListen, RefusesOptionsItCannotHonour) {
  auto refused = [](const std::string& query) {
    agent::HttpRequest r;
    r.method = "GET";
    r.target = "/v1/listen?" + query;
    r.path = "/v1/listen";
    ListenOptions options;
    std::string error;
    return !ParseListenOptions(r, &options, &error);
  };
  EXPECT_TRUE(refused(""));  // no encoding: containers are not decoded
  EXPECT_TRUE(refused("encoding=opus&sample_rate=48000"));
  EXPECT_TRUE(refused("encoding=linear16&sample_rate=7000"));
  EXPECT_TRUE(refused("encoding=linear16&sample_rate=16000&channels=2"));
  EXPECT_TRUE(refused("encoding=linear16&sample_rate=16000&utterance_end_ms=1000"));
  EXPECT_TRUE(refused("encoding=linear16&sample_rate=16000&punctuate=maybe"));
  EXPECT_FALSE(refused("encoding=mulaw&sample_rate=8000&interim_results=true&utterance_end_ms=1000"));
}

}  // namespace
}  // namespace callsim::fakes::wire
