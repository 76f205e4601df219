// HttpServer end to end on 127.0.0.1: the Beast clients of http_peers.h (each peer on its own
// io_context, every operation bounded by its tcp_stream's deadline) against a server with an echo
// session. Extra routes and streams: http_routes_test.cc. Timeouts are short so the whole suite
// stays within a few seconds.
#include "agent/server/http_server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include "agent/runtime/scheduler.h"
#include "agent/server/token_service.h"
#include "tests/agent/observability/metrics_scrape.h"
#include "tests/agent/server/http_peers.h"

namespace callsim::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr const char* kWsErrors = "callsim_server_ws_errors_total";
constexpr const char* kAuthFailures = "callsim_server_auth_failures_total";

using testing::HttpPeer;
using testing::HttpReply;
using testing::kClientWait;
using testing::Request;
using testing::WaitFor;
using testing::WsPeer;

// ---- a client beside hostile ones ---------------------------------------------------------------

// A well-behaved stream on its own thread, echoing every 20 ms until stopped: hostile peers
// beside it must not disturb it.
class Chatter {
 public:
  Chatter(uint16_t port, std::string target)
      : thread_([this, port, target = std::move(target)] { Run(port, target); }) {}
  ~Chatter() { Stop(); }

  // Stops, and then: the echoes that came back, or -1 if one did not.
  int Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return failed_ ? -1 : echoes_.load();
  }
  int echoes() const { return echoes_; }

 private:
  void Run(uint16_t port, const std::string& target) {
    WsPeer peer(port);
    if (peer.Upgrade(target) != 101) {
      failed_ = true;
      return;
    }
    for (int i = 0; !stop_; ++i) {
      const std::string message = "chat " + std::to_string(i);
      if (peer.Echo(message) != message) {
        failed_ = true;
        return;
      }
      ++echoes_;
      std::this_thread::sleep_for(20ms);
    }
    peer.Close();
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<int> echoes_{0};
  std::thread thread_;
};

// ---- the session
// ----------------------------------------------------------------------------------

// What the sessions saw, across threads.
struct Record {
  std::mutex mutex;
  int opened = 0;
  std::vector<std::string> closed;  // OnClosed reasons, in order
  std::vector<std::string> targets;
  bool scheduler_seen = false;
  bool sent_after_close = false;
};

// Echoes every text message. Commands: "bye" sends "see you", closes the stream and tries one
// more message (refused: closing); "close:<reason>" closes the stream; "flood"
// sends until the queue refuses; "big" sends one 16 MiB message; "tick" answers "tock" 10 ms
// later from the worker's scheduler; "throw" throws from OnText.
class EchoSession final : public StreamSession {
 public:
  EchoSession(StreamIo io, std::shared_ptr<Record> record)
      : io_(std::move(io)), record_(std::move(record)) {
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->opened;
    record_->targets.push_back(io_.target);
    record_->scheduler_seen |= io_.scheduler != nullptr;
  }
  ~EchoSession() override {
    if (tick_ != kNoTask) io_.scheduler->Cancel(tick_);
  }

  void OnText(std::string_view text) override {
    if (text == "bye") {
      io_.send_text("see you");
      io_.close("bye");
      std::lock_guard<std::mutex> lock(record_->mutex);
      record_->sent_after_close |= io_.send_text("too late");
      return;
    }
    if (text.substr(0, 6) == "close:") return io_.close(std::string(text.substr(6)));
    if (text == "flood") {
      for (int i = 0; i < 100000 && io_.send_text(std::string(1024, 'f')); ++i) {
      }
      return;
    }
    if (text == "big") {
      io_.send_text(std::string(16 << 20, 'b'));
      return;
    }
    if (text == "tick") {
      tick_ = io_.scheduler->After(10 * kMicrosPerMs, [this] {
        tick_ = kNoTask;
        io_.send_text("tock");
      });
      return;
    }
    if (text == "throw") throw std::runtime_error("not json");
    io_.send_text(std::string(text));
  }

  void OnClosed(const std::string& reason) override {
    std::lock_guard<std::mutex> lock(record_->mutex);
    record_->closed.push_back(reason);
  }

 private:
  StreamIo io_;
  std::shared_ptr<Record> record_;
  TaskId tick_ = kNoTask;
};

// ---- the fixture --------------------------------------------------------------------------------

