// HttpServer's extension points end to end on 127.0.0.1: extra HTTP routes answered whole or
// streamed in chunks (read chunk by chunk by a Beast client), the answer's end when the peer
// leaves, the handler is slow or the server stops, and extra WebSocket routes with admission
// checks and binary messages. Timeouts are short so the suite stays within a few seconds.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange
#include <vector>

#include "agent/runtime/scheduler.h"
#include "agent/server/http_server.h"
#include "agent/server/token_service.h"
#include "tests/agent/observability/metrics_scrape.h"
#include "tests/agent/server/http_peers.h"

namespace callsim::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

using testing::HttpPeer;
using testing::HttpReply;
using testing::kClientWait;
using testing::Request;
using testing::WaitFor;
using testing::WsPeer;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

milliseconds SinceNs(int64_t then_ns) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(NowNs() - then_ns));
}

std::string Hex(std::string_view data) {
  std::string out;
  for (const char c : data) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned char>(c));
    out += byte;
  }
  return out;
}

// What the handlers and sessions saw, across threads. Handlers capture a raw pointer: the probe
// outlives the server.
struct Probe {
  std::atomic<int> calls{0};
  std::atomic<int> gone{0};                 // OnGone callbacks run
  std::atomic<int64_t> gone_at_ns{0};       // the first one's time
  std::atomic<bool> gone_flag_seen{false};  // responder->gone() inside OnGone
  std::atomic<int64_t> second_written_ns{0};
  std::atomic<int> writes_taken{0};  // Write calls that returned true

  std::mutex mutex;
  std::vector<HttpRequest> requests;
  std::vector<std::string> messages;  // a stream's: "text:...", "binary:<hex>"
  std::vector<std::string> closed;    // OnClosed reasons
  std::vector<HttpHeaders> stream_headers;
  std::vector<std::string> stream_targets;
  std::shared_ptr<HttpResponder> kept;  // a responder a handler keeps and never answers with

  void Record(const HttpRequest& request) {
    ++calls;
    std::lock_guard<std::mutex> lock(mutex);
    requests.push_back(request);
  }
  // OnGone for `responder`: counted, timed, and whether gone() already says so.
  std::function<void()> GoneCallback(const std::shared_ptr<HttpResponder>& responder) {
    return [this, weak = std::weak_ptr<HttpResponder>(responder)] {
      if (const std::shared_ptr<HttpResponder> r = weak.lock()) gone_flag_seen = r->gone();
      int64_t none = 0;
      gone_at_ns.compare_exchange_strong(none, NowNs());
      ++gone;
    };
  }
  std::vector<std::string> Messages() {
    std::lock_guard<std::mutex> lock(mutex);
    return messages;
  }
  std::vector<std::string> Closed() {
    std::lock_guard<std::mutex> lock(mutex);
    return closed;
  }
};

// Records every message and answers each with "got <n>"; takes binary messages only when told
// to (otherwise the default OnBinary refuses them).
class RecordingSession final : public StreamSession {
 public:
  RecordingSession(StreamIo io, Probe* probe, bool takes_binary)
      : io_(std::move(io)), probe_(probe), takes_binary_(takes_binary) {
    std::lock_guard<std::mutex> lock(probe_->mutex);
    probe_->stream_headers.push_back(io_.headers);
    probe_->stream_targets.push_back(io_.target);
  }
  void OnText(std::string_view text) override { Got("text:" + std::string(text)); }
  void OnBinary(std::string_view data) override {
    if (!takes_binary_) return StreamSession::OnBinary(data);
    Got("binary:" + Hex(data));
  }
  void OnClosed(const std::string& reason) override {
    std::lock_guard<std::mutex> lock(probe_->mutex);
    probe_->closed.push_back(reason);
  }

 private:
  void Got(std::string message) {
    {
      std::lock_guard<std::mutex> lock(probe_->mutex);
      probe_->messages.push_back(std::move(message));
    }
    io_.send_text("got " + std::to_string(++count_));
  }

  StreamIo io_;
  Probe* probe_;
  bool takes_binary_;
  int count_ = 0;
};

StreamSessionFactory Recording(Probe* probe, bool takes_binary) {
  return [probe, takes_binary](StreamIo io) -> std::unique_ptr<StreamSession> {
    return std::make_unique<RecordingSession>(std::move(io), probe, takes_binary);
  };
}

// ---- routes the tests use

// GET /v1/whole: 200 "whole" as text.
HttpRoute WholeRoute(Probe* probe) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/whole";
  route.handler = [probe](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    probe->Record(request);
    responder->Respond(200, {{"Content-Type", "text/plain"}}, "whole");
  };
  return route;
}

// GET /v1/stream: "one", then `gap` later from a scheduler task "two", then the end.
HttpRoute StreamingRoute(Probe* probe, milliseconds gap) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/stream";
  route.handler = [probe, gap](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    probe->Record(request);
    responder->OnGone(probe->GoneCallback(responder));
    responder->Begin(200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
    if (responder->Write("data: one\n\n")) ++probe->writes_taken;
    responder->scheduler().After(gap.count() * kMicrosPerMs, [probe, responder] {
      probe->second_written_ns = NowNs();
      if (responder->Write("data: two\n\n")) ++probe->writes_taken;
      responder->End();
    });
  };
  return route;
}

