#include "agent/sip/uas_core.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "agent/sip/digest.h"

namespace callsim::agent::sip {
namespace {

const HostPort kCaller{"127.0.0.1", 5070};

struct Sent {
  int64_t ms;
  HostPort to;
  std::string bytes;
  SipMessage message;  // every datagram the core sends must parse
};

struct RequestSpec {
  std::string method = "INVITE";
  std::string call_id = "c1";
  std::string branch = "z9hG4bKb1";
  uint32_t cseq = 1;
  std::string to_tag = "";
  std::string extra = "";  // whole header lines, each ending in \r\n
  std::string body = "";
  std::string uri = "sip:agent@127.0.0.1:5060";
};

// A request as a caller writes it, as text.
std::string Request(const RequestSpec& r) {
  const std::string cseq_method = r.method;
  std::string text = r.method + " " + r.uri + " SIP/2.0\r\n" +
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" + r.branch + ";rport\r\n" +
                     "Max-Forwards: 70\r\n" + "From: <sip:callsim@127.0.0.1>;tag=ft1\r\n" +
                     "To: <sip:agent@127.0.0.1:5060>" +
                     (r.to_tag.empty() ? "" : ";tag=" + r.to_tag) + "\r\n" +
                     "Call-ID: " + r.call_id + "\r\n" + "CSeq: " + std::to_string(r.cseq) + " " +
                     cseq_method + "\r\n" + "Contact: <sip:callsim@127.0.0.1:5070>\r\n" + r.extra;
  if (!r.body.empty()) text += "Content-Type: application/sdp\r\n";
  return text + "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
}

struct Harness {
  SimScheduler scheduler;
  std::vector<Sent> sent;
  std::vector<std::string> events;
  std::vector<SipDialogId> invited;
  std::unique_ptr<UasCore> uas;

  static UasConfig Config() {
    UasConfig c;
    c.local = {"127.0.0.1", 5060};
    return c;
  }

  explicit Harness(UasConfig config = Config()) {
    UasEvents e;
    e.on_invite = [this](SipDialogId id, const SipMessage& invite, const HostPort& from) {
      invited.push_back(id);
      Log("invite " + std::to_string(id) + " " + *invite.Header("Call-ID") + " from " +
          FormatHostPort(from));
    };
    e.on_confirmed = [this](SipDialogId id) { Log("confirmed " + std::to_string(id)); };
    e.on_ended = [this](SipDialogId id, const std::string& reason) {
      Log("ended " + std::to_string(id) + " " + reason);
    };
    uas = std::make_unique<UasCore>(
        scheduler, std::move(config), std::move(e),
        [this](const std::string& bytes, const HostPort& to) {
          SipParseResult p = ParseSipMessage(bytes);
          ASSERT_TRUE(p.message) << p.error << "\n" << bytes;
          sent.push_back({scheduler.NowUs() / 1000, to, bytes, *p.message});
        },
        Rng(7));
  }

  void Log(const std::string& event) {
    events.push_back(std::to_string(scheduler.NowUs() / 1000) + " " + event);
  }
  void In(const std::string& bytes, const HostPort& from = kCaller) {
    uas->OnDatagram(bytes, from);
  }
  void In(const RequestSpec& r) { In(Request(r)); }