int64_t UnixNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class HttpServerTest : public ::testing::Test {
 protected:
  static ServerConfig TestConfig() {
    ServerConfig config;
    config.port = 0;
    config.workers = 2;
    config.max_ws_message_bytes = 64 * 1024;
    config.max_outbound_messages = 64;
    config.handshake_timeout_ms = 2000;
    config.idle_timeout_ms = 5000;
    return config;
  }

  void StartServer(ServerConfig config = TestConfig(), TokenService* tokens = nullptr,
                   std::vector<const prometheus::Registry*> registries = {}) {
    ServerHooks hooks;
    hooks.make_session = [record = record_](StreamIo io) -> std::unique_ptr<StreamSession> {
      if (io.target.find("refuse") != std::string::npos) return nullptr;
      return std::make_unique<EchoSession>(std::move(io), record);
    };
    hooks.tokens = tokens;
    hooks.registries = std::move(registries);
    hooks.log = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_ += std::string(line) + "\n";
    };
    server_ = std::make_unique<HttpServer>(config, std::move(hooks));
    server_->Start();
    port_ = server_->port();
  }

  // Every session got OnClosed exactly once.
  void TearDown() override {
    if (server_ == nullptr) return;
    server_->Shutdown();
    {
      std::lock_guard<std::mutex> lock(record_->mutex);
      EXPECT_EQ(record_->closed.size(), static_cast<size_t>(record_->opened));
    }
    server_.reset();  // before anything it uses (a derived fixture's token service)
  }

  double WsErrors(const char* reason) const {
    return testing::Scrape(server_->metrics().registry()).Counter(kWsErrors, {{"reason", reason}});
  }
  double AuthFailures(const char* reason) const {
    return testing::Scrape(server_->metrics().registry())
        .Counter(kAuthFailures, {{"reason", reason}});
  }
  double Counter(const char* name) const {
    return testing::Scrape(server_->metrics().registry()).Counter(name);
  }
  // Waits until some session was closed with `reason`.
  bool WaitForClosed(const std::string& reason, milliseconds limit = kClientWait) {
    return WaitFor(
        [&] {
          std::lock_guard<std::mutex> lock(record_->mutex);
          return std::count(record_->closed.begin(), record_->closed.end(), reason) > 0;
        },
        limit);
  }
  std::vector<std::string> Closed() {
    std::lock_guard<std::mutex> lock(record_->mutex);
    return record_->closed;
  }
  std::string Log() {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return log_;
  }
  // The ws_errors_total series other than `reason` are all 0.
  void ExpectNoOtherWsError(const char* reason) const {
    for (size_t i = 0; i < kWsErrorCount; ++i) {
      const char* name = WsErrorName(static_cast<WsError>(i));
      if (std::string(name) != reason) {
        EXPECT_EQ(WsErrors(name), 0) << name;
      }
    }
  }

  std::shared_ptr<Record> record_ = std::make_shared<Record>();
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::mutex log_mutex_;
  std::string log_;
};

// ---- configuration and start ------------------------------------------------------------------

TEST_F(HttpServerTest, ValidateServerConfigRefusesOutOfRangeValues) {
  EXPECT_EQ(ValidateServerConfig(ServerConfig{}), "");
  EXPECT_EQ(ValidateServerConfig(TestConfig()), "");
  const auto error_with = [](const std::function<void(ServerConfig&)>& change) {
    ServerConfig config;
    change(config);
    return ValidateServerConfig(config);
  };
  EXPECT_NE(error_with([](ServerConfig& c) { c.host = "localhost"; }), "");
  EXPECT_EQ(error_with([](ServerConfig& c) { c.host = "::1"; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.workers = -1; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.workers = 257; }), "");
  EXPECT_EQ(error_with([](ServerConfig& c) { c.workers = 256; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.stream_path = "twilio"; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.stream_path = ""; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.stream_path = "/a?b"; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.stream_path = "/metrics"; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_connections = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_header_bytes = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_body_bytes = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_ws_message_bytes = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_ws_message_bytes = size_t{1} << 40; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.max_outbound_messages = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.handshake_timeout_ms = 0; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.idle_timeout_ms = -5; }), "");
  EXPECT_NE(error_with([](ServerConfig& c) { c.idle_timeout_ms = 24 * 3600 * 1000; }), "");

  ServerConfig bad;
  bad.workers = -1;
  ServerHooks hooks;
  hooks.make_session = [](StreamIo) { return std::unique_ptr<StreamSession>(); };
  EXPECT_THROW(HttpServer(bad, hooks), std::invalid_argument);
  EXPECT_THROW(HttpServer(ServerConfig{}, ServerHooks{}), std::invalid_argument);
}

