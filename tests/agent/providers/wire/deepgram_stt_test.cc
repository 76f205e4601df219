#include "agent/providers/wire/deepgram_stt.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/realtime_scheduler.h"
#include "tests/agent/providers/wire/wire_test_servers.h"

namespace callsim::agent::wire {
namespace {

using namespace test;  // NOLINT

// What a listener heard, in order: "interim:<t>", "final:<t>", "error:<e>".
struct Heard {
  std::vector<std::string> events;
  int Count(std::string_view prefix) const {
    int n = 0;
    for (const std::string& e : events) n += e.rfind(prefix, 0) == 0;
    return n;
  }
};

SttListener Listen(Heard* heard) {
  SttListener listener;
  listener.on_interim = [heard](const std::string& t) { heard->events.push_back("interim:" + t); };
  listener.on_final = [heard](const std::string& t) { heard->events.push_back("final:" + t); };
  listener.on_error = [heard](const std::string& e) { heard->events.push_back("error:" + e); };
  return listener;
}

Frame Ramp(int start) {
  Frame frame;
  for (int i = 0; i < kFrameSamples; ++i) {
    frame.samples[i] = static_cast<int16_t>((start + i) * 97 - 20000);
  }
  return frame;
}

class WireDeepgramStt : public ::testing::Test {
 protected:
  DeepgramSttConfig Config() {
    DeepgramSttConfig config;
    config.endpoint.url = server.Base();
    config.endpoint.model = "nova-3";
    config.endpoint.api_key = "k";
    return config;
  }
  // The server answers each Finalize with a from_finalize Results carrying the next of `answers`.
  void AnswerFinalizes(std::vector<std::string> answers) {
    auto queue = std::make_shared<std::vector<std::string>>(std::move(answers));
    server.on_text = [this, queue](const std::string& text) {
      if (text.find("Finalize") == std::string::npos || queue->empty()) return;
      server.Send(Results(queue->front(), true, true));
      queue->erase(queue->begin());
    };
  }

  boost::asio::io_context io;
  RealtimeScheduler scheduler{io};
  FakeDeepgram server{io};
};

TEST_F(WireDeepgramStt, SendsAudioWithTheQueryAndToken) {
  DeepgramSttConfig config = Config();
  config.endpoint.headers = {{"X-Callsim-Call-Id", "call-3"}};
  DeepgramStt stt(io, scheduler, config);
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  // Pushed before the socket opens: queued, then sent in order.
  std::string expected;
  for (int f = 0; f < 5; ++f) {
    const Frame frame = Ramp(f * kFrameSamples);
    session->PushAudio(frame);
    for (const int16_t s : frame.samples) {
      expected += static_cast<char>(static_cast<uint16_t>(s) & 0xff);
      expected += static_cast<char>(static_cast<uint16_t>(s) >> 8);
    }
  }
  ASSERT_TRUE(RunUntil(io, [&] { return server.binary_messages == 5; }));
  EXPECT_EQ(server.target,
            "/v1/listen?encoding=linear16&sample_rate=16000&channels=1&interim_results=true"
            "&endpointing=false&punctuate=true&model=nova-3");
  EXPECT_EQ(server.Header("Authorization"), "Token k");
  EXPECT_EQ(server.Header("X-Callsim-Call-Id"), "call-3");
  EXPECT_EQ(server.audio.size(), 5u * 640u);
  EXPECT_EQ(server.audio, expected);
  EXPECT_TRUE(heard.events.empty());
  EXPECT_EQ(stt.stats().frames_sent, 5u);
}

TEST_F(WireDeepgramStt, InterimsThenTheFinal) {
  AnswerFinalizes({"how are you"});
  DeepgramStt stt(io, scheduler, Config());
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return server.upgraded; }));
  server.Send(R"({"type":"Metadata","request_id":"r1"})");  // ignored
  server.Send(Results("hello", false));
  server.Send(Results("hello world", false));
  server.Send(Results("hello world", false));  // unchanged: no second interim
  server.Send(Results("hello world", true));   // a segment is final: nothing new to say
  server.Send(Results("how are", false));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.events.size() == 3; }));
  session->Finalize();
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Count("final:") == 1; }));
  EXPECT_EQ(heard.events,
            std::vector<std::string>({"interim:hello", "interim:hello world",
                                      "interim:hello world how are",
                                      "final:hello world how are you"}));
  // The next turn starts from nothing.
  server.Send(Results("fine", false));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.events.size() == 5; }));
  EXPECT_EQ(heard.events.back(), "interim:fine");
}

TEST_F(WireDeepgramStt, ExactlyOneFinalPerFinalizeIncludingAnEmptyOne) {
  AnswerFinalizes({"yes", ""});
  DeepgramStt stt(io, scheduler, Config());
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  session->PushAudio(Ramp(0));
  session->Finalize();  // before the socket opened: queued behind the audio
  session->Finalize();
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Count("final:") == 2; }));
  RunFor(io, 50);
  EXPECT_EQ(heard.events, std::vector<std::string>({"final:yes", "final:"}));
  EXPECT_EQ(server.CountTexts(R"({"type":"Finalize"})"), 2);
  // An extra from_finalize result without a Finalize pending is not a final.
  server.Send(Results("stray", true, true));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.events.size() == 3; }));
  EXPECT_EQ(heard.events.back(), "interim:stray");
  EXPECT_EQ(heard.Count("final:"), 2);
}

