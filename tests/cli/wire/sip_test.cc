// SIP over loopback: `callsim run --target self --protocol sip` dials callsim's own agent served
// in the same process (INVITE, SDP offer/answer, RTP or SRTP media, RTCP both ways, BYE), and
// `callsim serve --sip` answers a caller in another process. Short calls keep the suite fast.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/wire/serve_process.h"
#include "tests/cli/wire/wire_fixture.h"

namespace callsim::harness {
namespace {

using testing::RunCli;
using testing::ServeProcess;
using testing::StartServe;
using testing::StopServe;
using testing::ExpectAllPassed;
using testing::kLooseLateness;
using testing::kScenarios;

class Sip : public testing::WireTest {};

// The call_media row of `call_id` for `direction` and `measured_by`, or nullptr.
const CallMediaRow* FindMedia(const std::vector<CallMediaRow>& rows, int64_t call_id,
                              const std::string& direction, const std::string& measured_by) {
  for (const CallMediaRow& r : rows) {
    if (r.call_id == call_id && r.direction == direction && r.measured_by == measured_by) return &r;
  }
  return nullptr;
}

int CountEvents(Store& store, int64_t run_id, int64_t call_id, const std::string& source,
                const std::string& kind) {
  int n = 0;
  for (const EventRow& e : store.LoadEvents(run_id, call_id)) n += e.source == source && e.kind == kind;
  return n;
}

// The media of every call: the caller received the agent's audio without loss on a clean line,
// and the agent's RTCP reports of the uplink reached the caller.
void ExpectCleanMedia(Store& store, int64_t run_id, bool srtp) {
  const std::vector<CallMediaRow> media = store.LoadCallMedia(run_id);
  for (const CallRow& c : store.LoadCalls(run_id)) {
    const CallMediaRow* down = FindMedia(media, c.call_id, "downlink", "receiver");
    ASSERT_NE(down, nullptr) << "call " << c.call_id;
    EXPECT_GT(down->packets_expected, 250) << "at least 5 s of the agent's RTP";
    EXPECT_EQ(down->packets_lost, 0);
    EXPECT_EQ(down->srtp_auth_failures, 0);
    EXPECT_EQ(down->srtp_replays, 0);
    const CallMediaRow* report = FindMedia(media, c.call_id, "uplink", "rtcp");
    ASSERT_NE(report, nullptr) << "call " << c.call_id << ": no RTCP report from the agent";
    EXPECT_GT(report->packets_expected, 100);
    EXPECT_EQ(report->packets_lost, 0);
    EXPECT_LT(report->jitter_ms, 20);
    ASSERT_NE(FindMedia(media, c.call_id, "uplink", "impairment"), nullptr);
  }
  const std::optional<RunInfo> run = store.LoadRun(run_id);
  EXPECT_NE(run->config_json.find("\"protocol\":\"sip\""), std::string::npos) << run->config_json;
  EXPECT_NE(run->config_json.find(srtp ? "\"srtp\":true" : "\"srtp\":false"), std::string::npos)
      << run->config_json;
}

TEST_F(Sip, OrderStatusPassesOverSipWithRtp) {
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --target self --protocol sip "
                          "--callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = ExpectAllPassed(*store, 2);
  ExpectCleanMedia(*store, run_id, /*srtp=*/false);
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  EXPECT_GT(m.at("turn_latency_p50_ms"), 300);
  EXPECT_LT(m.at("turn_latency_p50_ms"), 3000);
  EXPECT_GT(m.at("harness_lateness_count"), 100);
  ASSERT_TRUE(m.count("wer"));  // the agent's transcripts were relayed by Call-ID
  EXPECT_LT(m.at("wer"), 0.2);
  for (const CallRow& c : store->LoadCalls(run_id)) {
    EXPECT_EQ(CountEvents(*store, run_id, c.call_id, "call", "sip"), 1)
        << "answered (callsim's agent sends no provisional answer; the caller's BYE is its end)";
  }
}

TEST_F(Sip, OrderStatusPassesOverSipWithSrtp) {
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --target self --protocol sip "
                          "--srtp --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = ExpectAllPassed(*store, 2);
  ExpectCleanMedia(*store, run_id, /*srtp=*/true);
}

TEST_F(Sip, BargeInStopsTheAgentAtTheEarOverSrtp) {
  const auto out = RunCli("run " + kScenarios + "barge_in.yaml --target self --protocol sip "
                          "--srtp --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = ExpectAllPassed(*store, 2);
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  ASSERT_TRUE(m.count("barge_in_stop_max_ms"));
  EXPECT_LT(m.at("barge_in_stop_max_ms"), 600);
}

TEST_F(Sip, BargeInStopsTheAgentAtTheEarOverRtp) {
  const auto out = RunCli("run " + kScenarios + "barge_in.yaml --target self --protocol sip "
                          "--callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  ExpectAllPassed(*store, 2);
}

// DTMF keys travel as RFC 4733 events in the (S)RTP stream; the agent hears each key once.
void ExpectDtmfHeard(Store& store, int64_t run_id) {
  for (const CallRow& c : store.LoadCalls(run_id)) {
    EXPECT_EQ(CountEvents(store, run_id, c.call_id, "agent", "dtmf"), 4) << "call " << c.call_id;
  }
}

TEST_F(Sip, DtmfMenuPassesOverSipWithRtpAndWithSrtp) {
  for (const std::string srtp : {"", " --srtp"}) {
    const auto out = RunCli("run " + kScenarios + "dtmf_menu.yaml --target self --protocol sip" +
                            srtp + " --callers 2 --db " + db_ + kLooseLateness);
    ASSERT_EQ(out.exit_code, 0) << out.text;
    std::unique_ptr<Store> store = Open();
    const int64_t run_id = ExpectAllPassed(*store, 2);
    ExpectDtmfHeard(*store, run_id);
  }
}



// Two processes: the served agent stores its side of each call (the uplink as it received it,
// the caller's RTCP reports of the downlink), the caller its own; the stored counts agree.
TEST_F(Sip, ServeAnswersACallerInAnotherProcessAndBothSidesStoreTheMedia) {
  const std::string serve_db = dir_ + "/serve.db";
  ServeProcess serve = StartServe({"--agent", kScenarios + "dtmf_menu.yaml", "--listen",
                                   "127.0.0.1:0", "--sip", "127.0.0.1:0", "--db", serve_db},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.sip_port, 0) << "serve did not print its SIP port";
  const auto out = RunCli("run " + kScenarios + "dtmf_menu.yaml --callers 2 --target sip:agent@127.0.0.1:" +
                          std::to_string(serve.sip_port) + " --srtp --db " + db_ + kLooseLateness);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_EQ(StopServe(serve), 0);
  std::unique_ptr<Store> caller = Open();
  const int64_t run_id = ExpectAllPassed(*caller, 2);
  EXPECT_FALSE(caller->LoadMetrics(run_id).count("wer")) << "no transcripts cross processes";
  std::unique_ptr<Store> agent = Open(serve_db);
  const int64_t served_run = *agent->LatestRunId();
  const std::vector<CallRow> served = agent->LoadCalls(served_run);
  ASSERT_EQ(served.size(), 2u);
  const std::vector<CallMediaRow> media = agent->LoadCallMedia(served_run);
  for (const CallRow& c : served) {
    EXPECT_EQ(c.status, "completed") << c.failure_reason;
    const CallMediaRow* up = FindMedia(media, c.call_id, "uplink", "receiver");
    ASSERT_NE(up, nullptr);
    EXPECT_GT(up->packets_expected, 250);  // at least 5 s of the caller's RTP
    EXPECT_EQ(up->packets_lost, 0);
    EXPECT_NE(FindMedia(media, c.call_id, "downlink", "rtcp"), nullptr)
        << "the caller's reports reached the agent";
  }
}

// Digest authentication end to end: the served agent challenges every INVITE; the caller with
// the right credentials gets in, one with a wrong password fails with 401 and says so.
TEST_F(Sip, DigestAuthenticationLetsTheRightCallerInAndNoOneElse) {
  setenv("CALLSIM_TEST_SIP_SERVER_AUTH", "alice:s3cret-pass", 1);
  setenv("CALLSIM_TEST_SIP_RIGHT", "alice:s3cret-pass", 1);
  setenv("CALLSIM_TEST_SIP_WRONG", "alice:guess", 1);
  ServeProcess serve = StartServe({"--agent", kScenarios + "dtmf_menu.yaml", "--listen",
                                   "127.0.0.1:0", "--sip", "127.0.0.1:0", "--sip-auth-env",
                                   "CALLSIM_TEST_SIP_SERVER_AUTH"},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.sip_port, 0) << "serve did not print its SIP port";
  const std::string target = " --target sip:agent@127.0.0.1:" + std::to_string(serve.sip_port);
  const auto right = RunCli("run " + kScenarios + "dtmf_menu.yaml --callers 1" + target +
                            " --sip-auth-env CALLSIM_TEST_SIP_RIGHT --db " + db_ + kLooseLateness);
  EXPECT_EQ(right.exit_code, 0) << right.text;
  const std::string wrong_db = dir_ + "/wrong.db";
  const auto wrong = RunCli("run " + kScenarios + "dtmf_menu.yaml --callers 1" + target +
                            " --sip-auth-env CALLSIM_TEST_SIP_WRONG --db " + wrong_db +
                            kLooseLateness);
  EXPECT_EQ(wrong.exit_code, 99) << wrong.text;  // calls failed
  EXPECT_EQ(StopServe(serve), 0);
  std::unique_ptr<Store> store = Open();
  ExpectAllPassed(*store, 1);
  std::unique_ptr<Store> refused = Open(wrong_db);
  const std::vector<CallRow> calls = refused->LoadCalls(*refused->LatestRunId());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, "failed");
  EXPECT_NE(calls[0].failure_reason.find("401"), std::string::npos) << calls[0].failure_reason;
}

// A SIP relay between the caller and the served agent that rewrites the SRTP key in the agent's
// answer (a man in the middle, or a broken SBC): datagrams from `agent_port` go back to the last
// caller, everything else to the agent. The key's length stays the same, so Content-Length holds.
class KeySwappingRelay {
 public:
  explicit KeySwappingRelay(int agent_port) : agent_port_(agent_port) {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { Loop(); });
  }
  ~KeySwappingRelay() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int keys_swapped() const { return swapped_.load(); }

 private:
  void Loop() {
    char buf[65536];
    sockaddr_in caller{};
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      std::string datagram(buf, static_cast<size_t>(n));
      sockaddr_in to{};
      if (ntohs(from.sin_port) == agent_port_) {
        const std::regex key("inline:([A-Za-z0-9+/]{40})");
        std::smatch m;
        if (std::regex_search(datagram, m, key)) {
          datagram.replace(static_cast<size_t>(m.position(1)), 40, std::string(40, 'A'));
          ++swapped_;
        }
        to = caller;
      } else {
        caller = from;
        to = from;
        to.sin_port = htons(static_cast<uint16_t>(agent_port_));
      }
      sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
  }

  int agent_port_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> swapped_{0};
  std::thread thread_;
};

// A wrong SRTP key: every packet of the agent fails authentication at the caller and none is
// played, the call says why in its events and its media row, and the agent (whose key the caller
// has right) still hears the caller.
TEST_F(Sip, AWrongSrtpKeyPlaysNothingAndSaysWhyInTheCallsEvents) {
  const std::string serve_db = dir_ + "/serve.db";
  ServeProcess serve = StartServe({"--agent", kScenarios + "dtmf_menu.yaml", "--listen",
                                   "127.0.0.1:0", "--sip", "127.0.0.1:0", "--srtp", "required",
                                   "--db", serve_db},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.sip_port, 0) << "serve did not print its SIP port";
  KeySwappingRelay relay(serve.sip_port);
  const auto out = RunCli("run " + kScenarios + "dtmf_menu.yaml --callers 1 --srtp --target "
                          "sip:agent@127.0.0.1:" + std::to_string(relay.port()) + " --db " + db_ +
                          " --set caller.reply_timeout_ms=3000" + kLooseLateness);
  EXPECT_EQ(out.exit_code, 99) << out.text;  // the caller heard nothing it expected
  EXPECT_EQ(StopServe(serve), 0);
  EXPECT_GE(relay.keys_swapped(), 1);
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = *store->LatestRunId();
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].task_completed);
  bool said_why = false;
  for (const EventRow& e : store->LoadEvents(run_id, calls[0].call_id)) {
    if (e.source == "call" && e.kind == "media_error" &&
        e.detail_json.find("SRTP authentication failed") != std::string::npos) {
      said_why = true;
    }
  }
  EXPECT_TRUE(said_why) << "no media_error event naming the SRTP failure";
  const std::vector<CallMediaRow> media = store->LoadCallMedia(run_id);
  const CallMediaRow* down = FindMedia(media, calls[0].call_id, "downlink", "receiver");
  ASSERT_NE(down, nullptr);
  EXPECT_GT(down->srtp_auth_failures, 100) << "every packet of the agent was refused";
  EXPECT_EQ(down->packets_expected, 0) << "none was played";
  std::unique_ptr<Store> agent = Open(serve_db);
  const std::vector<CallMediaRow> served = agent->LoadCallMedia(*agent->LatestRunId());
  const CallMediaRow* up = FindMedia(served, 0, "uplink", "receiver");
  ASSERT_NE(up, nullptr);
  EXPECT_GT(up->packets_expected, 100) << "the caller's key was right: the agent heard it";
  EXPECT_EQ(up->srtp_auth_failures, 0);
}