TEST_F(HttpServerTest, StartThrowsNamingTheAddressWhenThePortIsTaken) {
  StartServer();
  ServerConfig config = TestConfig();
  config.port = port_;
  ServerHooks hooks;
  hooks.make_session = [](StreamIo) { return std::unique_ptr<StreamSession>(); };
  HttpServer second(config, hooks);
  try {
    second.Start();
    FAIL() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port_)), std::string::npos)
        << e.what();
  }
  EXPECT_NE(Log().find("listening on 127.0.0.1:" + std::to_string(port_)), std::string::npos);
}

// ---- HTTP
// -----------------------------------------------------------------------------------------

TEST_F(HttpServerTest, RoutesAnswer404And405And426) {
  StartServer();
  EXPECT_EQ(Request(port_, http::verb::get, "/nope").status, 404);
  EXPECT_EQ(Request(port_, http::verb::post, "/v1/token", "some-key").status, 404)
      << "no token service";
  EXPECT_EQ(Request(port_, http::verb::post, "/metrics").status, 405);
  EXPECT_EQ(Request(port_, http::verb::delete_, "/healthz").status, 405);
  EXPECT_EQ(Request(port_, http::verb::post, "/twilio").status, 405);
  EXPECT_EQ(Request(port_, http::verb::get, "/twilio").status, 426);
  EXPECT_EQ(Counter("callsim_server_http_requests_total"), 6);
  EXPECT_NE(Log().find("streams need no token"), std::string::npos);
}

TEST_F(HttpServerTest, HealthzSaysDrainingAfterStopAcceptingOnAKeepAliveConnection) {
  StartServer();
  WsPeer stream(port_);
  ASSERT_EQ(stream.Upgrade("/twilio"), 101);
  HttpPeer peer(port_);
  ASSERT_FALSE(peer.connect_error());
  for (int i = 0; i < 2; ++i) {
    const HttpReply ok = peer.Request(http::verb::get, "/healthz", "", true);
    EXPECT_EQ(ok.status, 200) << ok.error.message();
    EXPECT_EQ(ok.body, "ok\n");
  }
  server_->StopAccepting();
  const HttpReply draining = peer.Request(http::verb::get, "/healthz", "", true);
  EXPECT_EQ(draining.status, 503);
  EXPECT_EQ(draining.body, "draining\n");
  EXPECT_TRUE(HttpPeer(port_).connect_error()) << "the listening socket is closed";
  EXPECT_EQ(stream.Echo("still open"), "still open") << "live streams go on";
}

TEST_F(HttpServerTest, OversizedRequestHeadAndBodyAreRefused) {
  ServerConfig config = TestConfig();
  config.max_header_bytes = 1024;
  config.max_body_bytes = 256;
  StartServer(config);
  http::request<http::string_body> big_head(http::verb::get, "/healthz", 11);
  big_head.set("X-Pad", std::string(4096, 'p'));
  EXPECT_EQ(HttpPeer(port_).Send(big_head).status, 431);
  http::request<http::string_body> big_body(http::verb::post, "/healthz", 11);
  big_body.body() = std::string(4096, 'b');
  EXPECT_EQ(HttpPeer(port_).Send(big_body).status, 413);
  EXPECT_EQ(Request(port_, http::verb::get, "/healthz").status, 200);
}

TEST_F(HttpServerTest, MetricsExposeTheServerAndTheExtraRegistries) {
  prometheus::Registry extra;
  prometheus::BuildCounter()
      .Name("callsim_test_extra_total")
      .Help("A series from another registry.")
      .Register(extra)
      .Add({})
      .Increment(3);
  StartServer(TestConfig(), nullptr, {&extra});
  WsPeer stream(port_);
  ASSERT_EQ(stream.Upgrade("/twilio"), 101);
  ASSERT_TRUE(WaitFor([&] { return server_->active_streams() == 1; }));
  const HttpReply reply = Request(port_, http::verb::get, "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(reply.body.find("callsim_server_active_streams 1"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("callsim_server_streams_total 1"), std::string::npos);
  EXPECT_NE(reply.body.find("callsim_test_extra_total 3"), std::string::npos) << reply.body;
}

TEST_F(HttpServerTest, MetricsPassPromtoolCheckMetrics) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not on PATH (Debian: apt-get install prometheus)";
  }
  StartServer();
  const HttpReply reply = Request(port_, http::verb::get, "/metrics");
  ASSERT_EQ(reply.status, 200);
  const std::string path = ::testing::TempDir() + "server_metrics_" + std::to_string(getpid());
  std::ofstream(path) << reply.body;
  const std::string command = "promtool check metrics < '" + path + "' > '" + path + ".out' 2>&1";
  const int status = std::system(command.c_str());
  std::stringstream output;
  output << std::ifstream(path + ".out").rdbuf();
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << output.str() << reply.body;
  EXPECT_EQ(output.str(), "") << reply.body;
  std::remove(path.c_str());
  std::remove((path + ".out").c_str());
}