TEST_F(WireDeepgramStt, UnansweredFinalizeTimesOut) {
  DeepgramSttConfig config = Config();
  config.finalize_timeout_ms = 150;
  DeepgramStt stt(io, scheduler, config);
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return server.upgraded; }));
  const int64_t start = scheduler.NowUs();
  session->Finalize();
  ASSERT_TRUE(RunUntil(io, [&] { return !heard.events.empty(); }));
  const int64_t waited_ms = (scheduler.NowUs() - start) / 1000;
  EXPECT_GE(waited_ms, 150);
  EXPECT_LT(waited_ms, 400);
  EXPECT_EQ(heard.events, std::vector<std::string>({"error:finalize timed out after 150 ms"}));
  // Nothing after the error, even if the server answers late.
  server.Send(Results("late", true, true));
  session->PushAudio(Ramp(0));
  session->Finalize();
  RunFor(io, 100);
  EXPECT_EQ(heard.events.size(), 1u);
}

TEST_F(WireDeepgramStt, UpgradeRefused401) {
  server.refuse_status = 401;
  server.refuse_body =
      R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"x"})";
  DeepgramStt stt(io, scheduler, Config());
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  session->PushAudio(Ramp(0));
  ASSERT_TRUE(RunUntil(io, [&] { return !heard.events.empty(); }));
  RunFor(io, 50);
  EXPECT_EQ(heard.events,
            std::vector<std::string>({"error:upgrade refused: HTTP 401: Invalid credentials."}));
  EXPECT_EQ(stt.stats().errors, 1u);
}

TEST_F(WireDeepgramStt, ConnectionLostAndBadJson) {
  DeepgramStt stt(io, scheduler, Config());
  Heard lost;
  auto session = stt.Open(Listen(&lost));
  ASSERT_TRUE(RunUntil(io, [&] { return server.upgraded; }));
  server.Drop();
  ASSERT_TRUE(RunUntil(io, [&] { return !lost.events.empty(); }));
  RunFor(io, 30);
  ASSERT_EQ(lost.events.size(), 1u);
  EXPECT_EQ(lost.events[0].rfind("error:connection lost: ", 0), 0u) << lost.events[0];

  server.upgraded = false;
  Heard bad;
  auto second = stt.Open(Listen(&bad));
  ASSERT_TRUE(RunUntil(io, [&] { return server.upgraded; }));
  server.Send("{not json");
  ASSERT_TRUE(RunUntil(io, [&] { return !bad.events.empty(); }));
  EXPECT_EQ(bad.events, std::vector<std::string>({"error:bad JSON from the server: {not json"}));
}

TEST_F(WireDeepgramStt, DestroyingTheSessionSendsCloseStream) {
  DeepgramStt stt(io, scheduler, Config());
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  session->PushAudio(Ramp(0));
  ASSERT_TRUE(RunUntil(io, [&] { return server.binary_messages == 1; }));
  server.Send(Results("hi", false));
  session.reset();
  ASSERT_TRUE(RunUntil(io, [&] { return server.client_closed; }));
  EXPECT_EQ(server.texts, std::vector<std::string>({R"({"type":"CloseStream"})"}));
  RunFor(io, 30);
  EXPECT_TRUE(heard.events.empty());
}

TEST_F(WireDeepgramStt, KeepAliveAfterSilence) {
  DeepgramSttConfig config = Config();
  config.keepalive_ms = 60;
  DeepgramStt stt(io, scheduler, config);
  Heard heard;
  auto session = stt.Open(Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return server.upgraded; }));
  // Audio every 20 ms holds the keep-alive back.
  for (int i = 0; i < 8; ++i) {
    session->PushAudio(Ramp(i));
    RunFor(io, 20);
  }
  EXPECT_EQ(server.CountTexts("KeepAlive"), 0);
  ASSERT_TRUE(RunUntil(io, [&] { return server.CountTexts("KeepAlive") == 2; }, 1000));
  EXPECT_EQ(server.texts[0], R"({"type":"KeepAlive"})");
  EXPECT_TRUE(heard.events.empty());
}

TEST(WireDeepgramSttConfig, ListenUrlAndValidation) {
  DeepgramSttConfig config;
  config.endpoint.url = "https://api.deepgram.com";
  config.endpoint.model = "nova-2 general";
  EXPECT_EQ(ValidateConfig(config), "");
  EXPECT_EQ(DeepgramListenUrl(config),
            "wss://api.deepgram.com/v1/listen?encoding=linear16&sample_rate=16000&channels=1"
            "&interim_results=true&endpointing=false&punctuate=true&model=nova-2%20general");
  config.endpoint.url = "ws://127.0.0.1:9000/proxy/";
  config.endpoint.model = "";
  EXPECT_EQ(DeepgramListenUrl(config),
            "ws://127.0.0.1:9000/proxy/v1/listen?encoding=linear16&sample_rate=16000&channels=1"
            "&interim_results=true&endpointing=false&punctuate=true");
  config.endpoint.url = "wss://api.deepgram.com:443";
  EXPECT_EQ(DeepgramListenUrl(config).rfind("wss://api.deepgram.com/v1/listen?", 0), 0u);
  config.endpoint.url = "grpc://x";
  EXPECT_EQ(ValidateConfig(config),
            "Deepgram STT: url \"grpc://x\": unsupported scheme \"grpc\" (expected http://, "
            "https://, ws:// or wss://)");
  config.endpoint.url = "wss://api.deepgram.com";
  config.finalize_timeout_ms = 0;
  EXPECT_EQ(ValidateConfig(config),
            "Deepgram STT: finalize_timeout_ms 0 is out of range (1 to 600000 ms)");
}

}  // namespace
}  // namespace callsim::agent::wire
