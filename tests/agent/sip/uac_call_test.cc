#include "agent/sip/uac_call.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "agent/sip/digest.h"

namespace callsim::agent::sip {
namespace {

const HostPort kPeer{"127.0.0.1", 5060};

struct Sent {
  int64_t ms;
  HostPort to;
  SipMessage message;
};

// One UacCall against a hand-played peer: every datagram the call sends is parsed and kept, and
// every event is logged as "<ms> <event>".
struct Harness {
  SimScheduler scheduler;
  std::vector<Sent> sent;
  std::vector<std::string> events;
  std::unique_ptr<UacCall> call;
  std::optional<SipMessage> answered;

  static UacConfig Config() {
    UacConfig c;
    c.request_uri = "sip:agent@127.0.0.1:5060";
    c.from_uri = "sip:callsim@127.0.0.1";
    c.display_name = "Load \"7\"";
    c.local = {"127.0.0.1", 5070};
    c.call_id = "call-1@callsim";
    c.from_tag = "ft1";
    c.branch_prefix = "c1";
    c.extra_headers = {{"X-Scenario", "refund"}};
    c.cnonce = "cn1";
    return c;
  }

  explicit Harness(UacConfig config = Config()) {
    UacEvents e;
    e.on_provisional = [this](int code, const std::string& reason) {
      Log("provisional " + std::to_string(code) + " " + reason);
    };
    e.on_answered = [this](const SipMessage& ok) {
      answered = ok;
      Log("answered");
    };
    e.on_failed = [this](int code, const std::string& reason) {
      Log("failed " + std::to_string(code) + " " + reason);
    };
    e.on_remote_bye = [this](const std::string& reason) { Log("remote_bye " + reason); };
    e.on_terminated = [this] { Log("terminated"); };
    call = std::make_unique<UacCall>(scheduler, std::move(config), std::move(e),
                                     [this](const std::string& bytes, const HostPort& to) {
                                       SipParseResult p = ParseSipMessage(bytes);
                                       ASSERT_TRUE(p.message) << p.error << "\n" << bytes;
                                       sent.push_back({scheduler.NowUs() / 1000, to, *p.message});
                                     });
  }

  void Log(const std::string& event) {
    events.push_back(std::to_string(scheduler.NowUs() / 1000) + " " + event);
  }

  void Start() {
    std::string error;
    ASSERT_TRUE(call->Start("v=0 offer", &error)) << error;
  }

  // The last request sent with `method`.
  const SipMessage& Last(const std::string& method) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->message.method == method) return it->message;
    }
    ADD_FAILURE() << "no " << method << " sent";
    static const SipMessage none;
    return none;
  }

  std::vector<std::string> StartLines() const {
    std::vector<std::string> out;
    for (const Sent& s : sent) {
      out.push_back(s.message.is_request()
                        ? s.message.method + " " + *s.message.Header("CSeq")
                        : std::to_string(s.message.status_code) + " " + *s.message.Header("CSeq"));
    }
    return out;
  }

  void Deliver(const SipMessage& m) { call->OnMessage(m, kPeer); }
  // A response to the last `method` sent.
  void Reply(const std::string& method, int code, const std::string& reason,
             const std::vector<SipHeader>& extra = {}) {
    SipMessage r = MakeResponse(Last(method), code, reason, "uas1");
    if (code >= 200 && code < 300 && method == "INVITE") {
      r.headers.push_back({"Contact", "<sip:agent@127.0.0.1:5062>"});
      r.headers.push_back({"Content-Type", "application/sdp"});
      r.body = "v=0 answer";
    }
    for (const SipHeader& h : extra) r.headers.push_back(h);
    Deliver(r);
  }
  // A request from the peer within the dialog.
  SipMessage PeerRequest(const std::string& method, uint32_t cseq, const std::string& branch) {
    SipMessage m;
    m.method = method;
    m.request_uri = "sip:callsim@127.0.0.1:5070";
    m.headers = {{"Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=" + branch},
                 {"From", "<sip:agent@127.0.0.1:5060>;tag=uas1"},
                 {"To", "\"Load\" <sip:callsim@127.0.0.1>;tag=ft1"},
                 {"Call-ID", "call-1@callsim"},
                 {"CSeq", std::to_string(cseq) + " " + method}};
    return m;
  }
  void Answer() {
    Start();
    Reply("INVITE", 100, "Trying");
    Reply("INVITE", 180, "Ringing");
    Reply("INVITE", 200, "OK");
  }
};