// One datagram to 127.0.0.1:`port` and the first answer within `wait_ms` ("" when none).
std::string Exchange(int port, const std::string& datagram, int wait_ms) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  char buf[65536];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string Request(const std::string& method, const std::string& extra) {
  return method + " sip:agent@127.0.0.1 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + method + "\r\n"
         "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:agent@127.0.0.1>\r\n"
         "Call-ID: probe-" + method + "\r\nCSeq: 1 " + method + "\r\n" + extra +
         "Content-Length: 0\r\n\r\n";
}

// What a SIP server owes anyone who can reach its port: OPTIONS answered with what it allows, a
// method it does not serve refused with 405, a malformed request 400, and garbage nothing at all.
TEST_F(Sip, ServeAnswersOptionsRefusesWhatItDoesNotServeAndIgnoresGarbage) {
  ServeProcess serve = StartServe({"--agent", kScenarios + "order_status.yaml", "--listen",
                                   "127.0.0.1:0", "--sip", "127.0.0.1:0"},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.sip_port, 0) << "serve did not print its SIP port";
  const std::string options = Exchange(serve.sip_port, Request("OPTIONS", ""), 2000);
  EXPECT_EQ(options.rfind("SIP/2.0 200 ", 0), 0u) << options;
  EXPECT_NE(options.find("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS"), std::string::npos) << options;
  const std::string reg = Exchange(serve.sip_port, Request("REGISTER", ""), 2000);
  EXPECT_EQ(reg.rfind("SIP/2.0 405 ", 0), 0u) << reg;
  // The CSeq names another method than the request line: malformed, but answerable.
  std::string bad = Request("INVITE", "");
  bad.replace(bad.find("CSeq: 1 INVITE"), 14, "CSeq: 1 BYEBYE");
  const std::string refused = Exchange(serve.sip_port, bad, 2000);
  EXPECT_EQ(refused.rfind("SIP/2.0 400 ", 0), 0u) << refused;
  EXPECT_EQ(Exchange(serve.sip_port, std::string("\x16\x03\x01\x00\xff garbage", 14), 300), "");
  EXPECT_EQ(Exchange(serve.sip_port, "SIP/2.0 200 OK\r\n\r\n", 300), "") << "a response is never answered";
  EXPECT_EQ(StopServe(serve), 0);
}