  // "200 1 INVITE" for each datagram sent (requests: "BYE 1 BYE").
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (const Sent& s : sent) {
      const std::string head =
          s.message.is_request() ? s.message.method : std::to_string(s.message.status_code);
      out.push_back(head + " " + *s.message.Header("CSeq"));
    }
    return out;
  }
  std::string ToTag(size_t i) const {
    return HeaderParam(*sent[i].message.Header("To"), "tag").value_or("");
  }
  // Runs every timer out: nothing may be left behind.
  void Drain() {
    EXPECT_LT(scheduler.RunAll(100000), 100000u);
    EXPECT_EQ(uas->dialogs(), 0u);
    EXPECT_EQ(uas->transactions(), 0u);
    EXPECT_EQ(scheduler.pending(), 0u);
  }
};

TEST(UasCore, AnInviteIsTriedOfferedAnsweredConfirmedAndHungUpByTheCaller) {
  Harness h;
  RequestSpec invite;
  invite.body = "v=0 offer";
  invite.extra = "Record-Route: <sip:p1@10.0.0.1;lr>\r\n";
  h.In(invite);
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 invite 1 c1 from 127.0.0.1:5070"}));
  ASSERT_EQ(h.Lines(), (std::vector<std::string>{"100 1 INVITE"}));
  EXPECT_EQ(*h.sent[0].message.Header("To"), "<sip:agent@127.0.0.1:5060>");  // no tag on a 100
  EXPECT_EQ(h.sent[0].to, kCaller);
  EXPECT_EQ(h.uas->dialogs(), 1u);

  EXPECT_TRUE(h.uas->Answer(1, "v=0 answer"));
  EXPECT_FALSE(h.uas->Answer(1, "again"));
  EXPECT_FALSE(h.uas->Answer(9, "unknown"));
  ASSERT_EQ(h.sent.size(), 2u);
  const SipMessage& ok = h.sent[1].message;
  EXPECT_EQ(ok.status_code, 200);
  const std::string tag = h.ToTag(1);
  EXPECT_EQ(tag.size(), 16u);
  EXPECT_EQ(*ok.Header("Contact"), "<sip:agent@127.0.0.1:5060>");
  EXPECT_EQ(*ok.Header("Record-Route"), "<sip:p1@10.0.0.1;lr>");
  EXPECT_EQ(*ok.Header("Content-Type"), "application/sdp");
  EXPECT_EQ(*ok.Header("Server"), "callsim");
  EXPECT_EQ(*ok.Header("Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb1;rport");
  EXPECT_EQ(ok.body, "v=0 answer");

  h.scheduler.RunUntil(200'000);
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKack", .to_tag = tag});
  EXPECT_EQ(h.events.back(), "200 confirmed 1");
  h.scheduler.RunUntil(10'000'000);
  EXPECT_EQ(h.sent.size(), 2u);  // no 2xx retransmission after the ACK
  h.In(RequestSpec{.method = "BYE", .branch = "z9hG4bKbye", .cseq = 2, .to_tag = tag});
  EXPECT_EQ(h.Lines(), (std::vector<std::string>{"100 1 INVITE", "200 1 INVITE", "200 2 BYE"}));
  EXPECT_EQ(h.events.back(), "10000 ended 1 caller hung up (BYE)");
  EXPECT_EQ(h.uas->dialogs(), 0u);
  const UasStats& s = h.uas->stats();
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.invites, 1u);
  EXPECT_EQ(s.answered, 1u);
  EXPECT_EQ(s.byes_received, 1u);
  h.Drain();
}

TEST(UasCore, The2xxIsRetransmittedT1DoublingToT2UntilTheAck) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  h.scheduler.RunUntil(8'000'000);
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKack", .to_tag = h.ToTag(1)});
  h.scheduler.RunUntil(20'000'000);
  std::vector<int64_t> times;
  for (const Sent& s : h.sent) times.push_back(s.ms);
  EXPECT_EQ(times, (std::vector<int64_t>{0, 0, 500, 1500, 3500, 7500}));
  EXPECT_EQ(h.events.back(), "8000 confirmed 1");
  // A repeated ACK changes nothing.
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKack", .to_tag = h.ToTag(1)});
  EXPECT_EQ(h.events.size(), 2u);
}

TEST(UasCore, NoAckEverSendsByeAt64T1AndEndsTheDialog) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  h.scheduler.RunUntil(40'000'000);
  std::vector<int64_t> ok_times;
  for (const Sent& s : h.sent) {
    if (s.message.status_code == 200) ok_times.push_back(s.ms);
  }
  EXPECT_EQ(ok_times, (std::vector<int64_t>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500,
                                            27500, 31500}));
  EXPECT_EQ(h.events.back(), "32000 ended 1 no ACK");
  EXPECT_EQ(h.uas->stats().ack_timeouts, 1u);
  EXPECT_EQ(h.uas->stats().byes_sent, 1u);
  EXPECT_EQ(h.uas->dialogs(), 0u);
  // The BYE goes to the caller's Contact, from the callee's side of the dialog.
  const Sent* bye = nullptr;
  for (const Sent& s : h.sent) {
    if (s.message.method == "BYE") {
      bye = &s;
      break;
    }
  }
  ASSERT_NE(bye, nullptr);
  EXPECT_EQ(bye->ms, 32000);
  EXPECT_EQ(bye->to, kCaller);
  EXPECT_EQ(bye->message.request_uri, "sip:callsim@127.0.0.1:5070");
  EXPECT_EQ(*bye->message.Header("CSeq"), "1 BYE");
  EXPECT_EQ(*bye->message.Header("From"), "<sip:agent@127.0.0.1:5060>;tag=" + h.ToTag(1));
  EXPECT_EQ(*bye->message.Header("To"), "<sip:callsim@127.0.0.1>;tag=ft1");
  EXPECT_EQ(*bye->message.Header("User-Agent"), "callsim");
  // Its 200 arrives: the transaction lingers for timer K, then everything is gone.
  SipMessage ok = MakeResponse(bye->message, 200, "OK", "");
  h.In(SerializeSipMessage(ok));
  EXPECT_EQ(h.uas->stats().responses_ignored, 0u);
  h.Drain();
  EXPECT_EQ(h.events.size(), 2u);  // on_ended once
}

