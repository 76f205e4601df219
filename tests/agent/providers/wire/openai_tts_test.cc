#include "agent/providers/wire/openai_tts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/runtime/realtime_scheduler.h"
#include "tests/agent/providers/wire/wire_test_servers.h"

namespace callsim::agent::wire {
namespace {

using namespace test;  // NOLINT

struct Heard {
  std::vector<Frame> frames;
  std::vector<std::string> events;  // "audio", "done", "error:<e>"
  bool Ended() const {
    return !events.empty() && (events.back() == "done" || events.back().rfind("error:", 0) == 0);
  }
};

TtsListener Listen(Heard* heard) {
  TtsListener listener;
  listener.on_audio = [heard](const TtsFrame& f) {
    f.Render(&heard->frames.emplace_back());
    heard->events.push_back("audio");
  };
  listener.on_done = [heard] { heard->events.push_back("done"); };
  listener.on_error = [heard](const std::string& e) { heard->events.push_back("error:" + e); };
  return listener;
}

// `n` samples of a `hz` sine at 24 kHz, as s16le bytes.
std::string Tone24k(int n, double hz, double amplitude) {
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    const auto s = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * i / 24000.0)));
    bytes += static_cast<char>(static_cast<uint16_t>(s) & 0xff);
    bytes += static_cast<char>(static_cast<uint16_t>(s) >> 8);
  }
  return bytes;
}

// The body in chunks of odd sizes (1, 7, 333, 1001 bytes, repeating), each its own write.
Script OddChunks(const std::string& body) {
  Script script = {{ChunkedHead("application/octet-stream")}};
  const size_t sizes[] = {1, 7, 333, 1001};
  size_t at = 0;
  for (int i = 0; at < body.size(); ++i) {
    const size_t n = std::min(sizes[i % 4], body.size() - at);
    script.push_back({Chunk(std::string_view(body).substr(at, n)), i % 8 == 0 ? 1 : 0});
    at += n;
  }
  script.push_back({LastChunk()});
  return script;
}

class WireOpenAiTts : public ::testing::Test {
 protected:
  OpenAiTtsConfig Config() {
    OpenAiTtsConfig config;
    config.endpoint.url = server.Base("/v1");
    config.endpoint.model = "gpt-4o-mini-tts";
    config.endpoint.api_key = "sk-tts";
    config.voice = "coral";
    return config;
  }

  boost::asio::io_context io;
  RealtimeScheduler scheduler{io};
  ScriptedHttpServer server{io};
};

