// Test helpers: Beast clients for HttpServer on 127.0.0.1, each peer on its own io_context and
// every operation bounded by its tcp_stream's deadline, so a test that goes wrong fails within
// seconds rather than hanging.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange
#include <vector>

namespace callsim::agent::testing {

namespace peers {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
}  // namespace peers

inline constexpr std::chrono::milliseconds kClientWait{3000};  // any single client operation

// Runs `io` until the one operation started on it completes (its tcp_stream deadline bounds it).
inline void RunOnce(boost::asio::io_context& io) {
  io.restart();
  io.run();
}

inline boost::system::error_code Connect(boost::asio::io_context& io,
                                         boost::beast::tcp_stream& stream, uint16_t port) {
  boost::system::error_code result;
  stream.expires_after(kClientWait);
  stream.async_connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port),
      [&](boost::system::error_code ec) { result = ec; });
  RunOnce(io);
  return result;
}

// Polls `done` every 5 ms until it holds (true) or `limit` passes (false).
inline bool WaitFor(const std::function<bool()>& done,
                    std::chrono::milliseconds limit = kClientWait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct HttpReply {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::string content_type;
  std::string retry_after;
  boost::beast::http::fields headers;
  boost::system::error_code error;
};

// A plain TCP connection speaking HTTP/1.1, one request at a time (keep-alive when asked). An
// answer is read whole (Send, ReadReply) or, streamed, head first and then chunk by chunk
// (ReadHead, NextChunk).
class HttpPeer {
 public:
  using error_code = boost::system::error_code;
  using milliseconds = std::chrono::milliseconds;

  explicit HttpPeer(uint16_t port) : connect_error_(Connect(io_, stream_, port)) {}

  const error_code& connect_error() const { return connect_error_; }

  // Writes `req` (Host and Content-Length added).
  error_code SendRequest(peers::http::request<peers::http::string_body> req) {
    req.set(peers::http::field::host, "127.0.0.1");
    req.prepare_payload();
    error_code result;
    stream_.expires_after(kClientWait);
    peers::http::async_write(stream_, req, [&](error_code ec, size_t) { result = ec; });
    RunOnce(io_);
    return result;
  }

  // The next answer, whole.
  HttpReply ReadReply() {
    HttpReply reply;
    peers::http::response<peers::http::string_body> res;
    stream_.expires_after(kClientWait);
    peers::http::async_read(stream_, buffer_, res,
                            [&](error_code ec, size_t) { reply.error = ec; });
    RunOnce(io_);
    if (reply.error) return reply;
    reply.status = res.result_int();
    reply.body = res.body();
    reply.content_type = std::string(res[peers::http::field::content_type]);
    reply.retry_after = std::string(res[peers::http::field::retry_after]);
    reply.headers = res.base();
    return reply;
  }

  HttpReply Send(peers::http::request<peers::http::string_body> req) {
    HttpReply reply;
    reply.error = SendRequest(std::move(req));
    if (reply.error) return reply;
    return ReadReply();
  }

  HttpReply Request(peers::http::verb verb, const std::string& target,
                    const std::string& bearer = "", bool keep_alive = false) {
    peers::http::request<peers::http::string_body> req(verb, target, 11);
    if (!bearer.empty()) req.set(peers::http::field::authorization, "Bearer " + bearer);
    req.keep_alive(keep_alive);
    return Send(std::move(req));
  }

  // The head of the next answer (status and headers; body empty): its body follows by NextChunk.
  HttpReply ReadHead() {
    HttpReply reply;
    parser_.emplace();
    parser_->body_limit(64 << 20);
    chunks_.clear();
    piece_.clear();
    chunk_error_ = {};
    parser_->on_chunk_body(on_chunk_);  // by reference: a member
    stream_.expires_after(kClientWait);
    peers::http::async_read_header(stream_, buffer_, *parser_,
                                   [&](error_code ec, size_t) { reply.error = ec; });
    RunOnce(io_);
    if (reply.error) return reply;
    reply.status = parser_->get().result_int();
    reply.content_type = std::string(parser_->get()[peers::http::field::content_type]);
    reply.headers = parser_->get().base();
    return reply;
  }

  // The next chunk of the answer ReadHead began; nullopt at the body's end or on an error
  // (chunk_error(): a body cut short is http::error::partial_message).
  std::optional<std::string> NextChunk(milliseconds limit = kClientWait) {
    while (chunks_.empty()) {
      if (parser_->is_done() || chunk_error_) return std::nullopt;
      stream_.expires_after(limit);
      peers::http::async_read_some(stream_, buffer_, *parser_,
                                   [&](error_code ec, size_t) { chunk_error_ = ec; });
      RunOnce(io_);
    }
    std::string chunk = std::move(chunks_.front());
    chunks_.pop_front();
    return chunk;
  }
  const error_code& chunk_error() const { return chunk_error_; }
  bool body_done() const { return parser_ && parser_->is_done(); }

  error_code WriteRaw(const std::string& bytes) {
    error_code result;
    stream_.expires_after(kClientWait);
    peers::asio::async_write(stream_, peers::asio::buffer(bytes),
                             [&](error_code ec, size_t) { result = ec; });
    RunOnce(io_);
    return result;
  }

  // Reads until the server closes the connection: eof, or beast::error::timeout after `limit`.
  error_code WaitForClose(milliseconds limit = kClientWait) {
    error_code result;
    stream_.expires_after(limit);
    stream_.async_read_some(peers::asio::buffer(scratch_),
                            [&](error_code ec, size_t) { result = ec; });
    RunOnce(io_);
    return result;
  }

  // Closes this side at once.
  void Close() { stream_.close(); }

 private:
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_{io_};
  error_code connect_error_;
  boost::beast::flat_buffer buffer_;
  std::optional<peers::http::response_parser<peers::http::string_body>> parser_;
  std::deque<std::string> chunks_;
  std::string piece_;
  // Each chunk as it was sent: the callback may see one in several parts.
  std::function<size_t(uint64_t, boost::beast::string_view, error_code&)> on_chunk_ =
      [this](uint64_t remain, boost::beast::string_view body, error_code&) -> size_t {
    piece_.append(body.data(), body.size());
    if (body.size() == remain) chunks_.push_back(std::exchange(piece_, {}));
    return body.size();
  };
  error_code chunk_error_;
  char scratch_[256];
};

inline HttpReply Request(uint16_t port, boost::beast::http::verb verb, const std::string& target,
                         const std::string& bearer = "") {
  return HttpPeer(port).Request(verb, target, bearer);
}

// A WebSocket client.
class WsPeer {
 public:
  using error_code = boost::system::error_code;
  using milliseconds = std::chrono::milliseconds;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  explicit WsPeer(uint16_t port)
      : connect_error_(Connect(io_, boost::beast::get_lowest_layer(ws_), port)) {}

  // The HTTP status of the answer to the upgrade: 101 when the stream is open. `headers` go
  // with the request; the whole answer is response().
  int Upgrade(const std::string& target, const std::string& bearer = "",
              const Headers& headers = {}) {
    ws_.set_option(peers::websocket::stream_base::decorator(
        [bearer, headers](peers::websocket::request_type& req) {
          if (!bearer.empty()) req.set(peers::http::field::authorization, "Bearer " + bearer);
          for (const auto& [name, value] : headers) req.set(name, value);
        }));
    boost::beast::get_lowest_layer(ws_).expires_after(kClientWait);
    ws_.async_handshake(response_, "127.0.0.1", target, [&](error_code ec) { error_ = ec; });
    RunOnce(io_);
    return response_.result_int();
  }
  const peers::websocket::response_type& response() const { return response_; }

  bool Send(const std::string& message, bool binary = false) {
    ws_.binary(binary);
    boost::beast::get_lowest_layer(ws_).expires_after(kClientWait);
    ws_.async_write(peers::asio::buffer(message), [&](error_code ec, size_t) { error_ = ec; });
    RunOnce(io_);
    return !error_;
  }

  // The next message; nullopt when the stream ended or nothing came within `limit`.
  std::optional<std::string> Read(milliseconds limit = kClientWait) {
    boost::beast::flat_buffer buffer;
    boost::beast::get_lowest_layer(ws_).expires_after(limit);
    ws_.async_read(buffer, [&](error_code ec, size_t) { error_ = ec; });
    RunOnce(io_);
    if (error_) return std::nullopt;
    return boost::beast::buffers_to_string(buffer.data());
  }

  std::optional<std::string> Echo(const std::string& message) {
    if (!Send(message)) return std::nullopt;
    return Read();
  }

  void Close() {
    boost::beast::get_lowest_layer(ws_).expires_after(kClientWait);
    ws_.async_close(peers::websocket::close_code::normal, [&](error_code ec) { error_ = ec; });
    RunOnce(io_);
  }

  const error_code& error() const { return error_; }
  // The close frame the server sent, once a Read saw it: its code and its reason.
  peers::websocket::close_code close_code() const {
    return static_cast<peers::websocket::close_code>(ws_.reason().code);
  }
  std::string close_text() const {
    return std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
  }

 private:
  boost::asio::io_context io_;
  peers::websocket::stream<boost::beast::tcp_stream> ws_{io_};
  peers::websocket::response_type response_;
  error_code connect_error_;
  error_code error_;
};

}  // namespace callsim::agent::testing
