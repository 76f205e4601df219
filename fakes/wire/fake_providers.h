// callsim's fakes served over the providers' own wire APIs, so that any agent (not only callsim's)
// can be pointed at them by changing a base URL:
//   POST /v1/chat/completions   OpenAI Chat Completions (stream: true as server-sent events, or a
//                               whole chat.completion), answered by the rule LLM (fakes/llm)
//   GET  /v1/models             OpenAI's model list: the configured model names
//   POST /v1/audio/speech       OpenAI speech: the modem TTS (fakes/tts) as raw 24 kHz s16le PCM
//                               (response_format pcm) or a streamed WAV, at the modelled time to
//                               first byte and rate
//   GET  /v1/listen (WebSocket) Deepgram live transcription: binary linear16 or mulaw audio in,
//                               Results, SpeechStarted, UtteranceEnd and Metadata out, by the
//                               modem STT (fakes/stt), which understands the word modem's audio
//                               and nothing else
// Each request draws from its own random stream, forked from the seed (X-Callsim-Seed, else the
// server's) by a key made of the call (X-Callsim-Call-Id; else OpenAI's `user`, or Deepgram's
// `tag` or `callsim_call_id` query parameter; else "anonymous"), the API and the request's place
// in the call (X-Callsim-Request when the client numbers its requests, else a hash of the request's
// content and x-stainless-retry-count): the same call replayed gets the same answers at the same
// modelled times, against this server or a fresh one.
//
// Capacity (a limit shared by every worker: concurrency, queue, rate) and faults (errors, requests
// never answered, streams dropped part way, outage windows counted from the server's start) apply
// as they do to the in-process fakes, answered as the providers answer them: 429 with Retry-After
// and retry-after-ms for capacity, 500 for an injected error, 503 in an outage, a connection
// dropped mid-stream. With API keys, a request without one of them is refused with 401 in the
// provider's shape (OpenAI: Authorization: Bearer KEY; Deepgram: Authorization: Token KEY).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/server/http_server.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/faults/fault_spec.h"
#include "fakes/llm/llm_script.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tts/modem_tts.h"

namespace prometheus {
class Registry;
}

namespace callsim::fakes {

struct FakeProvidersConfig {
  uint64_t seed = 1;
  // Empty: no key needed. Compared in constant time.
  std::vector<std::string> api_keys;

  LlmScript script;
  RuleLlmConfig llm;  // its capacity member is ignored: llm_capacity is shared by the workers
  FaultSpec llm_faults;
  CapacityConfig llm_capacity;
  std::vector<std::string> models{"callsim-fake-llm", "callsim-fake-tts"};

  ModemSttConfig stt;  // capacity ignored, as for the LLM
  FaultSpec stt_faults;
  CapacityConfig stt_capacity;

  ModemTtsConfig tts;  // capacity ignored
  FaultSpec tts_faults;
  CapacityConfig tts_capacity;

  // Bounds: a chat request's body, a speech request's input (OpenAI's own limit), how long a
  // Deepgram stream may go without audio or KeepAlive (Deepgram closes after 10 s).
  size_t max_chat_body_bytes = 4 << 20;
  size_t max_speech_input_chars = 4096;
  int stt_idle_timeout_ms = 10000;
};

class FakeProviders {
 public:
  explicit FakeProviders(FakeProvidersConfig config);
  ~FakeProviders();
  FakeProviders(const FakeProviders&) = delete;
  FakeProviders& operator=(const FakeProviders&) = delete;

  // The routes to add to an HttpServer's hooks; they reference this object, which must outlive
  // the server.
  std::vector<agent::HttpRoute> Routes();
  std::vector<agent::StreamRoute> Streams();

  // callsim_fake_provider_requests_total{api} and callsim_fake_provider_refusals_total{api,
  // reason} (unauthorized, bad_request, capacity, fault), for /metrics.
  const prometheus::Registry& registry() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace callsim::fakes