TEST_F(WireOpenAiTts, ToneInOddPiecesBecomesTheExactFramesAtTheSamePitch) {
  const int n = 12101;  // 504.2 ms at 24 kHz
  const std::string pcm = Tone24k(n, 1000, 8000);
  const Script script = OddChunks(pcm);
  server.handler = [script](const ReceivedRequest&) { return script; };
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("Your order shipped.", Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  ASSERT_EQ(heard.events.back(), "done");
  // 12101 samples at 24 kHz are 8067.3 -> 8068 samples at 16 kHz: 26 frames of 320.
  const int64_t out_samples = (int64_t{n} * 16000 + 23999) / 24000;
  ASSERT_EQ(out_samples, 8068);
  EXPECT_EQ(heard.frames.size(), static_cast<size_t>((out_samples + 319) / 320));
  EXPECT_EQ(heard.frames.size(), 26u);
  EXPECT_EQ(tts.stats().frames, 26u);

  std::vector<int16_t> audio;
  for (const Frame& f : heard.frames) audio.insert(audio.end(), f.samples.begin(), f.samples.end());
  // The last frame is padded with exact zeros after the 8068th sample.
  for (size_t i = out_samples; i < audio.size(); ++i) ASSERT_EQ(audio[i], 0) << i;
  // Zero crossings over the steady middle (40 ms to 480 ms): 2 per cycle of 1 kHz.
  const int from = 16 * 40;
  const int to = 16 * 480;
  int crossings = 0;
  double energy = 0;
  for (int i = from + 1; i < to; ++i) {
    crossings += (audio[i - 1] < 0) != (audio[i] < 0);
    energy += static_cast<double>(audio[i]) * audio[i];
  }
  const double hz = crossings / 2.0 / ((to - from) / 16000.0);
  EXPECT_NEAR(hz, 1000, 10);
  const double rms = std::sqrt(energy / (to - from - 1));
  EXPECT_NEAR(rms, 8000 / std::sqrt(2.0), 8000 / std::sqrt(2.0) * 0.05);
  // Not shifted by the resampler's start-up delay: the tone starts within 1 ms.
  int first_loud = 0;
  while (std::abs(audio[first_loud]) < 2000) ++first_loud;
  EXPECT_LT(first_loud, 16);

  ASSERT_EQ(server.requests.size(), 1u);
  const ReceivedRequest& got = server.requests[0];
  EXPECT_EQ(got.target, "/v1/audio/speech");
  EXPECT_EQ(got.Header("Authorization"), "Bearer sk-tts");
  EXPECT_EQ(nlohmann::json::parse(got.body),
            nlohmann::json::parse(R"({"model":"gpt-4o-mini-tts","voice":"coral",
                                      "input":"Your order shipped.","response_format":"pcm"})"));
}

TEST_F(WireOpenAiTts, ContentLengthBodyAndAnOddTrailingByte) {
  // 960 samples (two 20 ms blocks) and one stray byte at the very end.
  const std::string pcm = Tone24k(960, 440, 3000) + std::string(1, '\x7f');
  server.handler = [pcm](const ReceivedRequest&) {
    return Script{{Response(200, "OK", "Content-Type: audio/pcm\r\n", pcm)}};
  };
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("Hi.", Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>({"audio", "audio", "done"}));
}

TEST_F(WireOpenAiTts, ErrorStatusNamesTheProvidersMessage) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{Response(400, "Bad Request", "Content-Type: application/json\r\n",
                            R"({"error":{"message":"Invalid value for 'voice'","type":"invalid_request_error","param":"voice","code":null}})")}};
  };
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("Hi.", Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events,
            std::vector<std::string>({"error:HTTP 400: Invalid value for 'voice'"}));
  EXPECT_TRUE(heard.frames.empty());
}

TEST_F(WireOpenAiTts, CancelMidStreamClosesTheConnection) {
  const std::string pcm = Tone24k(4800, 300, 5000);
  server.handler = [pcm](const ReceivedRequest&) {
    return Script{{ChunkedHead("audio/pcm")},
                  {Chunk(pcm.substr(0, 1920))},
                  {Chunk(pcm.substr(1920)), 200},
                  {LastChunk()}};
  };
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("Hello there.", Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return !heard.frames.empty(); }));
  stream->Cancel();
  const size_t frames = heard.frames.size();
  ASSERT_TRUE(RunUntil(io, [&] { return server.connections_closed_by_client == 1; }));
  RunFor(io, 250);
  EXPECT_EQ(heard.frames.size(), frames);
  EXPECT_EQ(std::count(heard.events.begin(), heard.events.end(), "done"), 0);
}

TEST_F(WireOpenAiTts, BlankTextIsDoneWithoutARequest) {
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("  \n", Listen(&heard));
  EXPECT_TRUE(heard.events.empty());
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>({"done"}));
  EXPECT_TRUE(server.requests.empty());
}

TEST_F(WireOpenAiTts, JsonInsteadOfAudioIsAnError) {
  server.handler = [](const ReceivedRequest&) {
    return Script{{Response(200, "OK", "Content-Type: application/json\r\n",
                            R"({"error":{"message":"quota exceeded"}})")}};
  };
  OpenAiTts tts(io, scheduler, Config());
  Heard heard;
  auto stream = tts.Synthesize("Hi.", Listen(&heard));
  ASSERT_TRUE(RunUntil(io, [&] { return heard.Ended(); }));
  EXPECT_EQ(heard.events, std::vector<std::string>(
                              {"error:HTTP 200 with a JSON body instead of audio: quota exceeded"}));
}

}  // namespace
}  // namespace callsim::agent::wire
