// An asynchronous WebSocket client for the provider clients (ws:// and wss://): text and binary
// messages both ways, on one io_context. Callbacks are called from its handlers, never from inside
// Connect(), Send*(), Close(), Detach() or Abort().
//
// Bounds: resolve, connect, TLS and the upgrade within connect_timeout_ms; the close handshake
// within connect_timeout_ms too; an open connection on which nothing is heard for
// idle_timeout_ms is closed (a ping goes out halfway, so a live peer always answers in time); an
// incoming message of at most max_message_bytes; at most max_queued_messages (and
// max_queued_bytes) waiting to be written: Send*() returns false beyond them.
//
// (harness/wire/ws_client.h is the harness's own, text-only and plain-TCP WebSocket client for the
// Twilio side; the layer rule keeps the agent from using it. It could be rebuilt on this one.)
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

namespace boost::asio::ssl {
class context;
}

namespace callsim::agent::wire {

struct WsConfig {
  Url url;          // ws:// or wss://
  Headers headers;  // added to the upgrade request
  int connect_timeout_ms = 3000;
  int idle_timeout_ms = 15000;
  size_t max_message_bytes = 1 << 20;
  size_t max_queued_messages = 1024;
  size_t max_queued_bytes = 4 << 20;
};

struct WsHandlers {
  std::function<void()> on_open;
  // Every message in order after the open.
  std::function<void(std::string_view data, bool binary)> on_message;
  // Once, when the connection failed to open or ended, unless Detach() or Abort() came first:
  // "upgrade refused: HTTP 401: <the body's error message>", a dialer error (dialer.h),
  // "upgrade timed out after N ms", "closed by peer: <reason or code>", "no data for N ms",
  // "message too big", "closed" (after Close()), the socket error.
  std::function<void(const std::string& reason)> on_closed;
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  // `tls` is needed for wss:// (nullptr otherwise).
  static std::shared_ptr<WsClient> Create(boost::asio::io_context& io, WsConfig config,
                                          std::shared_ptr<boost::asio::ssl::context> tls);
  ~WsClient();

  // Connects and upgrades (call once). Pending operations keep the client alive without its
  // owner.
  void Connect(WsHandlers handlers);
  // Queue a message: written after the upgrade when connecting, in order. False when the queue
  // is full, or the client is closing or closed.
  bool SendText(std::string text);
  bool SendBinary(std::string data);
  // Sends a normal close after the queued messages. While connecting: stops the connect.
  void Close();
  // No callback follows; a Close() (before or after) still completes, within its bound.
  void Detach();
  // Closes the socket at once; no callback follows.
  void Abort();

  bool open() const;
  size_t queued() const;
  uint64_t messages_sent() const;

 private:
  WsClient(boost::asio::io_context& io, WsConfig config,
           std::shared_ptr<boost::asio::ssl::context> tls);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callsim::agent::wire
