// `callsim serve` under attack while it carries real calls: 20 concurrent good calls (callsim's
// own callers over the wire, each with a token from /v1/token) must all pass while hostile clients
// send bad JSON, binary frames and a 10 MB message, stop reading, stall their handshake, and use
// missing, forged and reused tokens; a key that asks too fast gets 429 with Retry-After. Each
// hostile client loses its own connection, and /metrics counts why.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"

namespace callsim::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

const std::string kScenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";
const std::string kGoodKey = "good-key-0123456789abcdef";
const std::string kGreedyKey = "greedy-key-0123456789abcdef";

struct Answer {
  int status = 0;
  std::string body;
  std::string retry_after;
};

Answer Request(int port, http::verb method, const std::string& target, const std::string& key) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  req.prepare_payload();
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  Answer a;
  a.status = static_cast<int>(res.result_int());
  a.body = res.body();
  if (res.count(http::field::retry_after)) a.retry_after = std::string(res[http::field::retry_after]);
  return a;
}

std::string Token(int port, const std::string& key) {
  const Answer a = Request(port, http::verb::post, "/v1/token", key);
  if (a.status != 200) return "";
  return nlohmann::json::parse(a.body).at("token").get<std::string>();
}

// The HTTP status of a WebSocket upgrade request to /twilio with `query` (as any client sends it).
int UpgradeStatus(int port, const std::string& query) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  http::request<http::empty_body> req{http::verb::get, "/twilio" + query, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return static_cast<int>(res.result_int());
}

const char* kStart =
    R"({"event":"start","sequenceNumber":"1","streamSid":"MZhostile","start":{"streamSid":"MZhostile",)"
    R"("accountSid":"AC1","callSid":"CAhostile","tracks":["inbound"],"customParameters":{},)"
    R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";

// A hostile stream: opens with a fresh token, then does `act`; returns once the server closed it
// (a read fails) or after `limit`.
template <typename Act>
bool LosesItsConnection(int port, Act act, std::chrono::seconds limit) {
  asio::io_context io;
  websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  ws.read_message_max(64 << 20);
  ws.handshake("127.0.0.1", "/twilio?token=" + Token(port, kGoodKey));
  act(ws);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  beast::flat_buffer buffer;
  while (std::chrono::steady_clock::now() < deadline) {
    beast::error_code ec;
    ws.read(buffer, ec);
    buffer.consume(buffer.size());
    if (ec) return true;
  }
  return false;
}

class ServeUnderAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_attack_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/keys") << "# test keys\n" << kGoodKey << "\n" << kGreedyKey << "\n";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      const int log = open((dir_ + "/serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, STDERR_FILENO);
      close(fds[0]);
      execl(CALLSIM_BINARY, CALLSIM_BINARY, "serve", "--agent",
            (kScenarios + "order_status.yaml").c_str(), "--listen", "127.0.0.1:0", "--api-keys",
            (dir_ + "/keys").c_str(), "--db", (dir_ + "/serve.db").c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[512];
    std::cmatch m;
    if (fgets(line, sizeof line, out_) &&
        std::regex_search(line, m, std::regex(R"(listening on http://[0-9.]+:([0-9]+))"))) {
      port_ = std::stoi(m[1].str());
    }
    ASSERT_GT(port_, 0) << "serve did not print its port";
  }
  void TearDown() override {
    if (pid_ > 0 && !stopped_) Stop();
    if (out_) fclose(out_);
    std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  int Stop() {
    stopped_ = true;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // The value of a sample line "<series> <value>" (not a # HELP or # TYPE line); -1 if none.
  double Metric(const std::string& body, const std::string& series) {
    const size_t at = body.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::stod(body.substr(at + series.size() + 2));
  }

  std::string dir_;
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
  bool stopped_ = false;
};

TEST_F(ServeUnderAttack, HostileClientsLoseOnlyTheirOwnConnectionWhileTwentyCallsPass) {
  // The good calls: 20 of callsim's own callers, 4 a second (within the key's token rate of 5 a
  // second), each fetching its token; calls last about 36 s, so all 20 overlap.
  setenv("CALLSIM_TEST_AGENT_KEY", kGoodKey.c_str(), 1);
  const std::string port = std::to_string(port_);
  auto good = std::async(std::launch::async, [&] {
    return testing::RunCli("run " + kScenarios + "order_status.yaml --callers 20 --set "
                           "load.arrival.rate_per_s=4 --target ws://127.0.0.1:" + port +
                           "/twilio --token-url http://127.0.0.1:" + port +
                           "/v1/token --api-key-env CALLSIM_TEST_AGENT_KEY --db " + dir_ + "/run.db" +
                           // Checked here: the wire, not the harness's clock on a busy machine.
                           " --set realtime.lateness_bound_ms=100");
  });

  // Tokens: missing, malformed, forged and reused tokens are refused with 401.
  EXPECT_EQ(UpgradeStatus(port_, ""), 401);
  EXPECT_EQ(UpgradeStatus(port_, "?token=nonsense"), 401);
  std::string forged = Token(port_, kGreedyKey);
  ASSERT_FALSE(forged.empty());
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(UpgradeStatus(port_, "?token=" + forged), 401);
  EXPECT_EQ(Request(port_, http::verb::post, "/v1/token", "not-a-key-of-this-server").status, 401);
  // A key that asks too fast: 429 with Retry-After (the good key's bucket is its own).
  Answer limited;
  for (int i = 0; i < 40 && limited.status != 429; ++i) {
    limited = Request(port_, http::verb::post, "/v1/token", kGreedyKey);
  }
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::atoi(limited.retry_after.c_str()), 1);

  // Hostile streams, each with a valid token, each closed by the server on its own.
  EXPECT_TRUE(LosesItsConnection(port_, [](auto& ws) {
    ws.text(true);
    ws.write(asio::buffer(std::string("{not json")));
  }, std::chrono::seconds(5))) << "bad JSON";
  EXPECT_TRUE(LosesItsConnection(port_, [](auto& ws) {
    ws.binary(true);
    ws.write(asio::buffer(std::string(320, '\x7f')));
  }, std::chrono::seconds(5))) << "binary frame";
  EXPECT_TRUE(LosesItsConnection(port_, [](auto& ws) {
    ws.text(true);
    beast::error_code ec;
    ws.write(asio::buffer(std::string(10 << 20, 'x')), ec);  // the server may cut it short
  }, std::chrono::seconds(5))) << "10 MB message";
  // A connection that never finishes its HTTP request: cut at the handshake timeout.
  std::thread stalled([&] {
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)});
    asio::write(s, asio::buffer(std::string("GET /twilio HTTP/1.1\r\nHost: x\r\n")));
    char c;
    beast::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);  // returns when the server closes it
    EXPECT_TRUE(ec) << "the stalled handshake was answered";
  });
  // A client that starts a call and then never reads nor sends: cut (idle, or slow reader).
  EXPECT_TRUE(LosesItsConnection(port_, [](auto& ws) {
    ws.text(true);
    ws.write(asio::buffer(std::string(R"({"event":"connected","protocol":"Call","version":"1.0.0"})")));
    ws.write(asio::buffer(std::string(kStart)));
    std::this_thread::sleep_for(std::chrono::seconds(32));  // never reads in this time
  }, std::chrono::seconds(10))) << "a client that never reads";
  stalled.join();

  const testing::CliOutput run = good.get();
  EXPECT_EQ(run.exit_code, 0) << run.text;
  std::string error;
  std::unique_ptr<Store> store = Store::Open(dir_ + "/run.db", &error);
  ASSERT_NE(store, nullptr) << error;
  const std::vector<CallRow> calls = store->LoadCalls(*store->LatestRunId());
  ASSERT_EQ(calls.size(), 20u);
  for (const CallRow& c : calls) EXPECT_TRUE(c.task_completed) << c.failure_reason;

  const std::string metrics = Request(port_, http::verb::get, "/metrics", "").body;
  EXPECT_GE(Metric(metrics, R"(callsim_server_ws_errors_total{reason="bad_message"})"), 1) << metrics;
  EXPECT_GE(Metric(metrics, R"(callsim_server_ws_errors_total{reason="binary_frame"})"), 1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_ws_errors_total{reason="message_too_big"})"), 1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_ws_errors_total{reason="handshake_timeout"})"), 1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_ws_errors_total{reason="idle_timeout"})") +
                Metric(metrics, R"(callsim_server_ws_errors_total{reason="slow_reader"})"),
            1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_auth_failures_total{reason="missing"})"), 1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_auth_failures_total{reason="bad_signature"})"), 1);
  EXPECT_GE(Metric(metrics, R"(callsim_server_auth_failures_total{reason="rate_limited"})"), 1);
  EXPECT_GE(Metric(metrics, "callsim_server_frames_in_total"), 20 * 1000);  // 20 s of 20 calls
  EXPECT_GE(Metric(metrics, "callsim_server_marks_out_total"), 20 * 3);
  // The agent's and the server's series together pass promtool (make deps installs it).
  std::ofstream(dir_ + "/metrics.txt") << metrics;
  EXPECT_EQ(std::system(("promtool check metrics < '" + dir_ + "/metrics.txt'").c_str()), 0)
      << metrics;

  // SIGTERM drains and exits 0; the served calls are in the server's store, no key or token.
  EXPECT_EQ(Stop(), 0);
  std::unique_ptr<Store> served = Store::Open(dir_ + "/serve.db", &error);
  ASSERT_NE(served, nullptr) << error;
  const int64_t run_id = *served->LatestRunId();
  EXPECT_EQ(served->LoadRun(run_id)->status, "completed");
  EXPECT_GE(served->LoadCalls(run_id).size(), 20u);
  EXPECT_EQ(served->LoadCallReports(run_id).size(), served->LoadCalls(run_id).size());
  std::ifstream log_file(dir_ + "/serve.log");
  const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(log.find(kGoodKey), std::string::npos) << "an API key reached the log";
  EXPECT_EQ(log.find("token="), std::string::npos) << "a token reached the log";
}

}  // namespace
}  // namespace callsim::harness
