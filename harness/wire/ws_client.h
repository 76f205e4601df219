// Twilio's side of the socket: a WebSocket client (Boost.Beast) on one io_context, and a plain
// HTTP POST for fetching a call token. Everything runs on the io_context's thread; callbacks are
// called there and never from inside Send() or Close().
//
// Bounds: the connect-and-upgrade time, the size of a message read (a bigger one closes the
// connection, "message too big"), and the outbound queue (Send() returns false when full).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace callsim::harness {

// ws://host:port/path?query or http://host:port/path?query (no TLS). Port defaults to 80.
struct WireUrl {
  std::string scheme;  // "ws" or "http"
  std::string host;    // a name or an address; IPv6 without the brackets
  uint16_t port = 80;
  std::string target = "/";  // path and query
};
// False with a reason in *error for anything else (wss:// and https:// say TLS is not supported;
// user@host, spaces, control characters, a fragment, an empty host and a bad port are refused).
bool ParseWireUrl(std::string_view url, WireUrl* out, std::string* error);
// The URL without credentials: any user@ dropped and the query string's values of token, key,
// secret, auth, access_token, api_key, apikey and password (any case) replaced by "***" (for
// storing and printing).
std::string RedactUrl(std::string_view url);

using Header = std::pair<std::string, std::string>;

struct WsClientConfig {
  WireUrl url;
  std::vector<Header> headers;           // added to the upgrade request
  size_t max_message_bytes = 1 << 20;    // a bigger incoming message closes the connection
  size_t max_outbound_messages = 1024;
  int connect_timeout_ms = 5000;         // resolve, TCP connect and the upgrade; also Close()
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  using OpenFn = std::function<void(const std::string& error)>;  // "" on success
  using TextFn = std::function<void(std::string_view text)>;
  using ClosedFn = std::function<void(const std::string& reason)>;

  static std::shared_ptr<WsClient> Create(boost::asio::io_context& io, WsClientConfig config);
  ~WsClient();

  // Connects and upgrades (call once); `on_open` is called once. After a successful open,
  // `on_text` gets every text message in order (binary messages are ignored and counted), and
  // `on_closed` is called once when the connection ends for any reason ("closed by peer:
  // <reason>", "message too big", the socket error, "closed" after Close()). A failed open calls
  // only on_open ("connect timed out after N ms", "upgrade declined: HTTP 401", the step and the
  // socket error). Pending operations keep the client alive without its owner; destroying the
  // io_context drops them without callbacks.
  void Connect(OpenFn on_open, TextFn on_text, ClosedFn on_closed);
  // Queues a text message; false when the queue is full or the connection is not open.
  bool Send(std::string text);
  // Sends a normal close after the queued messages; on_closed follows ("close timed out after N
  // ms" when that takes longer than connect_timeout_ms). While connecting: the connect stops and
  // on_open gets "closed before the connection opened".
  void Close();

  size_t queued() const;
  uint64_t binary_ignored() const;

 private:
  WsClient(boost::asio::io_context& io, WsClientConfig config);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
};

// A blocking HTTP/1.1 POST (its own io_context) with a timeout; false with the reason in *error
// when it cannot connect, times out or reads a malformed response (bodies over 64 KiB refused).
bool HttpPost(const WireUrl& url, const std::vector<Header>& headers, const std::string& body,
              int timeout_ms, HttpResponse* out, std::string* error);

}  // namespace callsim::harness