TEST(UacCall, TheInviteCarriesTheCallersHeadersAndOfferToTheRequestUri) {
  Harness h;
  h.Start();
  ASSERT_EQ(h.sent.size(), 1u);
  const Sent& s = h.sent[0];
  EXPECT_EQ(s.to, kPeer);
  const SipMessage& m = s.message;
  EXPECT_EQ(m.method, "INVITE");
  EXPECT_EQ(m.request_uri, "sip:agent@127.0.0.1:5060");
  EXPECT_EQ(*m.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1-1;rport");
  EXPECT_EQ(*m.Header("Max-Forwards"), "70");
  EXPECT_EQ(*m.Header("From"), "\"Load \\\"7\\\"\" <sip:callsim@127.0.0.1>;tag=ft1");
  EXPECT_EQ(*m.Header("To"), "<sip:agent@127.0.0.1:5060>");
  EXPECT_EQ(*m.Header("Call-ID"), "call-1@callsim");
  EXPECT_EQ(*m.Header("CSeq"), "1 INVITE");
  EXPECT_EQ(*m.Header("Contact"), "<sip:callsim@127.0.0.1:5070>");
  EXPECT_EQ(*m.Header("Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO");
  EXPECT_EQ(*m.Header("User-Agent"), "callsim");
  EXPECT_EQ(*m.Header("X-Scenario"), "refund");
  EXPECT_EQ(*m.Header("Content-Type"), "application/sdp");
  EXPECT_EQ(m.body, "v=0 offer");
  EXPECT_EQ(h.call->state(), UacCall::State::kCalling);
}

TEST(UacCall, ARouteAmongTheExtraHeadersTakesTheInviteAndItsCancel) {
  UacConfig c = Harness::Config();
  c.extra_headers.push_back({"Route", "<sip:proxy@10.0.0.9:5066;lr>"});
  Harness h(c);
  h.Start();
  h.Reply("INVITE", 100, "Trying");
  h.call->Hangup();
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[0].to, (HostPort{"10.0.0.9", 5066}));
  EXPECT_EQ(h.sent[1].message.method, "CANCEL");
  EXPECT_EQ(h.sent[1].to, (HostPort{"10.0.0.9", 5066}));
  EXPECT_EQ(*h.sent[1].message.Header("Route"), "<sip:proxy@10.0.0.9:5066;lr>");
}

TEST(UacCall, StartRefusesWhatCannotBeSent) {
  UacConfig c = Harness::Config();
  c.request_uri = "sips:agent@127.0.0.1";
  Harness bad(c);
  std::string error;
  EXPECT_FALSE(bad.call->Start("", &error));
  EXPECT_EQ(error, "request_uri: sips: URIs need TLS, which callsim does not speak; use sip:");
  c = Harness::Config();
  c.extra_headers.push_back({"X-Evil", "a\r\nBYE: x"});
  Harness injected(c);
  EXPECT_FALSE(injected.call->Start("", &error));
  EXPECT_EQ(error, "extra header \"X-Evil\": the name must be a token and the value one line");
  EXPECT_TRUE(bad.sent.empty());
  EXPECT_TRUE(injected.sent.empty());
  Harness twice;
  twice.Start();
  EXPECT_FALSE(twice.call->Start("", &error));
  EXPECT_EQ(error, "the call was already started");
  EXPECT_EQ(twice.sent.size(), 1u);
}

TEST(UacCall, ProvisionalsAreReportedAndThe2xxAckedAtItsContactAgainForEachRetransmission) {
  Harness h;
  h.Start();
  h.Reply("INVITE", 100, "Trying");
  EXPECT_TRUE(h.events.empty());
  h.Reply("INVITE", 180, "Ringing");
  EXPECT_EQ(h.call->state(), UacCall::State::kRinging);
  h.Reply("INVITE", 183, "Session Progress");
  h.Reply("INVITE", 200, "OK");
  EXPECT_EQ(h.call->state(), UacCall::State::kConfirmed);
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"0 provisional 180 Ringing",
                                      "0 provisional 183 Session Progress", "0 answered"}));
  ASSERT_TRUE(h.answered);
  EXPECT_EQ(h.answered->body, "v=0 answer");
  ASSERT_EQ(h.sent.size(), 2u);
  const Sent ack = h.sent[1];  // a copy: more sends follow
  EXPECT_EQ(ack.to, (HostPort{"127.0.0.1", 5062}));
  EXPECT_EQ(ack.message.request_uri, "sip:agent@127.0.0.1:5062");
  EXPECT_EQ(*ack.message.Header("CSeq"), "1 ACK");
  EXPECT_EQ(*ack.message.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1-2;rport");
  EXPECT_EQ(*ack.message.Header("To"), "<sip:agent@127.0.0.1:5060>;tag=uas1");
  ASSERT_TRUE(h.call->dialog());
  EXPECT_EQ(h.call->dialog()->remote_tag, "uas1");
  // The 2xx again (our ACK was lost): the same ACK again, and no second on_answered.
  h.scheduler.RunUntil(500'000);
  h.Reply("INVITE", 200, "OK");
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(SerializeSipMessage(h.sent[2].message), SerializeSipMessage(ack.message));
  EXPECT_EQ(h.sent[2].ms, 500);
  EXPECT_EQ(h.call->stats().acks_sent, 2);
  EXPECT_EQ(h.call->stats().invites_sent, 1);
  EXPECT_EQ(h.events.size(), 3u);
}

TEST(UacCall, AnUnansweredInviteIsRetransmittedOnTimerAAndFailsOnTimerB) {
  Harness h;
  h.Start();
  h.scheduler.RunAll(1000);
  std::vector<int64_t> times;
  for (const Sent& s : h.sent) times.push_back(s.ms);
  EXPECT_EQ(times, (std::vector<int64_t>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"32000 failed 408 no answer (timer B)", "32000 terminated"}));
  EXPECT_EQ(h.call->stats().invites_sent, 7);
  EXPECT_EQ(h.call->state(), UacCall::State::kTerminated);
  EXPECT_EQ(h.call->transactions(), 0u);
  EXPECT_EQ(h.scheduler.pending(), 0u);
}

