// Small scripted servers for the provider client tests, raw Beast on 127.0.0.1 with an ephemeral
// port, on the test's own io_context (one thread: the client and the server take turns).
//
// ScriptedHttpServer answers each request with the bytes its handler returns, step by step (with
// pauses), so a test controls chunk boundaries, headers and where the connection breaks; it
// records every request and notices a client closing the connection. With a TLS context it
// serves HTTPS. FakeDeepgram is a WebSocket server that records the upgrade request, the binary
// audio and the text messages, and sends what the test tells it to.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

namespace callsim::agent::wire::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Runs the io_context until `done()` or `timeout_ms` pass; true when done.
inline bool RunUntil(asio::io_context& io, const std::function<bool()>& done,
                     int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    if (io.run_one_for(std::chrono::milliseconds(5)) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

// Runs the io_context for `ms` of wall time (to show that nothing else happens).
inline void RunFor(asio::io_context& io, int ms) {
  io.restart();
  io.run_for(std::chrono::milliseconds(ms));
}

// --- raw HTTP pieces -------------------------------------------------------------------------

inline std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}
inline std::string LastChunk() { return "0\r\n\r\n"; }
inline std::string SseHead() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
         "\r\n";
}
inline std::string ChunkedHead(std::string_view content_type) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + std::string(content_type) +
         "\r\nTransfer-Encoding: chunked\r\n\r\n";
}
// A whole response with Content-Length; extra_headers each end with \r\n.
inline std::string Response(int status, std::string_view reason, std::string_view extra_headers,
                            std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}
inline std::string Data(std::string_view json) { return "data: " + std::string(json) + "\n\n"; }

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // which accepted connection (1, 2, ...) carried it

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (beast::iequals(key, beast::string_view(name.data(), name.size()))) return value;
    }
    return "";
  }
};

struct Step {
  std::string bytes;
  int delay_ms = 0;    // before the bytes go out
  bool close = false;  // close the connection after this step
};
using Script = std::vector<Step>;

class ScriptedHttpServer {
 public:
  // With `tls`, connections are HTTPS with that server context.
  explicit ScriptedHttpServer(asio::io_context& io, asio::ssl::context* tls = nullptr)
      : io_(io), tls_(tls), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
  }
  ~ScriptedHttpServer() { *alive_ = false; }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string Base(std::string_view path = "") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) +
           std::string(path);
  }

  // The answer to each request; by default a 404.
  std::function<Script(const ReceivedRequest&)> handler;

  std::vector<ReceivedRequest> requests;
  int connections_accepted = 0;
  int connections_closed_by_client = 0;
  int tls_handshake_failures = 0;

 private:
  template <class Stream>
  struct Connection : std::enable_shared_from_this<Connection<Stream>> {
    Connection(ScriptedHttpServer& server, Stream stream, int id)
        : server(server), stream(std::move(stream)), timer(server.io_), id(id) {}

    void Read() {
      parser.emplace();
      parser->body_limit(1 << 24);
      http::async_read(stream, buffer, *parser,
                       [self = this->shared_from_this()](error_code ec, size_t) {
                         self->OnRequest(ec);
                       });
    }
    void OnRequest(error_code ec) {
      if (!*alive) return;
      if (ec) {
        if (!closed_by_server) ++server.connections_closed_by_client;
        return;
      }
      const auto& message = parser->get();
      ReceivedRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = message.body();
      request.connection = id;
      server.requests.push_back(request);
      script = server.handler ? server.handler(request)
                              : Script{{Response(404, "Not Found", "", "")}};
      step = 0;
      // A read is always pending, so a client closing the connection mid-response is noticed.
      Read();
      Next();
    }
    void Next() {
      if (!*alive || step >= script.size()) return;
      timer.expires_after(std::chrono::milliseconds(script[step].delay_ms));
      timer.async_wait([self = this->shared_from_this()](error_code ec) {
        if (!ec) self->Write();
      });
    }
    void Write() {
      if (!*alive) return;
      asio::async_write(stream, asio::buffer(script[step].bytes),
                        [self = this->shared_from_this()](error_code ec, size_t) {
                          self->OnWritten(ec);
                        });
    }
    void OnWritten(error_code ec) {
      if (!*alive) return;
      if (ec) return;  // the pending read sees the close
      if (script[step].close) {
        closed_by_server = true;
        error_code ignored;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(stream).socket().close(ignored);
        return;
      }
      ++step;
      Next();
    }

    ScriptedHttpServer& server;
    std::shared_ptr<bool> alive = server.alive_;
    Stream stream;
    asio::steady_timer timer;
    int id;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    Script script;
    size_t step = 0;
    bool closed_by_server = false;
  };

  void Accept() {
    acceptor_.async_accept([this, alive = alive_](error_code ec, tcp::socket socket) {
      if (!*alive || ec) return;
      const int id = ++connections_accepted;
      if (tls_ == nullptr) {
        std::make_shared<Connection<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)),
                                                        id)
            ->Read();
      } else {
        using Tls = beast::ssl_stream<beast::tcp_stream>;
        auto connection = std::make_shared<Connection<Tls>>(
            *this, Tls(beast::tcp_stream(std::move(socket)), *tls_), id);
        connection->stream.async_handshake(asio::ssl::stream_base::server,
                                           [this, connection, alive](error_code ec) {
                                             if (!*alive) return;
                                             if (ec) {
                                               ++tls_handshake_failures;
                                               return;
                                             }
                                             connection->Read();
                                           });
      }
      Accept();
    });
  }

  asio::io_context& io_;
  asio::ssl::context* tls_;
  tcp::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// --- a Deepgram-like WebSocket server --------------------------------------------------------