// GET /v1/hang: begins a stream with one piece (or, with begin false, nothing) and then neither
// writes nor ends; the responder is kept in the probe.
HttpRoute HangingRoute(Probe* probe, bool begin) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/hang";
  route.handler = [probe, begin](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    probe->Record(request);
    responder->OnGone(probe->GoneCallback(responder));
    if (begin) {
      responder->Begin(200, {{"Content-Type", "audio/basic"}});
      responder->Write("first");
    }
    std::lock_guard<std::mutex> lock(probe->mutex);
    probe->kept = responder;
  };
  return route;
}

// 256 KiB every 20 ms, from the worker's scheduler, until Write says no.
void Firehose(const std::shared_ptr<HttpResponder>& responder) {
  if (!responder->Write(std::string(256 * 1024, 'x'))) return;
  responder->scheduler().After(20 * kMicrosPerMs, [responder] { Firehose(responder); });
}

// ---- the fixture

class HttpServerRoutesTest : public ::testing::Test {
 protected:
  static ServerConfig TestConfig() {
    ServerConfig config;
    config.port = 0;
    config.workers = 2;
    config.max_ws_message_bytes = 1024;
    config.max_outbound_messages = 64;
    config.handshake_timeout_ms = 2000;
    config.idle_timeout_ms = 2000;
    return config;
  }

  ServerHooks Hooks(std::vector<HttpRoute> routes, std::vector<StreamRoute> streams = {}) {
    ServerHooks hooks;
    hooks.make_session = Recording(probe_.get(), false);
    hooks.routes = std::move(routes);
    hooks.streams = std::move(streams);
    hooks.log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_ += std::string(line) + "\n";
    };
    return hooks;
  }

  void StartServer(std::vector<HttpRoute> routes, std::vector<StreamRoute> streams = {},
                   ServerConfig config = TestConfig(), TokenService* tokens = nullptr) {
    ServerHooks hooks = Hooks(std::move(routes), std::move(streams));
    hooks.tokens = tokens;
    server_ = std::make_unique<HttpServer>(config, std::move(hooks));
    server_->Start();
    port_ = server_->port();
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
  }

  std::string Log() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
  }
  double Counter(const char* name) const {
    return testing::Scrape(server_->metrics().registry()).Counter(name);
  }
  double WsErrors(const char* reason) const {
    return testing::Scrape(server_->metrics().registry())
        .Counter("callsim_server_ws_errors_total", {{"reason", reason}});
  }
  bool WaitForGone(milliseconds limit = kClientWait) {
    return WaitFor([&] { return probe_->gone > 0; }, limit);
  }

  std::unique_ptr<Probe> probe_ = std::make_unique<Probe>();  // outlives the server
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::mutex log_mutex_;
  std::string log_;
};

std::string HeaderOf(const HttpReply& reply, const char* name) {
  return std::string(reply.headers[name]);
}

// ---- whole answers

TEST_F(HttpServerRoutesTest, AWholeAnswerCarriesItsStatusHeadersAndBody) {
  HttpRoute echo;
  echo.method = "POST";
  echo.path = "/v1/echo";
  Probe* probe = probe_.get();
  echo.handler = [probe](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    probe->Record(request);
    // Content-Length and Connection are the server's: these are dropped.
    responder->Respond(201,
                       {{"Content-Type", "application/json"},
                        {"X-Request-Id", "req-7"},
                        {"Content-Length", "999"},
                        {"Connection", "close"}},
                       "{\"echo\":\"" + request.body + "\",\"key\":\"" +
                           std::string(request.Header("x-api-key")) + "\"}");
  };
  StartServer({echo});
  http::request<http::string_body> req(http::verb::post, "/v1/echo?model=nova&lang=en", 11);
  req.set("X-Api-Key", "secret-key-123");
  req.body() = "hello";
  HttpPeer peer(port_);
  const HttpReply reply = peer.Send(req);
  ASSERT_EQ(reply.status, 201) << reply.error.message();
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(HeaderOf(reply, "X-Request-Id"), "req-7");
  EXPECT_EQ(reply.body, R"({"echo":"hello","key":"secret-key-123"})");
  EXPECT_EQ(HeaderOf(reply, "Content-Length"), std::to_string(reply.body.size()));
  EXPECT_EQ(HeaderOf(reply, "Connection"), "") << "kept alive: the request asked for it";

  std::lock_guard<std::mutex> lock(probe_->mutex);
  ASSERT_EQ(probe_->requests.size(), 1u);
  const HttpRequest& seen = probe_->requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v1/echo?model=nova&lang=en");
  EXPECT_EQ(seen.path, "/v1/echo");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.Header("X-API-KEY"), "secret-key-123");
  EXPECT_EQ(seen.Query("model"), "nova");
  EXPECT_EQ(seen.peer.rfind("127.0.0.1:", 0), 0u) << seen.peer;
  EXPECT_EQ(Counter("callsim_server_http_requests_total"), 1);
  EXPECT_EQ(Log().find("secret-key-123"), std::string::npos) << Log();
}