TEST(UacCall, AFailureIsAckedAndTheCallTerminatesOnlyAfterTimerD) {
  Harness h;
  h.Start();
  h.Reply("INVITE", 486, "Busy Here");
  EXPECT_EQ(h.StartLines(), (std::vector<std::string>{"INVITE 1 INVITE", "ACK 1 ACK"}));
  EXPECT_EQ(h.sent[1].message.request_uri, "sip:agent@127.0.0.1:5060");
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 failed 486 Busy Here"}));
  EXPECT_EQ(h.call->state(), UacCall::State::kEnding);
  // The 486 again: ACKed again while timer D runs.
  h.scheduler.RunUntil(2'000'000);
  h.Reply("INVITE", 486, "Busy Here");
  EXPECT_EQ(h.sent.size(), 3u);
  h.scheduler.RunUntil(31'999'000);
  EXPECT_EQ(h.events.size(), 1u);
  h.scheduler.RunAll(100);
  EXPECT_EQ(h.events.back(), "32000 terminated");
  EXPECT_EQ(h.call->stats().acks_sent, 2);
  EXPECT_EQ(h.scheduler.pending(), 0u);
}

TEST(UacCall, ADigestChallengeIsAnsweredOnceWithANewInvite) {
  UacConfig c = Harness::Config();
  c.credentials = DigestCredentials{"alice", "wonderland"};
  Harness h(c);
  h.Start();
  h.Reply("INVITE", 401, "Unauthorized",
          {{"WWW-Authenticate", "Digest realm=\"callsim\", nonce=\"n0nce\", qop=\"auth\""}});
  EXPECT_EQ(h.StartLines(),
            (std::vector<std::string>{"INVITE 1 INVITE", "ACK 1 ACK", "INVITE 2 INVITE"}));
  const SipMessage& retry = h.sent[2].message;
  EXPECT_EQ(*retry.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1-2;rport");
  // The ACK of the 401 carries the first INVITE's branch (section 17.1.1.3).
  EXPECT_EQ(*h.sent[1].message.Header("Via"),
            "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1-1;rport");
  ASSERT_NE(retry.Header("Authorization"), nullptr);
  const std::string auth = *retry.Header("Authorization");
  auto password = [](const std::string& pw) {
    return [pw](const std::string&) { return std::optional<std::string>(pw); };
  };
  EXPECT_TRUE(CheckDigestAuthorization(auth, "callsim", "n0nce", "INVITE", password("wonderland")));
  EXPECT_FALSE(CheckDigestAuthorization(auth, "callsim", "n0nce", "INVITE", password("other")));
  EXPECT_NE(auth.find("uri=\"sip:agent@127.0.0.1:5060\""), std::string::npos);
  EXPECT_NE(auth.find("cnonce=\"cn1\""), std::string::npos);
  EXPECT_EQ(retry.body, "v=0 offer");
  EXPECT_EQ(h.call->stats().auth_retries, 1);
  h.Reply("INVITE", 200, "OK");
  EXPECT_EQ(*h.sent.back().message.Header("CSeq"), "2 ACK");
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 answered"}));
  // Our BYE takes the next CSeq after the retried INVITE's.
  h.call->Hangup();
  EXPECT_EQ(*h.Last("BYE").Header("CSeq"), "3 BYE");
}

TEST(UacCall, AChallengedByeIsRetriedOnceWithTheNextCSeq) {
  UacConfig c = Harness::Config();
  c.credentials = DigestCredentials{"alice", "wonderland"};
  Harness h(c);
  h.Answer();
  h.call->Hangup();
  const std::vector<SipHeader> challenge = {
      {"WWW-Authenticate", "Digest realm=\"callsim\", nonce=\"b1\""}};
  h.Reply("BYE", 401, "Unauthorized", challenge);
  const SipMessage retry = h.Last("BYE");
  EXPECT_EQ(*retry.Header("CSeq"), "3 BYE");
  EXPECT_EQ(*retry.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc1-4;rport");
  ASSERT_NE(retry.Header("Authorization"), nullptr);
  EXPECT_EQ(h.call->dialog()->local_cseq, 3u);
  // A second challenge ends the call all the same: a BYE is not retried twice.
  h.Reply("BYE", 401, "Unauthorized", challenge);
  h.scheduler.RunUntil(0);
  EXPECT_EQ(h.events.back(), "0 terminated");
  EXPECT_EQ(h.call->stats().auth_retries, 1);
}

TEST(UacCall, AProxyChallengeGetsProxyAuthorization) {
  UacConfig c = Harness::Config();
  c.credentials = DigestCredentials{"alice", "wonderland"};
  Harness h(c);
  h.Start();
  h.Reply("INVITE", 407, "Proxy Authentication Required",
          {{"Proxy-Authenticate", "Digest realm=\"proxy\", nonce=\"p1\""}});
  const SipMessage& retry = h.sent.back().message;
  ASSERT_NE(retry.Header("Proxy-Authorization"), nullptr);
  EXPECT_EQ(retry.Header("Authorization"), nullptr);
  EXPECT_NE(retry.Header("Proxy-Authorization")->find("realm=\"proxy\""), std::string::npos);
}

TEST(UacCall, ASecondChallengeOrNoCredentialsFailsTheCallWithTheCode) {
  UacConfig c = Harness::Config();
  c.credentials = DigestCredentials{"alice", "wrong"};
  Harness h(c);
  h.Start();
  const std::vector<SipHeader> challenge = {
      {"WWW-Authenticate", "Digest realm=\"callsim\", nonce=\"n1\", qop=\"auth\""}};
  h.Reply("INVITE", 401, "Unauthorized", challenge);
  h.Reply("INVITE", 401, "Unauthorized", challenge);
  EXPECT_EQ(h.call->stats().auth_retries, 1);
  EXPECT_EQ(h.StartLines(), (std::vector<std::string>{"INVITE 1 INVITE", "ACK 1 ACK",
                                                      "INVITE 2 INVITE", "ACK 2 ACK"}));
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 failed 401 Unauthorized"}));

  Harness none;  // no credentials
  none.Start();
  none.Reply("INVITE", 401, "Unauthorized", challenge);
  EXPECT_EQ(none.events, (std::vector<std::string>{"0 failed 401 Unauthorized"}));
  EXPECT_EQ(none.call->stats().auth_retries, 0);
}

TEST(UacCall, HangupWhileRingingCancelsAndTheInvitesFailureEndsTheCall) {
  Harness h;
  h.Start();
  h.Reply("INVITE", 180, "Ringing");
  h.scheduler.RunUntil(2'000'000);
  h.call->Hangup();
  h.call->Hangup();  // idempotent
  EXPECT_EQ(h.call->state(), UacCall::State::kEnding);
  ASSERT_EQ(h.sent.size(), 2u);
  const SipMessage& invite = h.sent[0].message;
  const SipMessage& cancel = h.sent[1].message;
  EXPECT_EQ(cancel.method, "CANCEL");
  EXPECT_EQ(cancel.request_uri, invite.request_uri);
  EXPECT_EQ(*cancel.Header("Via"), *invite.Header("Via"));
  EXPECT_EQ(*cancel.Header("CSeq"), "1 CANCEL");
  EXPECT_EQ(*cancel.Header("To"), "<sip:agent@127.0.0.1:5060>");
  EXPECT_EQ(*cancel.Header("From"), *invite.Header("From"));
  h.Reply("CANCEL", 200, "OK");
  h.Reply("INVITE", 487, "Request Terminated");
  EXPECT_EQ(h.StartLines(),
            (std::vector<std::string>{"INVITE 1 INVITE", "CANCEL 1 CANCEL", "ACK 1 ACK"}));
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"0 provisional 180 Ringing", "2000 failed 487 cancelled"}));
  h.scheduler.RunAll(100);
  EXPECT_EQ(h.events.back(), "34000 terminated");  // timer D after the 487
  EXPECT_EQ(h.scheduler.pending(), 0u);
}

