#include "agent/sip/server_transaction.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent::sip {
namespace {

SipMessage Request(const std::string& method, const std::string& branch = "z9hG4bKuac1") {
  SipMessage m;
  m.method = method;
  m.request_uri = "sip:agent@127.0.0.1:5060";
  m.headers = {{"Via", "SIP/2.0/UDP 127.0.0.1:5070;branch=" + branch},
               {"Via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKproxy"},
               {"From", "<sip:caller@127.0.0.1>;tag=c1"},
               {"To", "<sip:agent@127.0.0.1>"},
               {"Call-ID", "call-1"},
               {"CSeq", std::string("1 ") + (method == "ACK" ? "ACK" : method)}};
  return m;
}

struct Harness {
  SimScheduler scheduler;
  std::vector<std::pair<int64_t, std::string>> sent;
  int timeouts = 0;
  std::unique_ptr<ServerTransaction> Make(const std::string& method) {
    return std::make_unique<ServerTransaction>(
        scheduler, SipTimers{}, Request(method),
        [this](const std::string& bytes) {
          sent.emplace_back(scheduler.NowUs() / 1000, bytes.substr(0, bytes.find("\r\n")));
        },
        [this] { ++timeouts; });
  }
  std::vector<int64_t> TimesMs() const {
    std::vector<int64_t> out;
    for (const auto& s : sent) out.push_back(s.first);
    return out;
  }
};

TEST(MakeResponse, CopiesTheDialogHeadersAndTagsTheTo) {
  const SipMessage r = MakeResponse(Request("INVITE"), 180, "Ringing", "a1");
  EXPECT_EQ(r.HeaderValues("Via").size(), 2u);
  EXPECT_EQ(*r.Header("To"), "<sip:agent@127.0.0.1>;tag=a1");
  EXPECT_EQ(*r.Header("CSeq"), "1 INVITE");
  EXPECT_EQ(*r.Header("Call-ID"), "call-1");
  // 100 Trying carries no tag (section 8.2.6.2), and a To that has one keeps it.
  EXPECT_EQ(*MakeResponse(Request("INVITE"), 100, "Trying", "a1").Header("To"), "<sip:agent@127.0.0.1>");
  EXPECT_TRUE(ParseSipMessage(SerializeSipMessage(r)).message);
}

TEST(ServerTransaction, ARetransmittedInviteGetsTheLastProvisionalAgain) {
  Harness h;
  auto t = h.Make("INVITE");
  EXPECT_EQ(t->state(), ServerTransaction::State::kProceeding);
  t->OnRequest(Request("INVITE"));  // nothing sent yet: nothing to repeat
  EXPECT_TRUE(h.sent.empty());
  t->Respond(MakeResponse(t->request(), 180, "Ringing", "a1"));
  t->OnRequest(Request("INVITE"));
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].second, "SIP/2.0 180 Ringing");
  t->Respond(MakeResponse(t->request(), 200, "OK", "a1"));
  EXPECT_EQ(t->state(), ServerTransaction::State::kTerminated);  // the dialog owns the 2xx now
}

TEST(ServerTransaction, AFailureIsRetransmittedOnTimerGUntilTheAckThenAbsorbedForTimerI) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Respond(MakeResponse(t->request(), 486, "Busy Here", "a1"));
  h.scheduler.RunUntil(5'000'000);
  // 0, then G: 0.5, 1.5, 3.5 s (T1 doubling, capped at T2 = 4 s).
  EXPECT_EQ(h.TimesMs(), (std::vector<int64_t>{0, 500, 1500, 3500}));
  t->OnRequest(Request("ACK"));
  EXPECT_EQ(t->state(), ServerTransaction::State::kConfirmed);
  h.scheduler.RunUntil(9'000'000);
  EXPECT_EQ(h.sent.size(), 4u);
  EXPECT_EQ(t->state(), ServerTransaction::State::kConfirmed);
  h.scheduler.RunUntil(10'100'000);  // timer I: T4 = 5 s after the ACK
  EXPECT_EQ(t->state(), ServerTransaction::State::kTerminated);
  EXPECT_EQ(h.timeouts, 0);
}

TEST(ServerTransaction, AFailureNeverAckedEndsOnTimerH) {
  Harness h;
  auto t = h.Make("INVITE");
  t->Respond(MakeResponse(t->request(), 603, "Decline", "a1"));
  h.scheduler.RunUntil(40'000'000);
  // G: 0.5, 1.5, 3.5, 7.5, 11.5 ... every 4 s until H at 32 s.
  EXPECT_EQ(h.TimesMs(), (std::vector<int64_t>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500,
                                               23500, 27500, 31500}));
  EXPECT_EQ(h.timeouts, 1);
  EXPECT_EQ(t->state(), ServerTransaction::State::kTerminated);
}

TEST(ServerTransaction, ANonInviteAnswersRetransmissionsFromTheFinalResponseForTimerJ) {
  Harness h;
  auto t = h.Make("OPTIONS");
  EXPECT_EQ(t->state(), ServerTransaction::State::kTrying);
  t->OnRequest(Request("OPTIONS"));
  EXPECT_TRUE(h.sent.empty());
  t->Respond(MakeResponse(t->request(), 200, "OK", "a1"));
  EXPECT_EQ(t->state(), ServerTransaction::State::kCompleted);
  h.scheduler.RunUntil(10'000'000);
  EXPECT_EQ(h.sent.size(), 1u);  // no retransmission of its own
  t->OnRequest(Request("OPTIONS"));
  EXPECT_EQ(h.sent.size(), 2u);
  h.scheduler.RunUntil(33'000'000);  // timer J: 64*T1
  EXPECT_EQ(t->state(), ServerTransaction::State::kTerminated);
  EXPECT_EQ(h.timeouts, 0);
  // A second final response is not sent.
  t->Respond(MakeResponse(t->request(), 500, "Error", "a1"));
  EXPECT_EQ(h.sent.size(), 2u);
}

TEST(ServerTransaction, MatchesByTopBranchAndMethodAndAnAckMatchesItsInvite) {
  Harness h;
  auto invite = h.Make("INVITE");
  EXPECT_TRUE(invite->Matches(Request("INVITE")));
  EXPECT_TRUE(invite->Matches(Request("ACK")));
  EXPECT_FALSE(invite->Matches(Request("INVITE", "z9hG4bKother")));
  EXPECT_FALSE(invite->Matches(Request("BYE")));
  auto options = h.Make("OPTIONS");
  EXPECT_FALSE(options->Matches(Request("ACK")));
}

}  // namespace
}  // namespace callsim::agent::sip