// ---- tokens
// -----------------------------------------------------------------------------------------

class HttpServerTokenTest : public HttpServerTest {
 protected:
  void SetUp() override {
    TokenConfig config;
    config.secret = std::string(32, 's');
    config.ttl_s = 60;
    config.rate_per_s = 0.2;  // no refill within a test
    config.burst = 3;
    tokens_ = std::make_unique<TokenService>(
        config, std::vector<std::string>{"good-key", "burst-key", "old-key"});
    StartServer(TestConfig(), tokens_.get());
  }

  std::string IssueToken(const std::string& key) {
    const HttpReply reply = Request(port_, http::verb::post, "/v1/token", key);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.content_type, "application/json");
    const nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
    EXPECT_EQ(body.value("expires_in", 0), 60) << reply.body;
    return body.value("token", "");
  }

  std::unique_ptr<TokenService> tokens_;
};

TEST_F(HttpServerTokenTest, ATokenOpensOneStreamOnce) {
  const std::string token = IssueToken("good-key");
  ASSERT_FALSE(token.empty());
  WsPeer stream(port_);
  ASSERT_EQ(stream.Upgrade("/twilio?token=" + token), 101);
  EXPECT_EQ(stream.Echo("hello"), "hello");
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio?token=" + token), 401);
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio", token), 401) << "reused, by header";
  EXPECT_EQ(AuthFailures("reused"), 2);
  EXPECT_EQ(Counter("callsim_server_tokens_issued_total"), 1);
  EXPECT_EQ(Counter("callsim_server_streams_total"), 1);
}

TEST_F(HttpServerTokenTest, MissingMalformedForgedAndExpiredTokensGet401) {
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio"), 401);
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio?token=not-a-token"), 401);
  std::string forged = IssueToken("good-key");
  const size_t in_mac = forged.find('.') + 3;
  forged[in_mac] = forged[in_mac] == 'A' ? 'B' : 'A';
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio?token=" + forged), 401);
  // Issued two minutes ago with a 60 s lifetime (no request is in flight: the service is ours).
  const IssuedToken old = tokens_->Issue("old-key", UnixNowUs() - 120'000'000);
  ASSERT_EQ(old.status, TokenStatus::kOk);
  EXPECT_EQ(WsPeer(port_).Upgrade("/twilio", old.token), 401);

  EXPECT_EQ(AuthFailures("missing"), 1);
  EXPECT_EQ(AuthFailures("malformed"), 1);
  EXPECT_EQ(AuthFailures("bad_signature"), 1);
  EXPECT_EQ(AuthFailures("expired"), 1);
  EXPECT_EQ(AuthFailures("reused"), 0);
  EXPECT_EQ(Counter("callsim_server_streams_total"), 0);
  const std::string log = Log();
  for (const char* reason : {"missing", "malformed", "bad signature", "expired"}) {
    EXPECT_NE(log.find(std::string("stream refused for 127.0.0.1:")), std::string::npos);
    EXPECT_NE(log.find(std::string(": ") + reason + "\n"), std::string::npos) << log;
  }
  EXPECT_EQ(log.find(forged.substr(0, forged.find('.'))), std::string::npos) << log;
  EXPECT_EQ(log.find(old.token.substr(0, old.token.find('.'))), std::string::npos) << log;
  EXPECT_EQ(log.find("token="), std::string::npos) << log;
}