TEST(UacCall, HangupBeforeAnyProvisionalWaitsForOneToCancel) {
  Harness h;
  h.Start();
  h.call->Hangup();
  EXPECT_EQ(h.sent.size(), 1u);  // RFC 3261 section 9.1: no CANCEL yet
  h.scheduler.RunUntil(600'000);
  EXPECT_EQ(h.StartLines(), (std::vector<std::string>{"INVITE 1 INVITE", "INVITE 1 INVITE"}));
  h.Reply("INVITE", 100, "Trying");
  EXPECT_EQ(h.sent.back().message.method, "CANCEL");

  Harness silent;  // no response ever: timer B ends it, reported as our cancel
  silent.Start();
  silent.call->Hangup();
  silent.scheduler.RunAll(1000);
  EXPECT_EQ(silent.events,
            (std::vector<std::string>{"32000 failed 487 cancelled", "32000 terminated"}));
}

TEST(UacCall, A2xxCrossingTheCancelIsAckedAndHungUpAtOnce) {
  Harness h;
  h.Start();
  h.Reply("INVITE", 180, "Ringing");
  h.call->Hangup();
  h.Reply("INVITE", 200, "OK");
  EXPECT_EQ(h.StartLines(), (std::vector<std::string>{"INVITE 1 INVITE", "CANCEL 1 CANCEL",
                                                      "ACK 1 ACK", "BYE 2 BYE"}));
  EXPECT_EQ(h.sent[3].to, (HostPort{"127.0.0.1", 5062}));
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"0 provisional 180 Ringing", "0 failed 487 cancelled"}));
  h.scheduler.RunUntil(100'000);
  h.Reply("CANCEL", 200, "OK");
  h.Reply("BYE", 200, "OK");
  h.scheduler.RunUntil(100'000);
  EXPECT_EQ(h.events.back(), "100 terminated");
  EXPECT_EQ(h.call->transactions(), 0u);
  EXPECT_EQ(h.scheduler.pending(), 0u);
}

TEST(UacCall, RingingTooLongIsCancelledAndReportedAs408) {
  UacConfig c = Harness::Config();
  c.max_ringing_us = 10'000'000;
  Harness h(c);
  h.Start();
  h.Reply("INVITE", 180, "Ringing");
  h.scheduler.RunUntil(9'999'000);
  EXPECT_EQ(h.sent.size(), 1u);
  h.scheduler.RunUntil(10'000'000);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].message.method, "CANCEL");
  h.Reply("CANCEL", 200, "OK");
  h.Reply("INVITE", 487, "Request Terminated");
  EXPECT_EQ(
      h.events.back(),
      "10000 failed 408 ringing too long: no final answer 10 s after the provisional response");
}