TEST_F(HttpServerRoutesTest, AStreamedThenAWholeAnswerOnOneKeepAliveConnection) {
  StartServer({StreamingRoute(probe_.get(), 30ms), WholeRoute(probe_.get())});
  HttpPeer peer(port_);
  http::request<http::string_body> streamed(http::verb::get, "/v1/stream", 11);
  ASSERT_FALSE(peer.SendRequest(streamed));
  const HttpReply head = peer.ReadHead();
  ASSERT_EQ(head.status, 200) << head.error.message();
  EXPECT_EQ(HeaderOf(head, "Transfer-Encoding"), "chunked");
  EXPECT_EQ(head.content_type, "text/event-stream");
  EXPECT_EQ(peer.NextChunk(), "data: one\n\n");
  EXPECT_EQ(peer.NextChunk(), "data: two\n\n");
  EXPECT_EQ(peer.NextChunk(), std::nullopt);
  EXPECT_TRUE(peer.body_done()) << peer.chunk_error().message();

  const HttpReply whole = peer.Request(http::verb::get, "/v1/whole", "", true);
  EXPECT_EQ(whole.status, 200) << whole.error.message();
  EXPECT_EQ(whole.body, "whole");
  EXPECT_EQ(probe_->calls, 2);
  EXPECT_EQ(probe_->gone, 0) << "a complete answer is never gone";
  EXPECT_EQ(Counter("callsim_server_connections_total"), 1) << "one connection for both";
  EXPECT_EQ(Counter("callsim_server_http_requests_total"), 2);
}

// ---- streamed answers

