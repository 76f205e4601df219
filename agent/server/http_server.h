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
//   ServerHooks::routes   more HTTP routes (the fake providers' APIs): a handler answers whole or
//                         streams the answer in chunks (Transfer-Encoding: chunked, as SSE and
//                         streamed audio need), on the connection's worker, possibly later
//   ServerHooks::streams  more WebSocket routes, each with its own session factory, an admission
//                         check before the upgrade, and optionally binary frames
// Anything else is 404 (405 for a wrong method; 426 for a GET of a stream path without an upgrade).
//
// Threads: `workers` io_context threads, each with its own RealtimeScheduler. The acceptor hands
// each new connection to the next worker in turn; a connection, its session and its call stay on
// that worker, so nothing on the per-message path locks.
//
// Bounds (ServerConfig): connections open at once (beyond: closed at accept, counted), the HTTP
// request head and body, the WebSocket message size, the outbound queue per connection (a peer
// that does not read is closed as a "slow reader"), the time to a complete request or upgrade
// (handshake timeout) and the time without a message from the peer (idle timeout); a route's
// request body (HttpRoute::max_body_bytes), the chunks queued of a streamed answer
// (max_outbound_messages) and the time a handler takes to begin its answer (idle timeout). A
// binary frame on a text-only stream, an oversized message or any protocol error closes that
// connection only, with a reason counted in callsim_server_ws_errors_total and logged.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/runtime/scheduler.h"
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

// Header names as sent; every lookup ignores case.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (any case), "" when there is none.
std::string_view HeaderValue(const HttpHeaders& headers, std::string_view name);

// A request for an extra route (or an upgrade to an extra stream), complete, body included.
struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the path with its query string
  std::string path;    // without the query
  HttpHeaders headers;
  std::string body;
  std::string peer;  // "address:port"
  // The header's value (any case), "" when absent.
  std::string_view Header(std::string_view name) const { return HeaderValue(headers, name); }
  // The query parameter's value, percent-decoded ('+' is a space); nullopt when absent.
  std::optional<std::string> Query(std::string_view name) const;
};

// How a route's handler answers, on the connection's worker thread, now or later (from a task on
// scheduler()). Either Respond once, or Begin, any number of Write, then End; or Abort at any
// point. The connection reads its next request (keep-alive) after a complete answer.
// The server owns the framing: a handler's Content-Length, Transfer-Encoding and Connection
// headers are dropped. A status outside 200..599, a header name that is not a token, a header
// value with CR, LF or NUL, or a body (or a streamed answer) with 204 or 304 is answered 500
// instead, and logged.
class HttpResponder {
 public:
  virtual ~HttpResponder() = default;
  // The worker's scheduler (real time): the handler's timers go here.
  virtual Scheduler& scheduler() = 0;
  // A whole answer with Content-Length. Ignored when the connection is gone or an answer began.
  virtual void Respond(int status, HttpHeaders headers, std::string body) = 0;
  // The head of a streamed answer (Transfer-Encoding: chunked); Write sends each piece as one
  // chunk, End the last (zero) chunk. Ignored when gone or an answer began. (To an HTTP/1.0
  // client the pieces go as they are and the connection closes after End.)
  virtual void Begin(int status, HttpHeaders headers) = 0;
  // False when the connection is gone, or (after closing it, "slow reader") when the peer has
  // not taken the queued chunks and max_outbound_messages are waiting. An empty piece is skipped.
  virtual bool Write(std::string piece) = 0;
  virtual void End() = 0;
  // Closes the connection now, whatever was sent (a stream dropped part way). OnGone is not called.
  virtual void Abort() = 0;
  // `on_gone` runs once (on the worker, never inside a responder call) if the connection ends
  // before the answer is complete (before Respond or End): the peer closed it (it is watched
  // while the handler works), a write failed or timed out, the handler took longer than the idle
  // timeout to Begin or Respond, or the server shut down. Then every call above is ignored; the
  // handler should stop its work (a fake's stream, its capacity slot). Set it before returning
  // from the handler.
  virtual void OnGone(std::function<void()> on_gone) = 0;
  virtual bool gone() const = 0;
};

using HttpHandler =
    std::function<void(HttpRequest request, std::shared_ptr<HttpResponder> responder)>;

struct HttpRoute {
  std::string method;  // "GET", "POST"; another method on the path is 405
  std::string path;    // exact path, no query
  size_t max_body_bytes = 1 << 20;  // a bigger body: 413, and the connection closes
  HttpHandler handler;              // throwing: 500 (logged)
};

// A status and body to answer with instead of an upgrade (checked as HttpResponder::Respond's).
struct HttpAnswer {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

struct StreamRoute {
  std::string path;  // exact path, no query; a GET without an upgrade is 426
  // True: binary messages go to StreamSession::OnBinary; false: a binary frame closes the stream.
  bool binary = false;
  // Called on the worker before the upgrade; an answer refuses it (401 in the provider's shape,
  // say). Null: every upgrade is admitted. The token service does not apply to these routes.
  std::function<std::optional<HttpAnswer>(const HttpRequest& request)> admit;
  StreamSessionFactory make_session;  // required
};

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
  // Extra routes. Their paths must differ from each other, from /v1/token, /metrics, /healthz and
  // from stream_path (the constructor throws std::invalid_argument otherwise).
  std::vector<HttpRoute> routes;
  std::vector<StreamRoute> streams;
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
