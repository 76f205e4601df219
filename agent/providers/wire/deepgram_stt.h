// The reference agent's STT over the wire: Deepgram's live streaming API, one WebSocket per
// session to {base}/v1/listen?encoding=linear16&sample_rate=16000&channels=1&interim_results=true
// &endpointing=false&punctuate=true&model=<model> (http:// becomes ws://, https:// wss://), with
// "Authorization: Token <key>". Against api.deepgram.com or any server that speaks the protocol.
// Punctuation is what tells the agent a turn sounds finished (adaptive endpointing, preemptive
// generation): a transcript ending in a sentence mark.
//
// PushAudio sends each 20 ms frame as one binary message of s16le samples; frames pushed before
// the socket opens are queued (within the WebSocket's bound) and sent after the upgrade.
// Finalize() sends {"type":"Finalize"}. The agent decides the endpoint (endpointing=false).
//
// Results: transcripts with is_final accumulate since the last final; every Results message whose
// text (the finals so far and the current interim, joined with spaces) differs from the last
// interim delivered gives on_interim(that text); the Results with from_finalize: true gives
// on_final(every final transcript since the last on_final, joined) -- one per Finalize(), in
// order, even an empty one (a from_finalize result with no Finalize pending counts as a plain
// final). The finals kept between two on_final are bounded (64 KiB, the newest kept). A
// Finalize() the server leaves unanswered for finalize_timeout_ms ends the session:
// on_error("finalize timed out after N ms"). {"type":"KeepAlive"} is sent when no audio went out
// for keepalive_ms (5 s). Errors end the session with one on_error, nothing after it: "upgrade
// refused: HTTP 401: <message>", "connection lost: <reason>", "bad JSON from the server: ...",
// "server error: <description>", "send queue full: ...", "too many pending finalizes (N)".
// Destroying the session sends {"type":"CloseStream"} and closes the socket (within the connect
// timeout); no callback follows.
//
// Callbacks are called on the io_context's thread, in order, never from inside Open(),
// PushAudio() or Finalize(). Timers (finalize timeout, keep-alive) run on the Scheduler, which
// must be the io_context's RealtimeScheduler (or another running on its thread).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/providers/stt.h"
#include "agent/providers/wire/endpoint.h"
#include "agent/runtime/scheduler.h"

namespace boost::asio::ssl {
class context;
}

namespace callsim::agent::wire {

inline constexpr int kMaxPendingFinalizes = 64;

struct DeepgramSttConfig {
  WireEndpoint endpoint;  // model: "nova-2", "nova-3", ... ("" leaves model= out)
  int finalize_timeout_ms = 5000;
  // {"type":"KeepAlive"} after this long without audio (Deepgram closes a silent stream at 10 s).
  int keepalive_ms = 5000;
};

// "" when `config` is usable, else the reason.
std::string ValidateConfig(const DeepgramSttConfig& config);

// The listen URL for `config` (which must be valid): ws:// or wss://, with the query string.
std::string DeepgramListenUrl(const DeepgramSttConfig& config);

struct DeepgramSttStats {
  uint64_t sessions = 0;
  uint64_t errors = 0;
  uint64_t frames_sent = 0;
  uint64_t finals = 0;
  uint64_t keepalives = 0;
};

class DeepgramStt final : public SttProvider {
 public:
  // A config that fails ValidateConfig makes every session fail with that reason.
  DeepgramStt(boost::asio::io_context& io, Scheduler& scheduler, DeepgramSttConfig config);
  ~DeepgramStt() override;

  std::unique_ptr<SttSession> Open(SttListener listener) override;

  const std::string& config_error() const { return config_error_; }
  const DeepgramSttStats& stats() const { return *stats_; }

 private:
  boost::asio::io_context& io_;
  Scheduler& scheduler_;
  DeepgramSttConfig config_;
  std::string config_error_;
  std::string listen_url_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // made on the first wss:// session
  std::shared_ptr<DeepgramSttStats> stats_ = std::make_shared<DeepgramSttStats>();
};

}  // namespace callsim::agent::wire