class FakeDeepgram {
 public:
  explicit FakeDeepgram(asio::io_context& io)
      : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Accept();
  }
  ~FakeDeepgram() { *alive_ = false; }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // Refuse the upgrade with this status and body (0: accept).
  int refuse_status = 0;
  std::string refuse_body;
  // Called for each text message received (after it is recorded).
  std::function<void(const std::string& text)> on_text;

  // Queues a text message to the connected client.
  void Send(std::string text) {
    if (!session_) return;
    session_->outbound.push_back(std::move(text));
    if (!session_->writing) session_->WriteNext();
  }
  // Closes the connection abruptly (no close frame).
  void Drop() {
    if (!session_) return;
    error_code ignored;
    beast::get_lowest_layer(session_->ws).socket().close(ignored);
  }

  // Recorded.
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string audio;  // every binary message, concatenated
  int binary_messages = 0;
  std::vector<std::string> texts;
  bool upgraded = false;
  bool client_closed = false;  // the client sent a close frame or dropped the connection
  int connections = 0;

  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (beast::iequals(key, beast::string_view(name.data(), name.size()))) return value;
    }
    return "";
  }
  int CountTexts(std::string_view needle) const {
    int n = 0;
    for (const std::string& text : texts) n += text.find(needle) != std::string::npos;
    return n;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(FakeDeepgram& server, tcp::socket socket)
        : server(server), ws(beast::tcp_stream(std::move(socket))) {}

    void ReadRequest() {
      http::async_read(beast::get_lowest_layer(ws), buffer, request,
                       [self = this->shared_from_this()](error_code ec, size_t) {
                         self->OnRequest(ec);
                       });
    }
    void OnRequest(error_code ec) {
      if (!*alive || ec) return;
      server.target = std::string(request.target());
      server.headers.clear();
      for (const auto& field : request) {
        server.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      if (server.refuse_status != 0) {
        auto response = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(server.refuse_status), 11);
        response->set(http::field::content_type, "application/json");
        response->body() = server.refuse_body;
        response->prepare_payload();
        http::async_write(beast::get_lowest_layer(ws), *response,
                          [self = this->shared_from_this(), response](error_code, size_t) {
                            error_code ignored;
                            beast::get_lowest_layer(self->ws).socket().shutdown(
                                tcp::socket::shutdown_both, ignored);
                          });
        return;
      }
      ws.async_accept(request, [self = this->shared_from_this()](error_code ec) {
        if (!*self->alive || ec) return;
        self->server.upgraded = true;
        self->Read();
      });
    }
    void Read() {
      ws.async_read(buffer, [self = this->shared_from_this()](error_code ec, size_t) {
        self->OnRead(ec);
      });
    }
    void OnRead(error_code ec) {
      if (!*alive) return;
      if (ec) {
        server.client_closed = true;
        return;
      }
      const std::string data = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (ws.got_text()) {
        server.texts.push_back(data);
        if (server.on_text) server.on_text(data);
      } else {
        server.audio += data;
        ++server.binary_messages;
      }
      if (*alive) Read();
    }
    void WriteNext() {
      writing = true;
      ws.text(true);
      ws.async_write(asio::buffer(outbound.front()),
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       if (!*self->alive) return;
                       self->writing = false;
                       if (ec) return;
                       self->outbound.pop_front();
                       if (!self->outbound.empty()) self->WriteNext();
                     });
    }

    FakeDeepgram& server;
    std::shared_ptr<bool> alive = server.alive_;
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::deque<std::string> outbound;
    bool writing = false;
  };

  void Accept() {
    acceptor_.async_accept([this, alive = alive_](error_code ec, tcp::socket socket) {
      if (!*alive || ec) return;
      ++connections;
      session_ = std::make_shared<Session>(*this, std::move(socket));
      session_->ReadRequest();
      Accept();
    });
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::shared_ptr<Session> session_;
};

// A Deepgram Results message.
inline std::string Results(std::string_view transcript, bool is_final, bool from_finalize = false) {
  std::string escaped;
  for (const char c : transcript) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return std::string(R"({"type":"Results","channel_index":[0,1],"duration":1.0,"start":0.0,)") +
         R"("is_final":)" + (is_final ? "true" : "false") + R"(,"speech_final":false,)" +
         R"("from_finalize":)" + (from_finalize ? "true" : "false") +
         R"(,"channel":{"alternatives":[{"transcript":")" + escaped +
         R"(","confidence":0.98,"words":[]}]},"metadata":{"request_id":"r1"}})";
}

}  // namespace callsim::agent::wire::test
