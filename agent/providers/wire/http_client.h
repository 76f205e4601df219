// An asynchronous HTTP/1.1 client for the provider clients: one request at a time per connection,
// the response head delivered when it arrives and the body in pieces as they arrive (chunked,
// Content-Length or until the connection closes), so a streamed completion or audio reaches the
// agent as it is produced. Everything runs on the io_context's thread; callbacks are called from
// its handlers, never from inside Start(), Cancel() or Release().
//
// Bounds: the connect (resolve, TCP, TLS) within connect_timeout_ms; sending the request and
// receiving the head within response_timeout_ms; each piece of the body within idle_timeout_ms of
// the last; the body at most max_body_bytes; the head at most 16 KiB.
//
// Keep-alive: each HttpClient keeps a small pool of idle connections, reused for a request to the
// same scheme, host and port (most recently used first), at most max_idle_connections, each
// closed after idle_expiry_ms unused. A connection is pooled only when its response was read to
// the end, both sides allow keep-alive and nothing was left over; a cancelled request's connection
// is closed. A reused connection that fails before any byte of the response arrived (the server
// closed it while idle) is replaced once by a new connection and the request sent again.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "agent/providers/wire/url.h"

namespace callsim::agent::wire {

struct HttpRequest {
  std::string method = "POST";
  Url url;  // http:// or https://
  Headers headers;  // Host, Content-Length and User-Agent are set; Content-Type defaults to JSON
  std::string body;
  int connect_timeout_ms = 3000;
  int response_timeout_ms = 15000;
  int idle_timeout_ms = 15000;
  size_t max_body_bytes = 16u << 20;
};

struct HttpHead {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string Find(std::string_view name) const { return FindHeader(headers, name); }
};

// Exactly one of on_end and on_error ends a call that was neither cancelled nor released; on_head
// comes first unless the call failed before the head. Any handler may be empty.
struct HttpHandlers {
  std::function<void(const HttpHead& head)> on_head;
  std::function<void(std::string_view piece)> on_body;
  std::function<void()> on_end;  // the body is complete
  // Why the call failed: a dialer error (see dialer.h), "no response within N ms", "no data for
  // N ms", "connection closed before the response ended", "response body over N bytes", ...
  std::function<void(const std::string& error)> on_error;
};

// Handlers that reach `target`'s OnHead, OnBody, OnEnd and OnError while it lives: they hold it
// weakly, so a stream's state owned by its handle stops hearing from the call once it is gone.
template <typename T>
HttpHandlers WeakHandlers(const std::shared_ptr<T>& target) {
  const std::weak_ptr<T> weak = target;
  HttpHandlers handlers;
  handlers.on_head = [weak](const HttpHead& head) {
    if (auto self = weak.lock()) self->OnHead(head);
  };
  handlers.on_body = [weak](std::string_view piece) {
    if (auto self = weak.lock()) self->OnBody(piece);
  };
  handlers.on_end = [weak] {
    if (auto self = weak.lock()) self->OnEnd();
  };
  handlers.on_error = [weak](const std::string& error) {
    if (auto self = weak.lock()) self->OnError(error);
  };
  return handlers;
}

struct HttpPoolConfig {
  size_t max_idle_connections = 4;
  int idle_expiry_ms = 30000;
};

class HttpCallImpl;
class HttpPool;

// A request in flight. Destroying it cancels it, unless it was released.
class HttpCall {
 public:
  explicit HttpCall(std::shared_ptr<HttpCallImpl> impl);
  ~HttpCall();
  HttpCall(const HttpCall&) = delete;
  HttpCall& operator=(const HttpCall&) = delete;

  // Closes the connection at once: no callback follows (even when called from inside one).
  void Cancel();
  // No callback follows, but the response is read to its end in the background (within one
  // idle_timeout_ms and 64 KiB more) so that its connection can go back to the pool. For a caller
  // that has what it needs (an LLM stream after [DONE]).
  void Release();
  // The request went out on a pooled connection (after a stale one was replaced: false).
  bool reused_connection() const;

 private:
  std::shared_ptr<HttpCallImpl> impl_;
};

class HttpClient {
 public:
  explicit HttpClient(boost::asio::io_context& io, HttpPoolConfig pool = {});
  // Closes the idle connections. Calls in flight go on (their connections are then closed, not
  // pooled).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request. A request that cannot be made (a bad header, https:// without TLS) fails
  // through on_error, on a later turn of the io_context.
  std::unique_ptr<HttpCall> Start(HttpRequest request, HttpHandlers handlers);

  size_t idle_connections() const;
  uint64_t connections_opened() const;  // TCP connections made (the dialer succeeded)
  uint64_t requests_on_reused_connections() const;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<HttpPool> pool_;
};

}  // namespace callsim::agent::wire