TEST(UacCall, ACancelThatNothingAnswersEndsTheCallAfterMaxByeWait) {
  Harness h;
  h.Start();
  h.Reply("INVITE", 180, "Ringing");
  h.call->Hangup();
  h.scheduler.RunAll(1000);
  // CANCEL at 0, retransmitted at 0.5, 1.5, 3.5 s; at 4 s the call gives up and drops both.
  EXPECT_EQ(h.StartLines(),
            (std::vector<std::string>{"INVITE 1 INVITE", "CANCEL 1 CANCEL", "CANCEL 1 CANCEL",
                                      "CANCEL 1 CANCEL", "CANCEL 1 CANCEL"}));
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 provisional 180 Ringing",
                                                "4000 failed 487 cancelled", "4000 terminated"}));
}

TEST(UacCall, OurByeEndsTheCallOnIts200OrAfterMaxByeWait) {
  Harness h;
  h.Answer();
  h.scheduler.RunUntil(5'000'000);
  h.call->Hangup();
  EXPECT_EQ(h.call->state(), UacCall::State::kEnding);
  const SipMessage& bye = h.Last("BYE");
  EXPECT_EQ(bye.request_uri, "sip:agent@127.0.0.1:5062");
  EXPECT_EQ(*bye.Header("CSeq"), "2 BYE");
  EXPECT_EQ(*bye.Header("To"), "<sip:agent@127.0.0.1:5060>;tag=uas1");
  EXPECT_EQ(h.sent.back().to, (HostPort{"127.0.0.1", 5062}));
  h.Reply("BYE", 200, "OK");
  h.scheduler.RunUntil(5'000'000);
  EXPECT_EQ(h.events.back(), "5000 terminated");
  EXPECT_EQ(h.scheduler.pending(), 0u);

  Harness lost;
  lost.Answer();
  lost.call->Hangup();
  lost.scheduler.RunAll(1000);
  std::vector<int64_t> bye_times;
  for (const Sent& s : lost.sent) {
    if (s.message.method == "BYE") bye_times.push_back(s.ms);
  }
  EXPECT_EQ(bye_times, (std::vector<int64_t>{0, 500, 1500, 3500}));
  EXPECT_EQ(lost.events.back(), "4000 terminated");
}