TEST_F(HttpServerRoutesTest, AStreamedAnswerReachesTheClientPieceByPieceAsItIsWritten) {
  StartServer({StreamingRoute(probe_.get(), 100ms)});
  HttpPeer peer(port_);
  ASSERT_FALSE(
      peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/stream", 11)));
  ASSERT_EQ(peer.ReadHead().status, 200);
  EXPECT_EQ(peer.NextChunk(), "data: one\n\n");
  const int64_t first_ns = NowNs();
  EXPECT_EQ(peer.NextChunk(), "data: two\n\n");
  const int64_t second_ns = NowNs();
  ASSERT_NE(probe_->second_written_ns, 0);
  EXPECT_LT(first_ns, probe_->second_written_ns)
      << "the first piece came before the second was written";
  EXPECT_GE(second_ns - first_ns, std::chrono::nanoseconds(80ms).count());
  EXPECT_EQ(peer.NextChunk(), std::nullopt);
  EXPECT_TRUE(peer.body_done());
  EXPECT_EQ(probe_->writes_taken, 2);
}

// The second request is written with the first, before the first's answer began: it is read
// (and kept) while the first answer streams, and answered after it.
TEST_F(HttpServerRoutesTest, ARequestPipelinedDuringAStreamedAnswerIsAnsweredAfterIt) {
  StartServer({StreamingRoute(probe_.get(), 50ms), WholeRoute(probe_.get())});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.WriteRaw(
      "GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/whole HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(peer.ReadHead().status, 200);
  EXPECT_EQ(peer.NextChunk(), "data: one\n\n");
  EXPECT_EQ(peer.NextChunk(), "data: two\n\n");
  EXPECT_EQ(peer.NextChunk(), std::nullopt);
  const HttpReply whole = peer.ReadReply();
  EXPECT_EQ(whole.status, 200) << whole.error.message();
  EXPECT_EQ(whole.body, "whole");
  EXPECT_EQ(probe_->gone, 0);
}

// HTTP/1.0 has no chunks: the pieces follow the head as they are, and the connection's close
// ends the body.
TEST_F(HttpServerRoutesTest, AnHttp10ClientGetsTheStreamUnchunkedUntilTheClose) {
  StartServer({StreamingRoute(probe_.get(), 20ms)});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.WriteRaw("GET /v1/stream HTTP/1.0\r\n\r\n"));
  const HttpReply reply = peer.ReadReply();
  EXPECT_EQ(reply.status, 200) << reply.error.message();
  EXPECT_EQ(reply.body, "data: one\n\ndata: two\n\n");
  EXPECT_EQ(HeaderOf(reply, "Transfer-Encoding"), "");
  EXPECT_EQ(HeaderOf(reply, "Content-Length"), "");
}

TEST_F(HttpServerRoutesTest, OnGoneRunsPromptlyWhenThePeerClosesMidStream) {
  StartServer({HangingRoute(probe_.get(), true)});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/hang", 11)));
  ASSERT_EQ(peer.ReadHead().status, 200);
  ASSERT_EQ(peer.NextChunk(), "first");
  const int64_t closed_ns = NowNs();
  peer.Close();
  ASSERT_TRUE(WaitForGone());
  // Nothing was being written: only the watching read can have seen the close.
  EXPECT_LT(probe_->gone_at_ns - closed_ns, std::chrono::nanoseconds(250ms).count());
  EXPECT_TRUE(probe_->gone_flag_seen);
  EXPECT_TRUE(WaitFor([&] {
    return Log().find("GET /v1/hang: peer closed\n") != std::string::npos;
  })) << Log();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(probe_->gone, 1) << "once";
}

TEST_F(HttpServerRoutesTest, OnGoneRunsWhenThePeerClosesBeforeTheHandlerBegins) {
  StartServer({HangingRoute(probe_.get(), false)});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/hang", 11)));
  ASSERT_TRUE(WaitFor([&] { return probe_->calls == 1; }));
  const int64_t closed_ns = NowNs();
  peer.Close();
  ASSERT_TRUE(WaitForGone());
  EXPECT_LT(probe_->gone_at_ns - closed_ns, std::chrono::nanoseconds(250ms).count());
  EXPECT_TRUE(probe_->gone_flag_seen);
}

TEST_F(HttpServerRoutesTest, AHandlerThatNeverAnswersIsClosedAfterTheIdleTimeout) {
  ServerConfig config = TestConfig();
  config.idle_timeout_ms = 300;
  StartServer({HangingRoute(probe_.get(), false)}, {}, config);
  HttpPeer peer(port_);
  const int64_t start_ns = NowNs();
  ASSERT_FALSE(peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/hang", 11)));
  EXPECT_EQ(peer.WaitForClose(), asio::error::eof);
  const milliseconds waited = SinceNs(start_ns);
  EXPECT_GE(waited, 280ms);
  EXPECT_LT(waited, 2000ms);
  ASSERT_TRUE(WaitForGone());
  EXPECT_NE(Log().find("GET /v1/hang: handler timeout\n"), std::string::npos) << Log();
}

// The handler's own bound is the time to begin: once streaming, a quiet stream is left alone.
TEST_F(HttpServerRoutesTest, AQuietStreamOutlivesTheIdleTimeout) {
  ServerConfig config = TestConfig();
  config.idle_timeout_ms = 200;
  StartServer({HangingRoute(probe_.get(), true)}, {}, config);
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/hang", 11)));
  ASSERT_EQ(peer.ReadHead().status, 200);
  EXPECT_EQ(peer.NextChunk(), "first");
  const int64_t quiet_from_ns = NowNs();
  EXPECT_EQ(peer.NextChunk(500ms), std::nullopt);
  EXPECT_EQ(peer.chunk_error(), beast::error::timeout) << "the client gave up, not the server";
  // Giving up closes the client's socket, which the server then sees: OnGone may follow, but not
  // before the client's 500 ms were over (the idle timeout, 200 ms, did not end the stream).
  const int64_t gone_at_ns = probe_->gone_at_ns;
  EXPECT_TRUE(gone_at_ns == 0 ||
              gone_at_ns - quiet_from_ns >= std::chrono::nanoseconds(450ms).count())
      << "gone " << (gone_at_ns - quiet_from_ns) / 1000000 << " ms into the quiet";
}

TEST_F(HttpServerRoutesTest, AbortMidStreamLeavesTheClientATruncatedBody) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/abort";
  Probe* probe = probe_.get();
  route.handler = [probe](HttpRequest, std::shared_ptr<HttpResponder> responder) {
    responder->OnGone(probe->GoneCallback(responder));
    responder->Begin(200, {});
    responder->Write("part");
    responder->scheduler().After(50 * kMicrosPerMs, [responder] {
      responder->Abort();
      if (!responder->gone()) throw std::logic_error("not gone after Abort");
      if (responder->Write("more")) throw std::logic_error("Write after Abort");
    });
  };
  StartServer({route});
  HttpPeer peer(port_);
  ASSERT_FALSE(
      peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/abort", 11)));
  ASSERT_EQ(peer.ReadHead().status, 200);
  EXPECT_EQ(peer.NextChunk(), "part");
  EXPECT_EQ(peer.NextChunk(), std::nullopt);
  EXPECT_FALSE(peer.body_done());
  EXPECT_EQ(peer.chunk_error(), http::error::partial_message) << peer.chunk_error().message();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(probe_->gone, 0) << "Abort does not call OnGone";
  EXPECT_EQ(Log().find("worker error"), std::string::npos) << Log();
}

// A peer that takes nothing while the handler writes on: at max_outbound_messages queued (the
// head counts) the next Write closes the connection and says false.
TEST_F(HttpServerRoutesTest, AStreamedAnswerQueuedPastTheBoundIsASlowReader) {
  ServerConfig config = TestConfig();
  config.max_outbound_messages = 8;
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/flood";
  Probe* probe = probe_.get();
  route.handler = [probe](HttpRequest, std::shared_ptr<HttpResponder> responder) {
    responder->OnGone(probe->GoneCallback(responder));
    responder->Begin(200, {});
    // No write completes inside this call, so the queue only grows.
    for (int i = 0; i < 100 && responder->Write(std::string(1024, 'f')); ++i) ++probe->writes_taken;
  };
  StartServer({route}, {}, config);
  HttpPeer peer(port_);
  ASSERT_FALSE(
      peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/flood", 11)));
  ASSERT_TRUE(WaitForGone());
  EXPECT_EQ(probe_->writes_taken, 7);
  EXPECT_TRUE(
      WaitFor([&] { return Log().find("GET /v1/flood: slow reader\n") != std::string::npos; }));
}

// One big piece at a time to a peer that never reads: once the socket buffers are full a write
// stalls, and after the idle timeout the answer ends as a slow reader.
TEST_F(HttpServerRoutesTest, AStalledWriteOfAStreamedAnswerIsASlowReader) {
  ServerConfig config = TestConfig();
  config.idle_timeout_ms = 300;
  config.max_outbound_messages = 100000;
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/firehose";
  Probe* probe = probe_.get();
  route.handler = [probe](HttpRequest, std::shared_ptr<HttpResponder> responder) {
    responder->OnGone(probe->GoneCallback(responder));
    responder->Begin(200, {});
    Firehose(responder);
  };
  StartServer({route}, {}, config);
  HttpPeer peer(port_);
  ASSERT_FALSE(
      peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/firehose", 11)));
  ASSERT_TRUE(WaitForGone(5000ms));
  EXPECT_NE(Log().find("GET /v1/firehose: slow reader\n"), std::string::npos) << Log();
}

TEST_F(HttpServerRoutesTest, ShutdownEndsAnAnswerInProgressWithOnGone) {
  StartServer({HangingRoute(probe_.get(), true)});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.SendRequest(http::request<http::string_body>(http::verb::get, "/v1/hang", 11)));
  ASSERT_TRUE(WaitFor([&] { return probe_->calls == 1; }));
  server_->Shutdown();
  EXPECT_EQ(probe_->gone, 1) << "run before the worker stopped";
  EXPECT_NE(Log().find("GET /v1/hang: server shutdown\n"), std::string::npos) << Log();
}

// ---- refusals

TEST_F(HttpServerRoutesTest, WrongMethod405OversizedBody413UnknownPath404) {
  ServerConfig config = TestConfig();
  config.max_body_bytes = 256;
  HttpRoute small;
  small.method = "POST";
  small.path = "/v1/small";
  small.max_body_bytes = 16;
  HttpRoute large = small;
  large.path = "/v1/large";
  large.max_body_bytes = 1024;
  Probe* probe = probe_.get();
  small.handler =
      large.handler = [probe](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
        probe->Record(request);
        responder->Respond(200, {}, std::to_string(request.body.size()));
      };
  StartServer({small, large}, {}, config);
  const auto post = [&](const std::string& target, size_t bytes) {
    http::request<http::string_body> req(http::verb::post, target, 11);
    req.body() = std::string(bytes, 'b');
    return HttpPeer(port_).Send(req);
  };

  const HttpReply wrong = Request(port_, http::verb::get, "/v1/small");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(HeaderOf(wrong, "Allow"), "POST");
  EXPECT_EQ(post("/v1/small", 16).body, "16");
  EXPECT_EQ(post("/v1/large", 512).body, "512") << "the route's own limit, over the server's";
  EXPECT_EQ(post("/healthz", 512).status, 413) << "the server's limit for its own paths";
  EXPECT_EQ(Request(port_, http::verb::get, "/v1/nope").status, 404);

  HttpPeer over(port_);
  http::request<http::string_body> big(http::verb::post, "/v1/small", 11);
  big.body() = std::string(17, 'b');
  big.keep_alive(true);
  EXPECT_EQ(over.Send(big).status, 413);
  EXPECT_EQ(over.WaitForClose(), asio::error::eof) << "and the connection closes";

  HttpPeer chunked(port_);  // no Content-Length: the limit holds as the chunks come
  ASSERT_FALSE(
      chunked.WriteRaw("POST /v1/small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.ReadReply().status, 413);

  EXPECT_EQ(probe_->calls, 2) << "a refused request never reaches the handler";
  EXPECT_EQ(Counter("callsim_server_http_requests_total"), 7);
  EXPECT_NE(Log().find("bad request from 127.0.0.1:"), std::string::npos);
}

// curl waits for "100 Continue" before a body over 1 KiB.
TEST_F(HttpServerRoutesTest, A100ContinueGoesOutBeforeTheBodyIsRead) {
  HttpRoute route;
  route.method = "POST";
  route.path = "/v1/upload";
  route.handler = [](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    responder->Respond(200, {}, request.body);
  };
  StartServer({route});
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.WriteRaw(
      "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(peer.ReadReply().status, 100);
  ASSERT_FALSE(peer.WriteRaw("hello"));
  const HttpReply reply = peer.ReadReply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
}

TEST_F(HttpServerRoutesTest, AThrowingHandlerGets500AndIsLogged) {
  HttpRoute early;
  early.method = "GET";
  early.path = "/v1/throw";
  early.handler = [](HttpRequest, std::shared_ptr<HttpResponder>) {
    throw std::runtime_error("no such voice");
  };
  HttpRoute late;
  late.method = "GET";
  late.path = "/v1/throw-late";
  Probe* probe = probe_.get();
  late.handler = [probe](HttpRequest, std::shared_ptr<HttpResponder> responder) {
    responder->OnGone(probe->GoneCallback(responder));
    responder->Begin(200, {});
    responder->Write("begun");
    throw std::runtime_error("lost the model");
  };
  StartServer({early, late, WholeRoute(probe)});
  HttpPeer peer(port_);
  const HttpReply failed = peer.Request(http::verb::get, "/v1/throw", "", true);
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, "internal error\n");
  EXPECT_EQ(peer.Request(http::verb::get, "/v1/whole", "", true).body, "whole")
      << "the connection goes on";
  EXPECT_NE(Log().find("handler failed for 127.0.0.1:"), std::string::npos);
  EXPECT_NE(Log().find(" GET /v1/throw: no such voice\n"), std::string::npos) << Log();

  // Begun: too late for a 500, the stream is dropped at once (as by Abort), whatever was queued.
  HttpPeer streaming(port_);
  ASSERT_FALSE(streaming.SendRequest(
      http::request<http::string_body>(http::verb::get, "/v1/throw-late", 11)));
  if (streaming.ReadHead().status == 200) {
    while (streaming.NextChunk()) {
    }
    EXPECT_FALSE(streaming.body_done());
  }
  EXPECT_TRUE(WaitForGone());
  EXPECT_NE(Log().find("GET /v1/throw-late: lost the model\n"), std::string::npos) << Log();
}

TEST_F(HttpServerRoutesTest, ABadStatusOrHeaderFromAHandlerIs500) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/bad";
  route.handler = [](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    if (request.Query("what") == "status") return responder->Respond(99, {}, "");
    if (request.Query("what") == "header") {
      return responder->Respond(200, {{"X-Evil", "a\r\nSet-Cookie: x"}}, "");
    }
    responder->Begin(204, {});  // no body: cannot stream
    if (responder->Write("x")) throw std::logic_error("Write after a refused Begin");
  };
  StartServer({route});
  for (const char* what : {"status", "header", "begin"}) {
    const HttpReply reply = Request(port_, http::verb::get, std::string("/v1/bad?what=") + what);
    EXPECT_EQ(reply.status, 500) << what;
    EXPECT_EQ(HeaderOf(reply, "Set-Cookie"), "") << what;
  }
  EXPECT_NE(Log().find("header X-Evil has a line break"), std::string::npos) << Log();
  EXPECT_EQ(Log().find("Set-Cookie"), std::string::npos) << "values are never logged";
  EXPECT_EQ(Log().find("worker error"), std::string::npos) << Log();
}

// ---- requests

TEST(HttpServerRequestTest, QueryIsPercentDecodedAndHeaderLookupsIgnoreCase) {
  HttpRequest request;
  request.target = "/v1/listen?q=a%20b+c%2Bd&empty=&bare&bad=%zz%4&utf=%C3%A9&sp%61ced=1#frag";
  EXPECT_EQ(request.Query("q"), "a b c+d");
  EXPECT_EQ(request.Query("empty"), "");
  EXPECT_EQ(request.Query("bare"), "");
  EXPECT_EQ(request.Query("bad"), "%zz%4");
  EXPECT_EQ(request.Query("utf"), "\xC3\xA9");
  EXPECT_EQ(request.Query("spaced"), "1") << "names are decoded too";
  EXPECT_EQ(request.Query("missing"), std::nullopt);
  EXPECT_EQ(request.Query("frag"), std::nullopt);
  request.target = "/v1/listen";
  EXPECT_EQ(request.Query("q"), std::nullopt);

  request.headers = {{"Content-Type", "audio/l16"}, {"X-Api-Key", "k1"}, {"x-api-key", "k2"}};
  EXPECT_EQ(request.Header("content-type"), "audio/l16");
  EXPECT_EQ(HeaderValue(request.headers, "X-API-KEY"), "k1") << "the first one";
  EXPECT_EQ(request.Header("Authorization"), "");
}

TEST_F(HttpServerRoutesTest, AHandlerSeesTheDecodedQuery) {
  HttpRoute route;
  route.method = "GET";
  route.path = "/v1/speak";
  route.handler = [](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
    responder->Respond(200, {}, request.Query("text").value_or("<none>"));
  };
  StartServer({route});
  EXPECT_EQ(Request(port_, http::verb::get, "/v1/speak?voice=x&text=hello+there%21").body,
            "hello there!");
  EXPECT_EQ(Request(port_, http::verb::get, "/v1/speak").body, "<none>");
}

// ---- validation

TEST_F(HttpServerRoutesTest, TheConstructorRefusesBadRoutesNamingTheProblem) {
  const auto problem = [&](const std::function<void(ServerHooks&)>& change) -> std::string {
    ServerHooks hooks = Hooks({WholeRoute(probe_.get())});
    StreamRoute stream;
    stream.path = "/v1/listen";
    stream.make_session = Recording(probe_.get(), true);
    hooks.streams = {stream};
    change(hooks);
    try {
      HttpServer server(TestConfig(), std::move(hooks));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(problem([](ServerHooks&) {}), "");
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes.push_back(h.routes[0]); }),
            "route path /v1/whole is used twice");
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].path = "/v1/listen"; }),
            "stream route path /v1/listen is used twice");
  EXPECT_EQ(problem([](ServerHooks& h) { h.streams[0].path = "/v1/whole"; }),
            "stream route path /v1/whole is used twice");
  for (const char* own : {"/metrics", "/healthz", "/v1/token", "/twilio"}) {
    EXPECT_EQ(problem([&](ServerHooks& h) { h.routes[0].path = own; }),
              std::string("route path ") + own +
                  " is the server's own (/v1/token, /metrics, /healthz, stream path)");
  }
  EXPECT_EQ(problem([](ServerHooks& h) { h.streams[0].path = "/twilio"; }).find("stream route "),
            0u);
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].path = "v1/whole"; }),
            "route path \"v1/whole\" must start with '/'");
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].path = ""; }),
            "route path \"\" must start with '/'");
  for (const char* bad : {"/a?b", "/a#b", "/a b", "/a\tb"}) {
    EXPECT_NE(problem([&](ServerHooks& h) {
                h.streams[0].path = bad;
              }).find("must be a plain path (no '?', '#' or space)"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].handler = nullptr; }),
            "route /v1/whole needs a handler");
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].method = ""; }),
            "route /v1/whole needs a method (\"GET\", \"POST\", ...)");
  EXPECT_EQ(problem([](ServerHooks& h) { h.routes[0].method = "GET /x"; }),
            "route /v1/whole needs a method (\"GET\", \"POST\", ...)");
  EXPECT_EQ(problem([](ServerHooks& h) { h.streams[0].make_session = nullptr; }),
            "stream route /v1/listen needs make_session");
}

