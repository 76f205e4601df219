#include "agent/sip/client_transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent::sip {
namespace {

SipMessage Request(const std::string& method) {
  SipMessage m;
  m.method = method;
  m.request_uri = "sip:agent@127.0.0.1:5060";
  m.headers = {{"Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc"},
               {"From", "<sip:caller@127.0.0.1>;tag=c1"},
               {"To", "<sip:agent@127.0.0.1>"},
               {"Call-ID", "call-1"},
               {"CSeq", "1 " + method},
               {"Route", "<sip:proxy@127.0.0.1;lr>"}};
  return m;
}

SipMessage Response(int code, const std::string& method, const std::string& branch = "z9hG4bKabc") {
  SipMessage m;
  m.status_code = code;
  m.reason = "R";
  m.headers = {{"Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=" + branch},
               {"From", "<sip:caller@127.0.0.1>;tag=c1"},
               {"To", "<sip:agent@127.0.0.1>;tag=a9"},
               {"Call-ID", "call-1"},
               {"CSeq", "1 " + method}};
  return m;
}

struct Harness {
  SimScheduler scheduler;
  std::vector<std::pair<int64_t, std::string>> sent;  // time, first line
  std::vector<int> responses;
  int timeouts = 0;

  std::unique_ptr<ClientTransaction> Make(const std::string& method) {
    return std::make_unique<ClientTransaction>(
        scheduler, SipTimers{}, Request(method),
        [this](const std::string& bytes) {
          sent.emplace_back(scheduler.NowUs(), bytes.substr(0, bytes.find("\r\n")));
        },
        [this](const SipMessage& r) { responses.push_back(r.status_code); },
        [this] { ++timeouts; });
  }
  std::vector<int64_t> SendTimesMs() const {
    std::vector<int64_t> out;
    for (const auto& [t, line] : sent) out.push_back(t / 1000);
    return out;
  }
};

TEST(ClientTransaction, AnUnansweredInviteIsSentOnTimerAThenTimesOutOnTimerB) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Start();
  h.scheduler.RunUntil(40'000'000);
  // T1 = 500 ms doubling: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; timer B at 64*T1 = 32 s.
  EXPECT_EQ(h.SendTimesMs(), (std::vector<int64_t>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(h.timeouts, 1);
  EXPECT_EQ(t->state(), ClientTransaction::State::kTerminated);
}

TEST(ClientTransaction, AProvisionalResponseStopsInviteRetransmissionsAndTimerB) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Start();
  h.scheduler.RunUntil(1'000'000);
  t->OnReceive(Response(180, "INVITE"));
  h.scheduler.RunUntil(60'000'000);
  EXPECT_EQ(h.SendTimesMs(), (std::vector<int64_t>{0, 500}));
  EXPECT_EQ(h.timeouts, 0);
  EXPECT_EQ(t->state(), ClientTransaction::State::kProceeding);
  t->OnReceive(Response(200, "INVITE"));
  EXPECT_EQ(t->state(), ClientTransaction::State::kTerminated);
  EXPECT_EQ(h.responses, (std::vector<int>{180, 200}));
}

TEST(ClientTransaction, AFailureIsAckedHereAndItsRetransmissionsAckedAgainButPassedUpOnce) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Start();
  t->OnReceive(Response(486, "INVITE"));
  EXPECT_EQ(t->state(), ClientTransaction::State::kCompleted);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].second, "ACK sip:agent@127.0.0.1:5060 SIP/2.0");
  t->OnReceive(Response(486, "INVITE"));
  EXPECT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.responses, (std::vector<int>{486}));
  // Timer D (32 s) ends it; nothing is retransmitted meanwhile.
  h.scheduler.RunUntil(31'000'000);
  EXPECT_EQ(t->state(), ClientTransaction::State::kCompleted);
  h.scheduler.RunUntil(33'000'000);
  EXPECT_EQ(t->state(), ClientTransaction::State::kTerminated);
  EXPECT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.timeouts, 0);
}

TEST(ClientTransaction, TheAckOfAFailureCarriesTheResponsesToTagAndTheInvitesRoute) {
  const SipMessage ack = MakeAckForFailure(Request("INVITE"), Response(486, "INVITE"));
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(*ack.Header("To"), "<sip:agent@127.0.0.1>;tag=a9");
  EXPECT_EQ(*ack.Header("CSeq"), "1 ACK");
  EXPECT_EQ(*ack.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc");
  EXPECT_EQ(*ack.Header("Route"), "<sip:proxy@127.0.0.1;lr>");
  // It parses as a request in its own right.
  EXPECT_TRUE(ParseSipMessage(SerializeSipMessage(ack)).message);
}

TEST(ClientTransaction, ANonInviteRetransmitsUpToT2ThenTimesOutOnTimerF) {
  Harness h;
  auto t = h.Make("OPTIONS");
  t->Start();
  h.scheduler.RunUntil(40'000'000);
  // Timer E: 0.5, 1, 2, 4 (= T2), then every 4 s until timer F at 32 s.
  EXPECT_EQ(h.SendTimesMs(),
            (std::vector<int64_t>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(h.timeouts, 1);
}

TEST(ClientTransaction, ANonInviteKeepsRetransmittingAtT2AfterAProvisionalThenLingersOnTimerK) {
  Harness h;
  auto t = h.Make("BYE");
  t->Start();
  h.scheduler.RunUntil(600'000);
  t->OnReceive(Response(100, "BYE"));
  h.scheduler.RunUntil(6'000'000);
  // The pending 1 s timer still fires at 1.5 s; then T2 (4 s): 5.5 s.
  EXPECT_EQ(h.SendTimesMs(), (std::vector<int64_t>{0, 500, 1500, 5500}));
  t->OnReceive(Response(200, "BYE"));
  EXPECT_EQ(t->state(), ClientTransaction::State::kCompleted);
  h.scheduler.RunUntil(10'000'000);
  EXPECT_EQ(t->state(), ClientTransaction::State::kCompleted);  // timer K = T4 = 5 s
  h.scheduler.RunUntil(11'000'000);
  EXPECT_EQ(t->state(), ClientTransaction::State::kTerminated);
  EXPECT_EQ(h.SendTimesMs().size(), 4u);
  EXPECT_EQ(h.timeouts, 0);
}

TEST(ClientTransaction, OnlyResponsesWithItsBranchAndMethodMatch) {
  Harness h;
  auto t = h.Make("INVITE");
  EXPECT_TRUE(t->Matches(Response(180, "INVITE")));
  EXPECT_FALSE(t->Matches(Response(180, "INVITE", "z9hG4bKother")));
  EXPECT_FALSE(t->Matches(Response(200, "CANCEL")));
  EXPECT_FALSE(t->Matches(Request("INVITE")));
}

TEST(ClientTransaction, DestroyingItCancelsItsTimers) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Start();
  t.reset();
  h.scheduler.RunUntil(40'000'000);
  EXPECT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.timeouts, 0);
}

}  // namespace
}  // namespace callsim::agent::sip