TEST(UacCall, A2xxWithoutContactFailsWith502) {
  Harness h;
  h.Start();
  SipMessage ok = MakeResponse(h.Last("INVITE"), 200, "OK", "uas1");
  h.Deliver(ok);
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"0 failed 502 bad 2xx: the response has no Contact"}));
  h.scheduler.RunAll(10);
  EXPECT_EQ(h.events.back(), "0 terminated");
}

TEST(UacCall, ThePeersByeIsAnswered200AndTheCallLingersForTimerJ) {
  Harness h;
  h.Answer();
  h.scheduler.RunUntil(3'000'000);
  const SipMessage bye = h.PeerRequest("BYE", 7, "z9hG4bKuasbye");
  h.call->OnMessage(bye, {"127.0.0.1", 5999});
  EXPECT_EQ(h.events.back(), "3000 remote_bye the peer hung up (BYE)");
  ASSERT_EQ(h.sent.back().message.status_code, 200);
  EXPECT_EQ(*h.sent.back().message.Header("CSeq"), "7 BYE");
  EXPECT_EQ(h.sent.back().to, (HostPort{"127.0.0.1", 5999}));  // back to where it came from
  EXPECT_EQ(h.call->state(), UacCall::State::kEnding);
  // Its retransmission gets the same 200 from the transaction.
  h.scheduler.RunUntil(4'000'000);
  h.call->OnMessage(bye, {"127.0.0.1", 5999});
  EXPECT_EQ(h.sent.back().message.status_code, 200);
  EXPECT_EQ(h.sent.back().ms, 4000);
  EXPECT_EQ(h.call->stats().requests_answered, 1);
  // Our Hangup now does nothing: the call is over.
  const size_t sent = h.sent.size();
  h.call->Hangup();
  h.scheduler.RunUntil(34'999'000);
  EXPECT_EQ(h.events.back(), "3000 remote_bye the peer hung up (BYE)");
  h.scheduler.RunAll(100);
  EXPECT_EQ(h.events.back(), "35000 terminated");  // 64*T1 after the 200
  EXPECT_EQ(h.sent.size(), sent);
  EXPECT_EQ(h.scheduler.pending(), 0u);
}