// ---- extra streams

TEST_F(HttpServerRoutesTest, AStreamRoutePathWithoutAnUpgradeIs426) {
  StreamRoute stream;
  stream.path = "/v1/listen";
  stream.make_session = Recording(probe_.get(), true);
  StartServer({}, {stream});
  const HttpReply plain = Request(port_, http::verb::get, "/v1/listen?model=x");
  EXPECT_EQ(plain.status, 426);
  EXPECT_EQ(HeaderOf(plain, "Upgrade"), "websocket");
  const HttpReply post = Request(port_, http::verb::post, "/v1/listen");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(HeaderOf(post, "Allow"), "GET");
  EXPECT_EQ(Counter("callsim_server_http_requests_total"), 2);
}

TEST_F(HttpServerRoutesTest, ABinaryStreamRouteDeliversBinaryAndTextInOrder) {
  StreamRoute stream;
  stream.path = "/v1/listen";
  stream.binary = true;
  stream.make_session = Recording(probe_.get(), true);
  StartServer({}, {stream});
  WsPeer peer(port_);
  ASSERT_EQ(peer.Upgrade("/v1/listen?encoding=linear16"), 101);
  ASSERT_TRUE(peer.Send(std::string("\x01\x02", 2), true));
  ASSERT_TRUE(peer.Send("{\"type\":\"KeepAlive\"}"));
  ASSERT_TRUE(peer.Send(std::string("\x00\xff", 2), true));
  EXPECT_EQ(peer.Read(), "got 1");
  EXPECT_EQ(peer.Read(), "got 2");
  EXPECT_EQ(peer.Read(), "got 3");
  EXPECT_EQ(
      probe_->Messages(),
      (std::vector<std::string>{"binary:0102", "text:{\"type\":\"KeepAlive\"}", "binary:00ff"}));
  // The message bound holds for binary messages too.
  peer.Send(std::string(2048, 'x'), true);
  EXPECT_EQ(peer.Read(), std::nullopt);
  EXPECT_EQ(peer.close_code(), websocket::close_code::too_big);
  EXPECT_TRUE(
      WaitFor([&] { return probe_->Closed() == std::vector<std::string>{"message too big"}; }));
  EXPECT_EQ(Counter("callsim_server_streams_total"), 1);
}