// On a lossy line the agent's RTCP reports of the uplink agree with what callsim's simulated
// network did to it: the cumulative loss up to the packets after the last report, the jitter with
// the impairment's own RFC 3550 estimate at the moment of that report.
TEST_F(Sip, RtcpReportsAgreeWithTheSimulatedNetworkOnALossyLine) {
  const auto out = RunCli("run " + kScenarios + "lossy_network.yaml --target self --protocol sip "
                          "--callers 2 --db " + db_ + kLooseLateness);
  ASSERT_TRUE(out.exit_code == 0 || out.exit_code == 1) << out.text;  // calls may fail on loss
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = *store->LatestRunId();
  const std::vector<CallMediaRow> media = store->LoadCallMedia(run_id);
  int compared = 0;
  for (const CallRow& c : store->LoadCalls(run_id)) {
    const CallMediaRow* report = FindMedia(media, c.call_id, "uplink", "rtcp");
    const CallMediaRow* network = FindMedia(media, c.call_id, "uplink", "impairment");
    if (report == nullptr || network == nullptr) continue;
    ++compared;
    EXPECT_GT(network->packets_lost, 0) << "the line is lossy";
    // A report covers the packets up to its time; the last one is up to rtcp_interval (5 s,
    // 250 packets) old at the end of the call.
    EXPECT_NEAR(report->packets_lost / report->packets_expected,
                network->packets_lost / network->packets_expected, 0.02);
    // The impairment's jitter is its estimate as of that report: the same packets, the same
    // running estimate, up to the packets in flight when the report was sent.
    EXPECT_NEAR(report->jitter_ms, network->jitter_ms, std::max(0.5, 0.1 * network->jitter_ms))
        << "call " << c.call_id;
  }
  EXPECT_EQ(compared, 2);
}

