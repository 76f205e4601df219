// The reference agent's TTS over the wire: OpenAI's speech API (POST {base}/audio/speech with
// {"model","voice","input","response_format":"pcm"}), against api.openai.com or any server that
// speaks it. The body streams raw 24 kHz signed 16-bit little-endian mono; it is resampled to
// 16 kHz (libsoxr, SoxrResampler's low-latency recipe, its start-up delay removed so the audio is
// not shifted) and delivered in 20 ms frames as it arrives: N input samples give exactly
// ceil(ceil(N * 2 / 3) / 320) frames, the last zero-padded. An odd byte at the end of a piece is
// carried to the next; one left at the very end is dropped. on_done follows the last frame.
//
// Errors end the stream with one on_error: "HTTP 400: <the provider's error.message>", "HTTP 200
// with a JSON body instead of audio: ...", "audio ended early: ...", "no response within N ms",
// the connect error. Text with nothing but whitespace is not sent: on_done comes alone. Cancel()
// or destroying the stream closes its connection; no callback follows. Callbacks are called on
// the io_context's thread, in order, never from inside Synthesize() or Cancel().
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/providers/tts.h"
#include "agent/providers/wire/endpoint.h"
#include "agent/providers/wire/http_client.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent::wire {

inline constexpr int kOpenAiPcmRateHz = 24000;

struct OpenAiTtsConfig {
  WireEndpoint endpoint;  // model: "tts-1", "gpt-4o-mini-tts", ...
  std::string voice = "alloy";
};

// "" when `config` is usable, else the reason.
std::string ValidateConfig(const OpenAiTtsConfig& config);

struct OpenAiTtsStats {
  uint64_t streams = 0;
  uint64_t errors = 0;
  uint64_t frames = 0;
};

class OpenAiTts final : public TtsProvider {
 public:
  // A config that fails ValidateConfig makes every stream fail with that reason.
  OpenAiTts(boost::asio::io_context& io, Scheduler& scheduler, OpenAiTtsConfig config);
  ~OpenAiTts() override;

  std::unique_ptr<TtsStream> Synthesize(const std::string& text, TtsListener listener) override;

  const std::string& config_error() const { return config_error_; }
  const OpenAiTtsStats& stats() const { return *stats_; }
  const HttpClient& http() const { return http_; }

 private:
  boost::asio::io_context& io_;
  // The constructor's shape is the same for the three clients; the HTTP clients' time comes from
  // their transport's timers, so this one is not used yet.
  [[maybe_unused]] Scheduler& scheduler_;
  OpenAiTtsConfig config_;
  std::string config_error_;
  Url url_;  // {base}/audio/speech
  HttpClient http_;
  std::shared_ptr<OpenAiTtsStats> stats_ = std::make_shared<OpenAiTtsStats>();
};

}  // namespace callsim::agent::wire