TEST_F(HttpServerTokenTest, UnknownKeysGet401AndABurstGets429WithRetryAfter) {
  EXPECT_EQ(Request(port_, http::verb::post, "/v1/token", "wrong-key").status, 401);
  EXPECT_EQ(Request(port_, http::verb::post, "/v1/token").status, 401);
  EXPECT_EQ(Request(port_, http::verb::get, "/v1/token", "good-key").status, 405);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(IssueToken("burst-key").empty());
  const HttpReply limited = Request(port_, http::verb::post, "/v1/token", "burst-key");
  EXPECT_EQ(limited.status, 429);
  ASSERT_FALSE(limited.retry_after.empty());
  EXPECT_GE(std::stoi(limited.retry_after), 1);
  EXPECT_EQ(AuthFailures("unknown_key"), 2);
  EXPECT_EQ(AuthFailures("rate_limited"), 1);
  EXPECT_EQ(Counter("callsim_server_tokens_issued_total"), 3);
  const std::string log = Log();
  EXPECT_NE(log.find("unknown key"), std::string::npos) << log;
  EXPECT_NE(log.find("rate limited"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong-key"), std::string::npos) << log;
  EXPECT_EQ(log.find("burst-key"), std::string::npos) << log;
}

// ---- streams
// ----------------------------------------------------------------------------------------

TEST_F(HttpServerTest, StreamsEchoAndTheSessionsTimersRunOnTheWorker) {
  StartServer();
  WsPeer a(port_);
  WsPeer b(port_);
  ASSERT_EQ(a.Upgrade("/twilio?call=a"), 101);
  ASSERT_EQ(b.Upgrade("/twilio?call=b"), 101);
  EXPECT_EQ(a.Echo("one"), "one");
  EXPECT_EQ(b.Echo("two"), "two");
  EXPECT_EQ(a.Echo("tick"), "tock");
  EXPECT_TRUE(WaitFor([&] { return server_->active_streams() == 2; }));
  a.Close();
  EXPECT_TRUE(WaitForClosed("peer closed"));
  EXPECT_TRUE(WaitFor([&] { return server_->active_streams() == 1; }));
  std::lock_guard<std::mutex> lock(record_->mutex);
  EXPECT_TRUE(record_->scheduler_seen);
  // The two workers may create the sessions in either order.
  std::sort(record_->targets.begin(), record_->targets.end());
  EXPECT_EQ(record_->targets, (std::vector<std::string>{"/twilio?call=a", "/twilio?call=b"}));
}

TEST_F(HttpServerTest, ASessionsCloseFlushesAndSendsANormalCloseWithItsReason) {
  StartServer();
  WsPeer peer(port_);
  ASSERT_EQ(peer.Upgrade("/twilio"), 101);
  EXPECT_EQ(peer.Echo("queued first"), "queued first");
  ASSERT_TRUE(peer.Send("bye"));
  EXPECT_EQ(peer.Read(), "see you") << "queued before the close, so sent before it";
  EXPECT_EQ(peer.Read(), std::nullopt);
  EXPECT_EQ(peer.error(), websocket::error::closed) << peer.error().message();
  EXPECT_EQ(peer.close_code(), websocket::close_code::normal);
  EXPECT_EQ(peer.close_text(), "bye");
  EXPECT_TRUE(WaitForClosed("closed by session: bye"));
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    EXPECT_FALSE(record_->sent_after_close);
  }

  WsPeer wordy(port_);
  ASSERT_EQ(wordy.Upgrade("/twilio"), 101);
  ASSERT_TRUE(wordy.Send("close:" + std::string(200, 'r')));
  EXPECT_EQ(wordy.Read(), std::nullopt);
  EXPECT_EQ(wordy.close_text(), std::string(123, 'r'));
  EXPECT_TRUE(WaitForClosed("closed by session: " + std::string(123, 'r')));
  ExpectNoOtherWsError("");
}

TEST_F(HttpServerTest, ARefusedSessionClosesTheStreamWithRefused) {
  StartServer();
  WsPeer peer(port_);
  ASSERT_EQ(peer.Upgrade("/twilio?refuse=1"), 101);
  EXPECT_EQ(peer.Read(), std::nullopt);
  EXPECT_EQ(peer.close_code(), websocket::close_code::try_again_later);
  EXPECT_EQ(peer.close_text(), "refused");
  EXPECT_TRUE(WaitFor([&] { return Log().find(": refused\n") != std::string::npos; }));
  EXPECT_EQ(server_->active_streams(), 0u);
  EXPECT_EQ(Counter("callsim_server_streams_total"), 0);
}

// ---- hostile peers: each loses only its own stream --------------------------------------------

TEST_F(HttpServerTest, ABinaryFrameClosesOnlyThatStream) {
  StartServer();
  Chatter chatter(port_, "/twilio");
  WsPeer bad(port_);
  ASSERT_EQ(bad.Upgrade("/twilio"), 101);
  ASSERT_TRUE(bad.Send("\x01\x02\x03", true));
  EXPECT_EQ(bad.Read(), std::nullopt);
  EXPECT_EQ(bad.close_code(), websocket::close_code::unknown_data);
  EXPECT_TRUE(WaitForClosed("binary frame"));
  EXPECT_EQ(WsErrors("binary_frame"), 1);
  ExpectNoOtherWsError("binary_frame");
  const int before = chatter.echoes();
  EXPECT_TRUE(WaitFor([&] { return chatter.echoes() > before + 2; }));
  EXPECT_GT(chatter.Stop(), 0);
}

TEST_F(HttpServerTest, ATenMegabyteMessageClosesOnlyThatStream) {
  StartServer();
  Chatter chatter(port_, "/twilio");
  WsPeer bad(port_);
  ASSERT_EQ(bad.Upgrade("/twilio"), 101);
  bad.Send(std::string(10 << 20, 'x'));  // may fail once the server has had enough
  EXPECT_EQ(bad.Read(), std::nullopt);
  EXPECT_TRUE(WaitForClosed("message too big"));
  EXPECT_EQ(WsErrors("message_too_big"), 1);
  ExpectNoOtherWsError("message_too_big");
  const int before = chatter.echoes();
  EXPECT_TRUE(WaitFor([&] { return chatter.echoes() > before + 2; }));
  EXPECT_GT(chatter.Stop(), 0);
}

TEST_F(HttpServerTest, APeerThatDoesNotReadAFloodIsClosedAsASlowReader) {
  StartServer();
  Chatter chatter(port_, "/twilio");
  WsPeer bad(port_);
  ASSERT_EQ(bad.Upgrade("/twilio"), 101);
  ASSERT_TRUE(bad.Send("flood"));  // and never reads
  EXPECT_TRUE(WaitForClosed("slow reader"));
  EXPECT_EQ(WsErrors("slow_reader"), 1);
  ExpectNoOtherWsError("slow_reader");
  const int before = chatter.echoes();
  EXPECT_TRUE(WaitFor([&] { return chatter.echoes() > before + 2; }));
  EXPECT_GT(chatter.Stop(), 0);
}

// One message too big for the socket buffers, to a peer that keeps talking but never reads: the
// write stalls, and after the idle timeout the stream is closed as a slow reader.
TEST_F(HttpServerTest, AWriteStalledPastTheIdleTimeoutIsASlowReader) {
  ServerConfig config = TestConfig();
  config.idle_timeout_ms = 400;
  config.max_outbound_messages = 10000;  // the echoes of "still here" do not fill it
  StartServer(config);
  Chatter chatter(port_, "/twilio");
  WsPeer bad(port_);
  ASSERT_EQ(bad.Upgrade("/twilio"), 101);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(bad.Send("big"));
  EXPECT_TRUE(WaitFor(
      [&] {
        bad.Send("still here");  // keeps the idle timer away; fails once the server closed
        return !Closed().empty();
      },
      3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 390ms);
  EXPECT_EQ(Closed(), std::vector<std::string>{"slow reader"});
  EXPECT_EQ(WsErrors("slow_reader"), 1);
  ExpectNoOtherWsError("slow_reader");
  EXPECT_GT(chatter.Stop(), 0);
}

TEST_F(HttpServerTest, ASilentStreamIsClosedAfterTheIdleTimeout) {
  ServerConfig config = TestConfig();
  config.idle_timeout_ms = 400;
  StartServer(config);
  Chatter chatter(port_, "/twilio");
  WsPeer silent(port_);
  ASSERT_EQ(silent.Upgrade("/twilio"), 101);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.Read(), std::nullopt);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 350ms);
  EXPECT_LT(waited, 2000ms);
  EXPECT_EQ(silent.close_code(), websocket::close_code::policy_error);
  EXPECT_TRUE(WaitForClosed("idle timeout"));
  EXPECT_EQ(WsErrors("idle_timeout"), 1);
  ExpectNoOtherWsError("idle_timeout");
  const int before = chatter.echoes();
  EXPECT_TRUE(WaitFor([&] { return chatter.echoes() > before + 2; }));
  EXPECT_GT(chatter.Stop(), 0);
}