TEST(UacCall, OtherInDialogRequestsGetTheirAnswers) {
  Harness h;
  h.Answer();
  struct Case {
    std::string method;
    uint32_t cseq;
    int code;
  };
  for (const Case& c : {Case{"OPTIONS", 2, 200}, Case{"INFO", 3, 200}, Case{"INVITE", 4, 488},
                        Case{"UPDATE", 5, 501}, Case{"INFO", 5, 500}}) {
    h.Deliver(h.PeerRequest(c.method, c.cseq, "z9hG4bKp" + std::to_string(c.cseq) + c.method));
    EXPECT_EQ(h.sent.back().message.status_code, c.code) << c.method << " " << c.cseq;
  }
  EXPECT_EQ(*h.sent[2].message.Header("Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO");
  EXPECT_EQ(*h.sent.back().message.Header("Warning"),
            "399 127.0.0.1 \"CSeq 5 is not above the last, 5\"");
  // A BYE of another dialog (another To tag) is refused and ends nothing.
  SipMessage stranger = h.PeerRequest("BYE", 9, "z9hG4bKstranger");
  stranger.SetHeader("To", "<sip:callsim@127.0.0.1>;tag=other");
  h.Deliver(stranger);
  EXPECT_EQ(h.sent.back().message.status_code, 481);
  EXPECT_EQ(h.sent.back().message.reason, "Call/Transaction Does Not Exist");
  EXPECT_EQ(h.call->state(), UacCall::State::kConfirmed);
  // The re-INVITE's 488 is retransmitted until its ACK, which the transaction absorbs.
  SipMessage ack = h.PeerRequest("ACK", 4, "z9hG4bKp4INVITE");
  h.Deliver(ack);
  EXPECT_EQ(h.call->stats().requests_answered, 6);
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 provisional 180 Ringing", "0 answered"}));
}

TEST(UacCall, ThePeersRequestsInFlightAreBounded) {
  Harness h;
  h.Answer();
  for (uint32_t i = 0; i < UacCall::kMaxPeerTransactions + 3; ++i) {
    h.Deliver(h.PeerRequest("OPTIONS", 2 + i, "z9hG4bKo" + std::to_string(i)));
  }
  EXPECT_EQ(h.call->stats().requests_answered, static_cast<int>(UacCall::kMaxPeerTransactions));
  EXPECT_EQ(h.call->stats().requests_dropped, 3);
  // Timer J frees them; then the peer may ask again.
  h.scheduler.RunUntil(33'000'000);
  h.Deliver(h.PeerRequest("OPTIONS", 100, "z9hG4bKlater"));
  EXPECT_EQ(h.call->stats().requests_answered, static_cast<int>(UacCall::kMaxPeerTransactions) + 1);
}

TEST(UacCall, HangupBeforeStartTerminatesWithoutSendingAndTheOwnerMayDestroyTheCallThen) {
  Harness h;
  h.call->Hangup();
  EXPECT_TRUE(h.events.empty());  // on_terminated comes from a task, not from inside Hangup
  h.scheduler.RunAll(10);
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 terminated"}));
  EXPECT_TRUE(h.sent.empty());

  // Destroying the call inside on_terminated is allowed.
  SimScheduler scheduler;
  std::unique_ptr<UacCall> call;
  UacEvents e;
  bool destroyed = false;
  e.on_terminated = [&] {
    call.reset();
    destroyed = true;
  };
  call = std::make_unique<UacCall>(scheduler, Harness::Config(), e,
                                   [](const std::string&, const HostPort&) {});
  std::string error;
  ASSERT_TRUE(call->Start("", &error));
  scheduler.RunAll(1000);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(scheduler.pending(), 0u);
}

}  // namespace
}  // namespace callsim::agent::sip