TEST(SipFlags, BadSipFlagsAreRefusedBeforeAnythingRuns) {
  const std::string s = kScenarios + "order_status.yaml";
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"run " + s + " --target sips:agent@127.0.0.1:5061", "sips"},
      {"run " + s + " --target sip:agent@127.0.0.1:99999", "port"},
      {"run " + s + " --target sip:alice:pw@127.0.0.1:5060", "no password in the SIP URI"},
      {"run " + s + " --target ws://127.0.0.1:1/twilio --srtp", "--srtp and --sip-auth-env are for SIP"},
      {"run " + s + " --target self --protocol carrier-pigeon", "--protocol: expected twilio or sip"},
      {"run " + s + " --target sip:a@127.0.0.1:5060 --protocol twilio", "does not go with a sip: target"},
      {"run " + s + " --target sip:a@127.0.0.1:5060 --header X:1", "are for WebSocket targets"},
      {"run " + s + " --target sip:a@127.0.0.1:5060 --sip-auth-env CALLSIM_UNSET_VARIABLE_X", "is not set"},
      {"serve --agent " + s + " --sip 0.0.0.0:5060", "not an address to put in SDP"},
      {"serve --agent " + s + " --srtp required", "need --sip"},
      {"serve --agent " + s + " --sip 127.0.0.1:0 --srtp sometimes", "--srtp: expected off, optional or required"},
  };
  for (const Case& c : cases) {
    const auto out = RunCli(c.args);
    EXPECT_EQ(out.exit_code, 2) << c.args << "\n" << out.text;
    EXPECT_NE(out.text.find(c.message), std::string::npos) << c.args << "\n" << out.text;
  }
}

}  // namespace
}  // namespace callsim::harness