TEST(UasCore, RetransmittedInvitesAreAbsorbedBeforeAndAfterTheAnswer) {
  Harness h;
  h.In(RequestSpec{});
  h.In(RequestSpec{});
  EXPECT_EQ(h.Lines(), (std::vector<std::string>{"100 1 INVITE", "100 1 INVITE"}));
  h.uas->Answer(1, "v=0");
  h.In(RequestSpec{});
  EXPECT_EQ(h.Lines(), (std::vector<std::string>{"100 1 INVITE", "100 1 INVITE", "200 1 INVITE",
                                                 "200 1 INVITE"}));
  EXPECT_EQ(h.sent[3].bytes, h.sent[2].bytes);
  EXPECT_EQ(h.invited.size(), 1u);
  EXPECT_EQ(h.uas->dialogs(), 1u);
  EXPECT_EQ(h.uas->stats().retransmissions_absorbed, 2u);
  EXPECT_EQ(h.uas->stats().invites, 1u);
}

TEST(UasCore, CancelBeforeTheAnswerEndsTheInviteWith487) {
  Harness h;
  h.In(RequestSpec{});
  h.scheduler.RunUntil(1'000'000);
  h.In(RequestSpec{.method = "CANCEL"});
  EXPECT_EQ(h.Lines(), (std::vector<std::string>{"100 1 INVITE", "200 1 CANCEL", "487 1 INVITE"}));
  EXPECT_EQ(h.ToTag(1), h.ToTag(2));  // the CANCEL's 200 carries the INVITE's tag
  EXPECT_EQ(h.events.back(), "1000 ended 1 cancelled (CANCEL)");
  EXPECT_FALSE(h.uas->Answer(1, "v=0"));
  EXPECT_EQ(h.uas->stats().cancels, 1u);
  // The 487 is retransmitted until the caller's ACK (same branch), then absorbed.
  h.scheduler.RunUntil(1'600'000);
  EXPECT_EQ(h.sent.back().message.status_code, 487);
  EXPECT_EQ(h.sent.back().ms, 1500);
  h.In(RequestSpec{.method = "ACK", .to_tag = h.ToTag(2)});
  h.scheduler.RunUntil(5'000'000);
  EXPECT_EQ(h.sent.size(), 4u);
  h.Drain();
  EXPECT_EQ(h.events.size(), 2u);
}