TEST_F(HttpServerTest, ConnectionsWithoutACompleteRequestHitTheHandshakeTimeout) {
  ServerConfig config = TestConfig();
  config.handshake_timeout_ms = 300;
  StartServer(config);
  Chatter chatter(port_, "/twilio");
  HttpPeer silent(port_);
  HttpPeer partial(port_);
  HttpPeer kept_alive(port_);
  ASSERT_FALSE(partial.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  ASSERT_EQ(kept_alive.Request(http::verb::get, "/healthz", "", true).status, 200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(silent.WaitForClose(), asio::error::eof);
  EXPECT_EQ(partial.WaitForClose(), asio::error::eof);
  // Idle between requests: closed quietly at the same bound, not counted.
  EXPECT_EQ(kept_alive.WaitForClose(), asio::error::eof);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2000ms);
  EXPECT_TRUE(WaitFor([&] { return WsErrors("handshake_timeout") == 2; }));
  ExpectNoOtherWsError("handshake_timeout");
  EXPECT_NE(Log().find("handshake timeout: 127.0.0.1:"), std::string::npos);
  EXPECT_GT(chatter.Stop(), 0);
  EXPECT_EQ(WsErrors("handshake_timeout"), 2) << "the kept-alive connection is not counted";
}

TEST_F(HttpServerTest, AnExceptionFromOnTextClosesThatStreamAsABadMessage) {
  StartServer();
  WsPeer bad(port_);
  ASSERT_EQ(bad.Upgrade("/twilio"), 101);
  ASSERT_TRUE(bad.Send("throw"));
  EXPECT_EQ(bad.Read(), std::nullopt);
  EXPECT_TRUE(WaitForClosed("bad message"));
  EXPECT_EQ(WsErrors("bad_message"), 1);
  WsPeer good(port_);
  ASSERT_EQ(good.Upgrade("/twilio"), 101);
  EXPECT_EQ(good.Echo("fine"), "fine");
}

// ---- bounds and shutdown
// ---------------------------------------------------------------------------

TEST_F(HttpServerTest, ConnectionsPastTheBoundAreClosedAtOnceAndCounted) {
  ServerConfig config = TestConfig();
  config.max_connections = 2;
  StartServer(config);
  auto first = std::make_unique<HttpPeer>(port_);
  HttpPeer second(port_);
  ASSERT_TRUE(WaitFor([&] { return Counter("callsim_server_connections_total") == 2; }));
  HttpPeer third(port_);
  EXPECT_EQ(third.WaitForClose(1000ms), asio::error::eof);
  EXPECT_EQ(WsErrors("connection_limit"), 1);
  EXPECT_NE(Log().find("connection limit (2)"), std::string::npos) << Log();
  EXPECT_EQ(second.Request(http::verb::get, "/healthz").status, 200) << "admitted ones work";
  first.reset();  // frees a place once the server sees it go
  EXPECT_TRUE(WaitFor([&] { return Request(port_, http::verb::get, "/healthz").status == 200; }));
}

TEST_F(HttpServerTest, ShutdownClosesEverySessionWithServerShutdown) {
  StartServer();
  WsPeer a(port_);
  WsPeer b(port_);
  ASSERT_EQ(a.Upgrade("/twilio"), 101);
  ASSERT_EQ(b.Upgrade("/twilio"), 101);
  HttpPeer idle_http(port_);
  ASSERT_TRUE(WaitFor([&] { return server_->active_streams() == 2; }));
  // Accepted, not left in the listen backlog (closing the acceptor would reset it instead).
  ASSERT_TRUE(WaitFor([&] { return Counter("callsim_server_connections_total") == 3; }));
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  EXPECT_EQ(Closed(), (std::vector<std::string>{"server shutdown", "server shutdown"}));
  EXPECT_EQ(server_->active_streams(), 0u);
  EXPECT_EQ(testing::Scrape(server_->metrics().registry()).Gauge("callsim_server_active_streams"),
            0);
  EXPECT_EQ(a.Read(), std::nullopt);
  EXPECT_EQ(idle_http.WaitForClose(), asio::error::eof);
  server_->Shutdown();  // idempotent
  EXPECT_NE(Log().find("stopped"), std::string::npos);
}

}  // namespace
}  // namespace callsim::agent
