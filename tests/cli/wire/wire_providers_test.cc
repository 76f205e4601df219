// The reference agent with its providers over the wire: a `callsim serve` process serves a
// scenario's fakes over the OpenAI and Deepgram APIs, and `callsim run --target self` runs the same
// scenario against an agent whose STT, LLM and TTS are the wire clients pointed at it
// (fakes.<kind>.url). The calls must pass with the same expectations as with the in-process
// fakes: the same words, within the same latency bounds, barge-in cancelling streams over the wire.
#include <gtest/gtest.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <regex>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/wire/serve_process.h"
#include "tests/cli/wire/wire_fixture.h"

namespace callsim::harness {
namespace {

using testing::ExpectAllPassed;
using testing::kLooseLateness;
using testing::kScenarios;
using testing::RunCli;
using testing::ServeProcess;
using testing::StartServe;
using testing::StopServe;

// The value of `series` in serve's /metrics on `port` (-1 when absent).
double MetricValue(int port, const std::string& series) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::asio::connect(socket, boost::asio::ip::tcp::resolver(io).resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> request(http::verb::get, "/metrics", 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  std::smatch m;
  const std::string body = response.body();
  const std::regex line("(^|\\n)" + std::regex_replace(series, std::regex(R"([{}"])"), R"(\$&)") +
                        " ([0-9.e+]+)");
  return std::regex_search(body, m, line) ? std::stod(m[2].str()) : -1;
}

class WireProviders : public testing::WireTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(WireProviders, PassAsTheInProcessFakesDo) {
  const std::string scenario = kScenarios + GetParam() + ".yaml";
  // The fakes: the scenario's own fakes section (scripts, latency), served.
  ServeProcess fakes = StartServe({"--agent", scenario, "--listen", "127.0.0.1:0"}, dir_ + "/fakes.log");
  ASSERT_GT(fakes.port, 0) << "the fakes' serve did not start; see " << dir_ << "/fakes.log";
  const std::string base = "http://127.0.0.1:" + std::to_string(fakes.port);
  const auto out = RunCli("run " + scenario + " --target self --callers 2 --db " + db_ +
                          kLooseLateness + " --set fakes.stt.url=" + base +
                          " --set fakes.llm.url=" + base + "/v1 --set fakes.tts.url=" + base + "/v1");
  EXPECT_EQ(out.exit_code, 0) << out.text;
  ExpectAllPassed(*Open(), 2);
  // The fakes did the work: the two calls' STT streams, LLM and TTS requests reached them.
  EXPECT_EQ(MetricValue(fakes.port, R"(callsim_fake_provider_requests_total{api="listen"})"), 2);
  EXPECT_GE(MetricValue(fakes.port, R"(callsim_fake_provider_requests_total{api="chat"})"), 4);
  EXPECT_GE(MetricValue(fakes.port, R"(callsim_fake_provider_requests_total{api="speech"})"), 4);
  EXPECT_EQ(MetricValue(fakes.port, R"(callsim_fake_provider_refusals_total{api="chat",reason="bad_request"})"), 0);
  EXPECT_EQ(StopServe(fakes), 0);
}

INSTANTIATE_TEST_SUITE_P(Bundled, WireProviders,
                         ::testing::Values("order_status", "barge_in", "tools_guardrails"));

class WireProviderFailover : public testing::WireTest {};

// The primary LLM over the wire is down (its server's fakes are in an outage: 503 for every
// request); the agent retries, fails over to a secondary over the wire, and every call passes
// provider_failover's expectations, within its latency bound.
TEST_F(WireProviderFailover, A503FromThePrimaryFailsOverToTheSecondary) {
  ServeProcess down = StartServe({"--agent", kScenarios + "provider_failover.yaml", "--listen",
                                  "127.0.0.1:0"}, dir_ + "/down.log");
  ServeProcess up = StartServe({"--agent", kScenarios + "order_status.yaml", "--listen",
                                "127.0.0.1:0"}, dir_ + "/up.log");
  ASSERT_GT(down.port, 0);
  ASSERT_GT(up.port, 0);
  const std::string primary = "http://127.0.0.1:" + std::to_string(down.port);
  const std::string secondary = "http://127.0.0.1:" + std::to_string(up.port);
  // The agent's own file asks for no faults: the outage is the primary server's.
  const auto out = RunCli("run " + kScenarios + "provider_failover.yaml --target self --callers 2 --db " +
                          db_ + kLooseLateness + " --set fakes.llm.faults={}" +
                          " --set fakes.llm.url=" + primary + "/v1" +
                          " --set fakes.llm.secondary.url=" + secondary + "/v1" +
                          " --set fakes.stt.url=" + secondary + " --set fakes.tts.url=" + secondary + "/v1");
  EXPECT_EQ(out.exit_code, 0) << out.text;
  ExpectAllPassed(*Open(), 2);
  EXPECT_GE(MetricValue(down.port, R"(callsim_fake_provider_refusals_total{api="chat",reason="fault"})"), 2);
  EXPECT_GE(MetricValue(up.port, R"(callsim_fake_provider_requests_total{api="chat"})"), 2);
  EXPECT_EQ(StopServe(down), 0);
  EXPECT_EQ(StopServe(up), 0);
}

class WireProvidersRefused : public testing::WireTest {};

// A provider over the wire needs real time and a usable URL and key: each is refused up front,
// with the field named, before anything is stored.
TEST_F(WireProvidersRefused, InVirtualTimeOrWithABadUrlOrAnUnsetKey) {
  const std::string s = kScenarios + "order_status.yaml";
  struct Case {
    std::string args;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"run " + s + " --set fakes.llm.url=http://127.0.0.1:9/v1",
            "fakes.llm.url: a provider over the wire needs real time"},
           {"run " + s + " --target self --set fakes.tts.url=https://[::1/v1", "fakes.tts.url"},
           {"run " + s + " --target self --set fakes.stt.url=ftp://127.0.0.1:9",
            "expected an http://, https://, ws:// or wss:// URL"},
           {"run " + s + " --target self --set fakes.llm.url=http://127.0.0.1:9/v1"
                          " --set fakes.llm.api_key_env=CALLSIM_TEST_UNSET_KEY",
            "the environment variable CALLSIM_TEST_UNSET_KEY is not set"},
           {"run " + s + " --set fakes.llm.model=gpt-4o", "model needs url"}}) {
    const auto out = RunCli(c.args + " --db " + db_);
    EXPECT_EQ(out.exit_code, 2) << c.args << "\n" << out.text;
    EXPECT_NE(out.text.find(c.says), std::string::npos) << c.args << "\n" << out.text;
  }
}

}  // namespace
}  // namespace callsim::harness