TEST(UasCore, CancelAfterTheAnswerOrOfNothingChangesNoCall) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  h.In(RequestSpec{.method = "CANCEL"});
  EXPECT_EQ(h.sent.back().message.status_code, 200);
  EXPECT_EQ(h.uas->dialogs(), 1u);
  h.In(RequestSpec{.method = "CANCEL", .call_id = "c9", .branch = "z9hG4bKnone"});
  EXPECT_EQ(h.sent.back().message.status_code, 481);
  EXPECT_EQ(h.uas->stats().no_dialog, 1u);
  EXPECT_EQ(h.events.size(), 1u);
}

TEST(UasCore, DigestChallengesEveryNewInviteAndChecksTheAnswer) {
  UasConfig c = Harness::Config();
  c.realm = "callsim";
  c.password_of = [](const std::string& user) -> std::optional<std::string> {
    if (user == "alice") return "wonderland";
    return std::nullopt;
  };
  Harness h(c);
  h.In(RequestSpec{});
  ASSERT_EQ(h.Lines(), (std::vector<std::string>{"401 1 INVITE"}));
  EXPECT_TRUE(h.events.empty());
  const std::string challenge_text = *h.sent[0].message.Header("WWW-Authenticate");
  const std::optional<DigestChallenge> challenge = ParseDigestChallenge(challenge_text);
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->realm, "callsim");
  EXPECT_EQ(challenge->nonce.size(), 32u);
  EXPECT_TRUE(challenge->qop_auth);
  h.In(RequestSpec{.method = "ACK", .to_tag = h.ToTag(0)});  // the 401's ACK is absorbed

  auto answer = [&](const std::string& password, const std::string& branch, uint32_t cseq) {
    RequestSpec r{.branch = branch, .cseq = cseq};
    r.extra = "Authorization: " +
              DigestAuthorization(*challenge, {"alice", password}, "INVITE", r.uri, "cn") + "\r\n";
    return r;
  };
  h.In(answer("wrong", "z9hG4bKb2", 2));
  EXPECT_EQ(h.sent.back().message.status_code, 401);
  EXPECT_EQ(h.uas->stats().auth_failures, 1u);
  EXPECT_TRUE(h.events.empty());
  // The first nonce is still outstanding (a wrong answer does not use it up).
  h.In(answer("wonderland", "z9hG4bKb3", 3));
  EXPECT_EQ(h.sent.back().message.status_code, 100);
  EXPECT_EQ(h.events, (std::vector<std::string>{"0 invite 1 c1 from 127.0.0.1:5070"}));
  // A nonce answers one INVITE: replayed on a new transaction, it is challenged afresh.
  h.In(answer("wonderland", "z9hG4bKb4", 4));
  EXPECT_EQ(h.sent.back().message.status_code, 401);
  const UasStats& s = h.uas->stats();
  EXPECT_EQ(s.auth_challenges, 3u);
  EXPECT_EQ(s.auth_failures, 1u);
  EXPECT_EQ(s.invites, 4u);
}

TEST(UasCore, AnInviteBeyondMaxDialogsGets503WithRetryAfter) {
  UasConfig c = Harness::Config();
  c.max_dialogs = 1;
  Harness h(c);
  h.In(RequestSpec{});
  h.In(RequestSpec{.call_id = "c2", .branch = "z9hG4bKb2"});
  ASSERT_EQ(h.sent.back().message.status_code, 503);
  EXPECT_EQ(h.sent.back().message.reason, "Service Unavailable");
  EXPECT_EQ(*h.sent.back().message.Header("Retry-After"), "5");
  EXPECT_EQ(h.uas->stats().over_capacity, 1u);
  EXPECT_EQ(h.invited.size(), 1u);
}

