// The first steps of every provider connection: resolve the host, connect over TCP and, for
// https:// and wss://, the TLS handshake (SNI, peer verification, host name check), all within
// one deadline. Used by the HTTP client (http_client.h) and the WebSocket client (ws_client.h).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "agent/providers/wire/url.h"

namespace callsim::agent::wire {

using TcpStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<TcpStream>;
// A connected stream: plain for http:// and ws://, TLS for https:// and wss://.
using AnyStream = std::variant<TcpStream, TlsStream>;

// The TCP stream under `stream`.
TcpStream& Lowest(AnyStream& stream);

// Closes the socket under `stream` (pending operations end with an error); errors are ignored.
void CloseSocket(AnyStream& stream);

class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  // error is "" on success, with `stream` connected (and its TLS handshake done).
  using DoneFn = std::function<void(const std::string& error, std::unique_ptr<AnyStream> stream)>;

  // Starts at once; `done` is called once, from a handler (never from inside Start), unless
  // Abort() is called first. `tls` must be set for https:// and wss://. Errors name the step and
  // the peer: "resolve api.openai.com: Host not found", "connect to 127.0.0.1:9: Connection
  // refused", "TLS handshake with localhost:443: certificate verify failed (hostname mismatch)",
  // "connect to host:443 timed out after 3000 ms".
  static std::shared_ptr<Dialer> Start(boost::asio::io_context& io, const Url& url,
                                       std::shared_ptr<boost::asio::ssl::context> tls,
                                       int timeout_ms, DoneFn done);
  // Stops the connect; `done` is never called.
  void Abort();

 private:
  Dialer(boost::asio::io_context& io, const Url& url,
         std::shared_ptr<boost::asio::ssl::context> tls, int timeout_ms, DoneFn done);
  void Begin();
  void OnResolved(boost::system::error_code ec,
                  const boost::asio::ip::tcp::resolver::results_type& results);
  void OnConnected(boost::system::error_code ec);
  void OnHandshake(boost::system::error_code ec);
  // True (and `done` told) when the connect was stopped or `ec` is an error.
  bool Failed(boost::system::error_code ec, const std::string& step);
  void Finish(const std::string& error);

  boost::asio::io_context& io_;
  Url url_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  int timeout_ms_;
  DoneFn done_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer deadline_;
  std::unique_ptr<AnyStream> stream_;
  std::string timed_out_;  // set when the deadline passed
  bool finished_ = false;
};

}  // namespace callsim::agent::wire
