// The reference agent as a network service: one port for HTTP and WebSocket (Boost.Beast), many
// concurrent calls. Routes:
//   POST /v1/token   Authorization: Bearer <api key>  ->  200 {"token": "...", "expires_in": N},
//                    401 (unknown key), 429 with Retry-After (too fast), 503 (too many live tokens)
//   GET  /metrics    Prometheus text exposition: the server's own series and every registry in
//                    ServerHooks::registries
//   GET  /healthz    200 "ok" (503 "draining" once StopAccepting() was called)
//   GET  <stream_path> with a WebSocket upgrade: a call. With a token service it needs a token, as
//                    ?token=... or Authorization: Bearer ...; missing, malformed, forged,
//                    expired or reused: 401 and nothing else (the reason is counted and logged,
//                    the token never).
// Anything else is 404 (405 for a wrong method; 426 for a GET of <stream_path> without an upgrade).
//
// Threads: `workers` io_context threads, each with its own RealtimeScheduler. The acceptor hands
// each new connection to the next worker in turn; a connection, its session and its call stay on
// that worker, so nothing on the per-message path locks.
//
// Bounds (ServerConfig): connections open at once (beyond: closed at accept, counted), the HTTP
// request head and body, the WebSocket message size, the outbound queue per connection (a peer
// that does not read is closed as a "slow reader"), the time to a complete request or upgrade
// (handshake timeout) and the time without a message from the peer (idle timeout). A binary
// frame, an oversized message or any protocol error closes that connection only, with a reason
// counted in callsim_server_ws_errors_total and logged.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/server/server_metrics.h"
#include "agent/server/stream_session.h"
#include "agent/server/token_service.h"

namespace prometheus {
class Registry;
}

namespace callsim::agent {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: an ephemeral port, see HttpServer::port()
  int workers = 0;       // io_context threads; 0: one per core
  std::string stream_path = "/twilio";
  size_t max_connections = 2000;
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 4 * 1024;
  size_t max_ws_message_bytes = 64 * 1024;
  size_t max_outbound_messages = 512;  // per connection (10 s of 20 ms media)
  int handshake_timeout_ms = 5000;     // accept to a complete request or upgrade
  int idle_timeout_ms = 30000;         // a stream with no message from the peer
};

// What is wrong with `config`, or "" when it is usable.
std::string ValidateServerConfig(const ServerConfig& config);

struct ServerHooks {
  // Required. Called on the new stream's worker thread: with several workers, possibly on several
  // threads at once.
  StreamSessionFactory make_session;
  // Null: streams need no token (the server says so once in the log). Used under the server's
  // own lock; must outlive the server.
  TokenService* tokens = nullptr;
  // Registries exposed on /metrics after the server's own (the agent's metrics). Must outlive it.
  std::vector<const prometheus::Registry*> registries;
  // One line per notable event: start, refusals with their reason, closes with their reason,
  // errors. Called from any worker thread (the server serializes the calls). Never given a
  // token, an API key or a secret.
  std::function<void(std::string_view line)> log;
};

class HttpServer {
 public:
  HttpServer(ServerConfig config, ServerHooks hooks);
  // Shutdown() if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the worker threads. Throws std::runtime_error naming the address
  // and the reason when it cannot bind or listen.
  void Start();
  // The bound port (the real one when config.port was 0). Valid after Start().
  uint16_t port() const;
  // Stops accepting: the listening socket closes, /healthz would say draining; live streams go on.
  void StopAccepting();
  // WebSocket streams open now (sessions created and not yet closed).
  size_t active_streams() const;
  // Closes every connection now (each session gets OnClosed("server shutdown") on its worker),
  // then stops and joins the workers. Idempotent. Not from a worker thread (it would join itself).
  void Shutdown();

  ServerMetrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callsim::agent