TEST(UasCore, OptionsGets200WithAllowAndNoBodyAndRegisterGets405) {
  Harness h;
  h.In(RequestSpec{.method = "OPTIONS"});
  const SipMessage& ok = h.sent.back().message;
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(*ok.Header("Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS");
  EXPECT_EQ(*ok.Header("Accept"), "application/sdp");
  EXPECT_EQ(*ok.Header("Supported"), "");
  EXPECT_TRUE(ok.body.empty());
  EXPECT_NE(h.sent.back().bytes.find("Content-Length: 0\r\n"), std::string::npos);
  h.In(RequestSpec{.method = "REGISTER", .branch = "z9hG4bKreg"});
  EXPECT_EQ(h.sent.back().message.status_code, 405);
  EXPECT_EQ(h.sent.back().message.reason, "Method Not Allowed");
  EXPECT_EQ(*h.sent.back().message.Header("Allow"), "INVITE, ACK, BYE, CANCEL, OPTIONS");
  const UasStats& s = h.uas->stats();
  EXPECT_EQ(s.options, 1u);
  EXPECT_EQ(s.not_allowed, 1u);
  EXPECT_TRUE(h.events.empty());
  h.Drain();
}

TEST(UasCore, MaxForwardsZeroGets483AndANonSipUriGets416) {
  Harness h;
  std::string text = Request(RequestSpec{});
  text.replace(text.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  h.In(text);
  EXPECT_EQ(h.sent.back().message.status_code, 483);
  EXPECT_EQ(h.sent.back().message.reason, "Too Many Hops");
  h.In(RequestSpec{.branch = "z9hG4bKtel", .uri = "tel:+15551234"});
  EXPECT_EQ(h.sent.back().message.status_code, 416);
  h.In(RequestSpec{.branch = "z9hG4bKsips", .uri = "sips:agent@127.0.0.1"});
  EXPECT_EQ(h.sent.back().message.status_code, 416);
  EXPECT_TRUE(h.invited.empty());
  h.Drain();
}

TEST(UasCore, MalformedDatagramsGet400OnlyWhenTheyCanBeAddressed) {
  Harness h;
  // Without a Call-ID no valid response can be built (every response copies it, RFC 3261
  // section 8.2.6.2, and a receiver's parser refuses one without): dropped, not answered.
  std::string no_call_id = Request(RequestSpec{});
  no_call_id.replace(no_call_id.find("Call-ID: c1\r\n"), 13, "");
  h.In(no_call_id);
  EXPECT_EQ(h.sent.size(), 0u);
  EXPECT_EQ(h.uas->stats().unparseable_dropped, 1u);

  std::string mismatch = Request(RequestSpec{});
  mismatch.replace(mismatch.find("CSeq: 1 INVITE"), 14, "CSeq: 1 BYE");
  h.In(mismatch);
  ASSERT_EQ(h.sent.size(), 1u);
  const SipMessage& bad = h.sent[0].message;
  EXPECT_EQ(bad.status_code, 400);
  EXPECT_EQ(bad.reason, "Bad Request");
  EXPECT_EQ(*bad.Header("Warning"),
            "399 127.0.0.1 \"the CSeq method BYE is not the request's INVITE\"");
  EXPECT_EQ(*bad.Header("CSeq"), "1 BYE");
  EXPECT_EQ(*bad.Header("Call-ID"), "c1");
  EXPECT_EQ(h.sent[0].to, kCaller);

  // A header line the parser refuses; its text (with a quote and a control byte) is made safe.
  std::string junk = Request(RequestSpec{.branch = "z9hG4bKj"});
  junk.insert(junk.find("Max-Forwards"), "bad \"line\x01\r\n");
  h.In(junk);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(*h.sent[1].message.Header("Warning"),
            "399 127.0.0.1 \"bad header line (expected NAME: VALUE): ?bad ?line??\"");

  const std::string garbage("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xff\r\n\r\n", 16);
  h.In(garbage);
  // Looks like a response (never answered, or two ends would answer each other forever).
  h.In(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=1\r\n"
      "To: <sip:b@h>\r\nCall-ID: x\r\nCSeq: one INVITE\r\n\r\n");
  // An ACK is never answered either.
  std::string ack = Request(RequestSpec{.method = "ACK"});
  ack.replace(ack.find("CSeq: 1 ACK"), 11, "CSeq: x ACK");
  h.In(ack);
  EXPECT_EQ(h.sent.size(), 2u);
  const UasStats& s = h.uas->stats();
  EXPECT_EQ(s.bad_requests, 2u);
  EXPECT_EQ(s.unparseable_dropped, 4u);
  EXPECT_EQ(h.uas->transactions(), 0u);  // answered statelessly
}

TEST(UasCore, AnInviteWithoutContactGets400AndNoDialog) {
  Harness h;
  std::string text = Request(RequestSpec{});
  text.replace(text.find("Contact: <sip:callsim@127.0.0.1:5070>\r\n"), 39, "");
  h.In(text);
  EXPECT_EQ(h.sent.back().message.status_code, 400);
  EXPECT_EQ(*h.sent.back().message.Header("Warning"),
            "399 127.0.0.1 \"the INVITE has no Contact\"");
  EXPECT_TRUE(h.invited.empty());
  EXPECT_EQ(h.uas->stats().bad_requests, 1u);
}

TEST(UasCore, ByeOfAnUnknownDialogGets481AndAReInviteGets488) {
  Harness h;
  h.In(RequestSpec{.method = "BYE", .to_tag = "nope"});
  EXPECT_EQ(h.sent.back().message.status_code, 481);
  EXPECT_EQ(h.sent.back().message.reason, "Call/Transaction Does Not Exist");
  h.In(RequestSpec{.branch = "z9hG4bKi"});
  h.uas->Answer(1, "v=0");
  const std::string tag = h.ToTag(h.sent.size() - 1);
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKa", .to_tag = tag});
  h.In(RequestSpec{.branch = "z9hG4bKre", .cseq = 2, .to_tag = tag, .body = "v=0 new"});
  EXPECT_EQ(h.sent.back().message.status_code, 488);
  // A stale CSeq is out of order.
  h.In(RequestSpec{.method = "BYE", .branch = "z9hG4bKold", .cseq = 2, .to_tag = tag});
  EXPECT_EQ(h.sent.back().message.status_code, 500);
  EXPECT_EQ(*h.sent.back().message.Header("Warning"),
            "399 127.0.0.1 \"CSeq 2 is not above the last, 2\"");
  EXPECT_EQ(h.uas->dialogs(), 1u);
  EXPECT_EQ(h.uas->stats().no_dialog, 1u);
}

TEST(UasCore, RejectSendsTheFailureWithAWarningUntilItsAck) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->RejectWithWarning(1, 488, "Not Acceptable Here", "no common codec: offered 18 only");
  EXPECT_EQ(h.events.back(), "0 ended 1 rejected");
  const SipMessage& r = h.sent.back().message;
  EXPECT_EQ(r.status_code, 488);
  EXPECT_EQ(*r.Header("Warning"), "399 127.0.0.1 \"no common codec: offered 18 only\"");
  EXPECT_EQ(h.uas->dialogs(), 0u);
  h.uas->Reject(1, 486, "Busy Here");  // already ended: nothing
  h.uas->Hangup(1);
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.uas->stats().rejected, 1u);
  h.Drain();
  // Timer G: 0.5, 1.5, 3.5 ... until timer H at 32 s.
  EXPECT_EQ(h.sent.size(), 12u);
}