TEST_F(HttpServerRoutesTest, ATextOnlyStreamRouteClosesOnABinaryFrame) {
  StreamRoute stream;
  stream.path = "/v1/chat";
  stream.make_session = Recording(probe_.get(), true);  // would take them: the route does not
  StartServer({}, {stream});
  WsPeer peer(port_);
  ASSERT_EQ(peer.Upgrade("/v1/chat"), 101);
  EXPECT_EQ(peer.Echo("hi"), "got 1");
  ASSERT_TRUE(peer.Send("\x01", true));
  EXPECT_EQ(peer.Read(), std::nullopt);
  EXPECT_EQ(peer.close_code(), websocket::close_code::unknown_data);
  EXPECT_TRUE(
      WaitFor([&] { return probe_->Closed() == std::vector<std::string>{"binary frame"}; }));
  EXPECT_EQ(WsErrors("binary_frame"), 1);
  EXPECT_EQ(probe_->Messages(), std::vector<std::string>{"text:hi"});
}

// StreamSession::OnBinary by default refuses: the stream closes as a bad message.
TEST_F(HttpServerRoutesTest, ABinaryMessageToASessionThatTakesNoneIsABadMessage) {
  StreamRoute stream;
  stream.path = "/v1/listen";
  stream.binary = true;
  stream.make_session = Recording(probe_.get(), false);
  StartServer({}, {stream});
  WsPeer peer(port_);
  ASSERT_EQ(peer.Upgrade("/v1/listen"), 101);
  ASSERT_TRUE(peer.Send("\x01", true));
  EXPECT_EQ(peer.Read(), std::nullopt);
  EXPECT_TRUE(WaitFor([&] { return probe_->Closed() == std::vector<std::string>{"bad message"}; }));
  EXPECT_EQ(WsErrors("bad_message"), 1);
}