TEST(UasCore, AnInviteNeitherAnsweredNorRejectedGets500) {
  UasConfig c = Harness::Config();
  c.max_unanswered_us = 5'000'000;
  Harness h(c);
  h.In(RequestSpec{});
  h.scheduler.RunUntil(5'000'000);
  EXPECT_EQ(h.events.back(), "5000 ended 1 not answered");
  EXPECT_EQ(h.sent.back().message.status_code, 500);
  EXPECT_EQ(*h.sent.back().message.Header("Warning"), "399 127.0.0.1 \"not answered within 5 s\"");
  EXPECT_EQ(h.uas->stats().rejected, 0u);
}

TEST(UasCore, HangupSendsByeAndEndsWhenItIsAnsweredOrBeforeTheAnswerRejects480) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  const std::string tag = h.ToTag(1);
  h.uas->Hangup(1);  // not yet ACKed: the BYE waits for the ACK (RFC 3261 section 15)
  EXPECT_EQ(h.sent.size(), 2u);
  h.uas->Hangup(1, {{"Reason", "late"}});  // the first hangup's headers stand
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKa", .to_tag = tag});
  ASSERT_EQ(h.sent.back().message.method, "BYE");
  EXPECT_EQ(h.sent.back().message.Header("Reason"), nullptr);
  EXPECT_EQ(h.events,
            (std::vector<std::string>{"0 invite 1 c1 from 127.0.0.1:5070", "0 confirmed 1"}));
  h.uas->Hangup(1);  // idempotent
  EXPECT_EQ(h.uas->stats().byes_sent, 1u);
  h.scheduler.RunUntil(300'000);
  h.In(SerializeSipMessage(MakeResponse(h.sent.back().message, 200, "OK", "")));
  EXPECT_EQ(h.events.back(), "300 ended 1 hung up");

  h.In(RequestSpec{.call_id = "c2", .branch = "z9hG4bKb2"});
  h.uas->Hangup(2);
  EXPECT_EQ(h.sent.back().message.status_code, 480);
  EXPECT_EQ(h.events.back(), "300 ended 2 rejected");
  h.Drain();
}

// The owner's headers (a Reason saying why the agent hung up) ride on the BYE.
TEST(UasCore, HangupCarriesTheOwnersHeadersOnTheBye) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKa", .to_tag = h.ToTag(1)});
  h.uas->Hangup(1, {{"Reason", "SIP;cause=200;text=\"transfer\""}});
  ASSERT_EQ(h.sent.back().message.method, "BYE");
  ASSERT_NE(h.sent.back().message.Header("Reason"), nullptr);
  EXPECT_EQ(*h.sent.back().message.Header("Reason"), "SIP;cause=200;text=\"transfer\"");
  h.In(SerializeSipMessage(MakeResponse(h.sent.back().message, 200, "OK", "")));
  h.Drain();
}

TEST(UasCore, AByeNobodyAnswersEndsTheDialogOnTimerF) {
  Harness h;
  h.In(RequestSpec{});
  h.uas->Answer(1, "v=0");
  h.In(RequestSpec{.method = "ACK", .branch = "z9hG4bKa", .to_tag = h.ToTag(1)});
  h.uas->Hangup(1);
  h.scheduler.RunUntil(31'000'000);
  EXPECT_EQ(h.events.size(), 2u);
  h.Drain();
  EXPECT_EQ(h.events.back(), "32000 ended 1 hung up");
}

TEST(UasCore, NewRequestsBeyondMaxTransactionsAreDropped) {
  UasConfig c = Harness::Config();
  c.max_transactions = 2;
  Harness h(c);
  h.In(RequestSpec{.method = "OPTIONS", .branch = "z9hG4bK1"});
  h.In(RequestSpec{.method = "OPTIONS", .branch = "z9hG4bK2"});
  h.In(RequestSpec{.method = "OPTIONS", .branch = "z9hG4bK3"});
  EXPECT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.uas->stats().transactions_dropped, 1u);
  // A retransmission of one held is still answered.
  h.In(RequestSpec{.method = "OPTIONS", .branch = "z9hG4bK2"});
  EXPECT_EQ(h.sent.size(), 3u);
  // Timer J frees them.
  h.scheduler.RunUntil(32'000'000);
  EXPECT_EQ(h.uas->transactions(), 0u);
  h.In(RequestSpec{.method = "OPTIONS", .branch = "z9hG4bK3"});
  EXPECT_EQ(h.sent.size(), 4u);
}

TEST(UasCore, StrayResponsesAreIgnoredAndCounted) {
  Harness h;
  h.In(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnotours\r\n"
      "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n");
  EXPECT_EQ(h.uas->stats().responses_ignored, 1u);
  EXPECT_TRUE(h.sent.empty());
}

}  // namespace
}  // namespace callsim::agent::sip