// The route's admission check answers in the provider's shape; the token service is the Twilio
// stream's alone.
TEST_F(HttpServerRoutesTest, AnAdmissionCheckRefusesWithItsOwnAnswerAndNoTokenIsAsked) {
  TokenConfig token_config;
  token_config.secret = std::string(32, 's');
  TokenService tokens(token_config, {"good-key"});
  StreamRoute stream;
  stream.path = "/v1/listen";
  stream.make_session = Recording(probe_.get(), true);
  stream.admit = [](const HttpRequest& request) -> std::optional<HttpAnswer> {
    if (request.Header("authorization") == "Token fake-key") return std::nullopt;
    return HttpAnswer{401,
                      {{"Content-Type", "application/json"},
                       {"WWW-Authenticate", "Token realm=\"fake\""},
                       {"dg-error", "INVALID_AUTH"}},
                      R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."})"};
  };
  StartServer({}, {stream}, TestConfig(), &tokens);

  WsPeer refused(port_);
  EXPECT_EQ(refused.Upgrade("/v1/listen", "", {{"Authorization", "Token wrong-key"}}), 401);
  EXPECT_EQ(refused.error(), websocket::error::upgrade_declined) << refused.error().message();
  EXPECT_EQ(refused.response().body(),
            R"({"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."})");
  EXPECT_EQ(refused.response()["WWW-Authenticate"], "Token realm=\"fake\"");
  EXPECT_EQ(refused.response()["dg-error"], "INVALID_AUTH");
  EXPECT_EQ(refused.response()[http::field::content_type], "application/json");

  WsPeer admitted(port_);
  EXPECT_EQ(admitted.Upgrade("/v1/listen", "", {{"Authorization", "Token fake-key"}}), 101);
  EXPECT_EQ(admitted.Echo("hello"), "got 1");
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio"), 401) << "the Twilio stream still needs its token";

  const std::string log = Log();
  EXPECT_NE(log.find("stream refused for 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find(" /v1/listen: 401\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-key"), std::string::npos) << log;
  EXPECT_EQ(log.find("fake-key"), std::string::npos) << log;
  server_->Shutdown();  // before `tokens` goes
}

TEST_F(HttpServerRoutesTest, StreamIoCarriesTheUpgradeHeadersOnEveryStream) {
  StreamRoute stream;
  stream.path = "/v1/listen";
  stream.make_session = Recording(probe_.get(), true);
  StartServer({}, {stream});
  WsPeer extra(port_);
  ASSERT_EQ(extra.Upgrade("/v1/listen?model=nova", "", {{"X-Call-Id", "42"}}), 101);
  WsPeer twilio(port_);
  ASSERT_EQ(twilio.Upgrade("/twilio", "", {{"X-Twilio-Signature", "sig"}}), 101);
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(probe_->mutex);
    return probe_->stream_headers.size() == 2;
  }));
  std::lock_guard<std::mutex> lock(probe_->mutex);
  const size_t first_extra = probe_->stream_targets[0] == "/v1/listen?model=nova" ? 0 : 1;
  const HttpHeaders& extra_headers = probe_->stream_headers[first_extra];
  const HttpHeaders& twilio_headers = probe_->stream_headers[1 - first_extra];
  EXPECT_EQ(probe_->stream_targets[1 - first_extra], "/twilio");
  EXPECT_EQ(HeaderValue(extra_headers, "x-call-id"), "42");
  EXPECT_EQ(HeaderValue(extra_headers, "upgrade"), "websocket");
  EXPECT_EQ(HeaderValue(twilio_headers, "x-twilio-signature"), "sig");
  EXPECT_EQ(HeaderValue(twilio_headers, "host"), "127.0.0.1");
}

}  // namespace
}  // namespace callsim::agent
