// UacCall against UasCore through an in-memory UDP network in virtual time: the whole exchange
// on the wire, with datagrams dropped, duplicated and delayed on purpose.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/rng.h"
#include "agent/runtime/sim_scheduler.h"
#include "agent/sip/uac_call.h"
#include "agent/sip/uas_core.h"

namespace callsim::agent::sip {
namespace {

const HostPort kUas{"127.0.0.1", 5060};
const HostPort kUac{"127.0.0.1", 5070};

// What happens to one datagram: `copies` deliveries (0: lost, 2: duplicated), each after its
// delay.
struct Fate {
  int copies = 1;
  int64_t delay_us = 10'000;
  int64_t extra_copy_delay_us = 0;  // the duplicate comes this much later
};

// A world of one UAS and one UAC host: every datagram goes through `policy` and is logged.
struct World {
  SimScheduler scheduler;
  std::function<Fate(const std::string& first_line, bool from_uac)> policy;
  std::vector<std::string> wire;  // "<ms> uac>uas <first line> <CSeq>" per datagram sent
  std::string bytes_log;          // every datagram in full, for determinism checks
  std::vector<std::string> events;
  std::unique_ptr<UasCore> uas;
  std::map<std::string, std::unique_ptr<UacCall>> calls;          // by Call-ID
  std::function<void(SipDialogId, const SipMessage&)> on_invite;  // the UAS application
  std::vector<int> uac_terminated;
  int uas_offered = 0;
  int uas_ended = 0;

  explicit World(UasConfig config = UasConfig{}, uint64_t seed = 1) {
    config.local = kUas;
    UasEvents e;
    e.on_invite = [this](SipDialogId id, const SipMessage& invite, const HostPort&) {
      ++uas_offered;
      Log("uas invite " + std::to_string(id));
      if (on_invite) on_invite(id, invite);
    };
    e.on_confirmed = [this](SipDialogId id) { Log("uas confirmed " + std::to_string(id)); };
    e.on_ended = [this](SipDialogId id, const std::string& reason) {
      ++uas_ended;
      Log("uas ended " + std::to_string(id) + " " + reason);
    };
    uas = std::make_unique<UasCore>(
        scheduler, std::move(config), std::move(e),
        [this](const std::string& bytes, const HostPort& to) { Transmit(bytes, kUas, to); },
        Rng(seed));
  }

  void Log(const std::string& event) {
    events.push_back(std::to_string(scheduler.NowUs() / 1000) + " " + event);
  }

  void Transmit(const std::string& bytes, const HostPort& from, const HostPort& to) {
    const bool from_uac = from == kUac;
    const std::string first_line = bytes.substr(0, bytes.find("\r\n"));
    const SipParseResult p = ParseSipMessage(bytes);
    ASSERT_TRUE(p.message) << p.error;
    wire.push_back(
        std::to_string(scheduler.NowUs() / 1000) + (from_uac ? " uac>uas " : " uas>uac ") +
        (p.message->is_request() ? p.message->method : std::to_string(p.message->status_code)) +
        " " + *p.message->Header("CSeq"));
    bytes_log += std::to_string(scheduler.NowUs()) + " " + FormatHostPort(from) + ">" +
                 FormatHostPort(to) + "\n" + bytes + "\n";
    const Fate fate = policy ? policy(first_line, from_uac) : Fate{};
    for (int i = 0; i < fate.copies; ++i) {
      scheduler.After(fate.delay_us + i * fate.extra_copy_delay_us, [this, bytes, from, to] {
        if (to == kUas) {
          uas->OnDatagram(bytes, from);
        } else {
          DeliverToUac(bytes, from);
        }
      });
    }
  }

  void DeliverToUac(const std::string& bytes, const HostPort& from) {
    const SipParseResult p = ParseSipMessage(bytes);
    ASSERT_TRUE(p.message) << p.error;
    const auto it = calls.find(*p.message->Header("Call-ID"));
    if (it != calls.end() && it->second) it->second->OnMessage(*p.message, from);
  }

  UacConfig CallConfig(int n) {
    UacConfig c;
    c.request_uri = "sip:agent@127.0.0.1:5060";
    c.from_uri = "sip:callsim@127.0.0.1";
    c.local = kUac;
    c.call_id = "call-" + std::to_string(n);
    c.from_tag = "ft" + std::to_string(n);
    c.branch_prefix = "c" + std::to_string(n);
    c.cnonce = "cn" + std::to_string(n);
    return c;
  }

  // Starts call `n`; its events are logged as "uac<n> ...". The owner destroys the call in
  // on_terminated, as integration code will.
  UacCall* Call(int n, UacConfig config) {
    const std::string id = config.call_id;
    const std::string who = "uac" + std::to_string(n) + " ";
    UacEvents e;
    e.on_provisional = [this, who](int code, const std::string& reason) {
      Log(who + "provisional " + std::to_string(code));
    };
    e.on_answered = [this, who](const SipMessage& ok) { Log(who + "answered " + ok.body); };
    e.on_failed = [this, who](int code, const std::string& reason) {
      Log(who + "failed " + std::to_string(code) + " " + reason);
    };
    e.on_remote_bye = [this, who](const std::string& reason) { Log(who + "remote_bye " + reason); };
    e.on_terminated = [this, who, id, n] {
      Log(who + "terminated");
      uac_terminated.push_back(n);
      calls.erase(id);
    };
    auto call = std::make_unique<UacCall>(
        scheduler, std::move(config), std::move(e),
        [this](const std::string& bytes, const HostPort& to) { Transmit(bytes, kUac, to); });
    UacCall* raw = call.get();
    calls[id] = std::move(call);
    std::string error;
    EXPECT_TRUE(raw->Start("v=0 offer", &error)) << error;
    return raw;
  }
  UacCall* Call(int n) { return Call(n, CallConfig(n)); }

  void At(int64_t us, std::function<void()> f) { scheduler.At(us, std::move(f)); }
  void HangupAt(int64_t us, const std::string& call_id) {
    At(us, [this, call_id] {
      if (auto it = calls.find(call_id); it != calls.end()) it->second->Hangup();
    });
  }
  // The UAS application answers every call after `delay_us`.
  void AnswerAfter(int64_t delay_us) {
    on_invite = [this, delay_us](SipDialogId id, const SipMessage&) {
      scheduler.After(delay_us, [this, id] { uas->Answer(id, "v=0 answer"); });
    };
  }
  // Runs every timer out and checks nothing is left anywhere.
  void Drain() {
    EXPECT_LT(scheduler.RunAll(1'000'000), 1'000'000u);
    EXPECT_EQ(scheduler.pending(), 0u);
    EXPECT_EQ(uas->dialogs(), 0u);
    EXPECT_EQ(uas->transactions(), 0u);
    EXPECT_TRUE(calls.empty());
  }
};

TEST(UacUas, AFullCallOnTheWire) {
  World w;
  w.AnswerAfter(1'000'000);
  w.Call(1);
  w.HangupAt(5'000'000, "call-1");
  w.Drain();
  EXPECT_EQ(w.wire, (std::vector<std::string>{
                        "0 uac>uas INVITE 1 INVITE",
                        "10 uas>uac 100 1 INVITE",
                        "1010 uas>uac 200 1 INVITE",
                        "1020 uac>uas ACK 1 ACK",
                        "5000 uac>uas BYE 2 BYE",
                        "5010 uas>uac 200 2 BYE",
                    }));
  EXPECT_EQ(w.events, (std::vector<std::string>{
                          "10 uas invite 1",
                          "1020 uac1 answered v=0 answer",
                          "1030 uas confirmed 1",
                          "5010 uas ended 1 caller hung up (BYE)",
                          "5020 uac1 terminated",
                      }));
  EXPECT_EQ(w.uas->stats().answered, 1u);
  EXPECT_EQ(w.uas->stats().retransmissions_absorbed, 0u);
}

TEST(UacUas, ALostAckGetsThe2xxRetransmittedAndAckedAgain) {
  World w;
  w.AnswerAfter(0);
  int acks = 0;
  w.policy = [&acks](const std::string& line, bool) {
    Fate f;
    if (line.starts_with("ACK ") && acks++ == 0) f.copies = 0;
    return f;
  };
  UacCall* call = w.Call(1);
  w.scheduler.RunUntil(2'000'000);
  EXPECT_EQ(w.wire, (std::vector<std::string>{
                        "0 uac>uas INVITE 1 INVITE",
                        "10 uas>uac 100 1 INVITE",
                        "10 uas>uac 200 1 INVITE",
                        "20 uac>uas ACK 1 ACK",  // lost
                        "510 uas>uac 200 1 INVITE",
                        "520 uac>uas ACK 1 ACK",
                    }));
  EXPECT_EQ(call->stats().acks_sent, 2);
  EXPECT_EQ(w.events.back(), "530 uas confirmed 1");
  w.HangupAt(3'000'000, "call-1");
  w.Drain();
}

TEST(UacUas, NoAckEverMakesTheUasHangUpAt64T1) {
  World w;
  w.AnswerAfter(0);
  w.policy = [](const std::string& line, bool) {
    Fate f;
    if (line.starts_with("ACK ")) f.copies = 0;
    return f;
  };
  w.Call(1);
  w.Drain();
  // The UAS gave up 64*T1 after its 2xx (sent at 10 ms) and sent BYE; the caller's core answered
  // it and reported the hang-up; its on_terminated came after timer J.
  const std::vector<std::string> expected_events = {
      "10 uas invite 1",          "20 uac1 answered v=0 answer",
      "32010 uas ended 1 no ACK", "32020 uac1 remote_bye the peer hung up (BYE)",
      "64020 uac1 terminated",
  };
  EXPECT_EQ(w.events, expected_events);
  EXPECT_EQ(w.uas->stats().ack_timeouts, 1u);
  int ok_count = 0;
  for (const std::string& line : w.wire)
    ok_count += line.find("uas>uac 200 1 INVITE") != std::string::npos;
  EXPECT_EQ(ok_count, 11);  // 0, 0.5, 1.5, 3.5, 7.5 ... 31.5 s after the answer
}

TEST(UacUas, ALostInviteIsRetransmittedOnTimerAAndFailsOnTimerB) {
  World w;
  w.policy = [](const std::string& line, bool) {
    Fate f;
    if (line.starts_with("INVITE ")) f.copies = 0;
    return f;
  };
  w.Call(1);
  w.Drain();
  std::vector<std::string> expected;
  for (int ms : {0, 500, 1500, 3500, 7500, 15500, 31500}) {
    expected.push_back(std::to_string(ms) + " uac>uas INVITE 1 INVITE");
  }
  EXPECT_EQ(w.wire, expected);
  EXPECT_EQ(w.events, (std::vector<std::string>{"32000 uac1 failed 408 no answer (timer B)",
                                                "32000 uac1 terminated"}));
  EXPECT_EQ(w.uas->stats().requests, 0u);
}

TEST(UacUas, CancelBeforeTheAnswerEndsBothSides) {
  World w;  // the application never answers
  w.Call(1);
  w.HangupAt(2'000'000, "call-1");
  w.Drain();
  EXPECT_EQ(w.wire, (std::vector<std::string>{
                        "0 uac>uas INVITE 1 INVITE",
                        "10 uas>uac 100 1 INVITE",
                        "2000 uac>uas CANCEL 1 CANCEL",
                        "2010 uas>uac 200 1 CANCEL",
                        "2010 uas>uac 487 1 INVITE",
                        "2020 uac>uas ACK 1 ACK",
                    }));
  EXPECT_EQ(w.events, (std::vector<std::string>{
                          "10 uas invite 1", "2010 uas ended 1 cancelled (CANCEL)",
                          "2020 uac1 failed 487 cancelled",
                          "34020 uac1 terminated",  // timer D
                      }));
  EXPECT_EQ(w.uas->stats().cancels, 1u);
}

TEST(UacUas, A2xxCrossingTheCancelIsAckedAndHungUp) {
  World w;
  w.on_invite = [&w](SipDialogId id, const SipMessage&) {
    w.At(2'000'000, [&w, id] { w.uas->Answer(id, "v=0 answer"); });
  };
  w.Call(1);
  w.HangupAt(2'000'000, "call-1");
  w.Drain();
  EXPECT_EQ(w.wire, (std::vector<std::string>{
                        "0 uac>uas INVITE 1 INVITE",
                        "10 uas>uac 100 1 INVITE",
                        "2000 uac>uas CANCEL 1 CANCEL",
                        "2000 uas>uac 200 1 INVITE",
                        "2010 uas>uac 200 1 CANCEL",  // answered already: only the CANCEL's 200
                        "2010 uac>uas ACK 1 ACK",
                        "2010 uac>uas BYE 2 BYE",
                        "2020 uas>uac 200 2 BYE",
                    }));
  EXPECT_EQ(w.events, (std::vector<std::string>{
                          "10 uas invite 1",
                          "2010 uac1 failed 487 cancelled",
                          "2020 uas confirmed 1",
                          "2020 uas ended 1 caller hung up (BYE)",
                          "2030 uac1 terminated",
                      }));
}

UasConfig WithDigest() {
  UasConfig c;
  c.realm = "callsim";
  c.password_of = [](const std::string& user) -> std::optional<std::string> {
    if (user == "alice") return "wonderland";
    return std::nullopt;
  };
  return c;
}

TEST(UacUas, DigestWithTheRightPasswordGetsThroughWithOneRetry) {
  World w(WithDigest());
  w.AnswerAfter(0);
  UacConfig c = w.CallConfig(1);
  c.credentials = DigestCredentials{"alice", "wonderland"};
  UacCall* call = w.Call(1, c);
  w.scheduler.RunUntil(1'000'000);
  EXPECT_EQ(call->stats().auth_retries, 1);
  EXPECT_EQ(w.wire, (std::vector<std::string>{
                        "0 uac>uas INVITE 1 INVITE",
                        "10 uas>uac 401 1 INVITE",
                        "20 uac>uas ACK 1 ACK",
                        "20 uac>uas INVITE 2 INVITE",
                        "30 uas>uac 100 2 INVITE",
                        "30 uas>uac 200 2 INVITE",
                        "40 uac>uas ACK 2 ACK",
                    }));
  const UasStats& s = w.uas->stats();
  EXPECT_EQ(s.auth_challenges, 1u);
  EXPECT_EQ(s.auth_failures, 0u);
  EXPECT_EQ(s.invites, 2u);
  EXPECT_EQ(w.uas_offered, 1);
  w.HangupAt(2'000'000, "call-1");
  w.Drain();
  EXPECT_EQ(w.uac_terminated, (std::vector<int>{1}));
}

TEST(UacUas, DigestWithAWrongPasswordOrNoneFailsWith401) {
  World w(WithDigest());
  w.AnswerAfter(0);
  UacConfig wrong = w.CallConfig(1);
  wrong.credentials = DigestCredentials{"alice", "queen"};
  w.Call(1, wrong);
  w.Call(2);  // no credentials
  w.Drain();
  EXPECT_EQ(w.events, (std::vector<std::string>{
                          "20 uac2 failed 401 Unauthorized",
                          "40 uac1 failed 401 Unauthorized",  // after its one retry
                          "32020 uac2 terminated",            // timer D
                          "32040 uac1 terminated",
                      }));
  EXPECT_EQ(w.uas->stats().auth_failures, 1u);
  EXPECT_EQ(w.uas->stats().auth_challenges, 3u);
  EXPECT_EQ(w.uas_offered, 0);
}

TEST(UacUas, AByeFromTheUasSideEndsTheCallersCall) {
  World w;
  SipDialogId dialog = 0;
  w.on_invite = [&](SipDialogId id, const SipMessage&) {
    dialog = id;
    w.uas->Answer(id, "v=0 answer");
  };
  w.Call(1);
  w.At(3'000'000, [&] { w.uas->Hangup(dialog); });
  w.Drain();
  EXPECT_EQ(w.events, (std::vector<std::string>{
                          "10 uas invite 1", "20 uac1 answered v=0 answer", "30 uas confirmed 1",
                          "3010 uac1 remote_bye the peer hung up (BYE)", "3020 uas ended 1 hung up",
                          "35010 uac1 terminated",  // timer J after its 200
                      }));
}

// Every datagram twice, the copy up to 30 ms later, each with 1 to 40 ms of delay: copies arrive
// out of order with the datagrams that follow them.
Fate DuplicateAndJitter(Rng& rng) {
  Fate f;
  f.copies = 2;
  f.delay_us = 1'000 + static_cast<int64_t>(rng.UniformInt(40'000));
  f.extra_copy_delay_us = static_cast<int64_t>(rng.UniformInt(30'000));
  return f;
}

TEST(UacUas, DuplicatedAndReorderedDatagramsMakeNoExtraDialogs) {
  World w;
  Rng rng(11);
  w.policy = [&rng](const std::string&, bool) { return DuplicateAndJitter(rng); };
  w.AnswerAfter(200'000);
  constexpr int kCalls = 20;
  for (int n = 1; n <= kCalls; ++n) {
    w.At(n * 100'000, [&w, n] { w.Call(n); });
    w.HangupAt(3'000'000 + n * 100'000, "call-" + std::to_string(n));
  }
  w.Drain();
  const UasStats& s = w.uas->stats();
  EXPECT_EQ(s.invites, static_cast<uint64_t>(kCalls));
  EXPECT_EQ(w.uas_offered, kCalls);
  EXPECT_EQ(w.uas_ended, kCalls);
  EXPECT_EQ(s.answered, static_cast<uint64_t>(kCalls));
  EXPECT_EQ(s.byes_received, static_cast<uint64_t>(kCalls));
  EXPECT_GE(s.retransmissions_absorbed,
            static_cast<uint64_t>(2 * kCalls));  // INVITE and BYE copies
  EXPECT_EQ(w.uac_terminated.size(), static_cast<size_t>(kCalls));
  int answered = 0;
  for (const std::string& e : w.events) answered += e.find(" answered ") != std::string::npos;
  EXPECT_EQ(answered, kCalls);
}

// Thirty calls over a network that loses a fifth of the datagrams and duplicates and delays
// others, seeded; run until nothing is left.
void LossyRun(World& w, uint64_t seed) {
  Rng rng(seed);
  w.policy = [&rng](const std::string&, bool) {
    Fate f = DuplicateAndJitter(rng);
    if (rng.Bernoulli(0.2)) f.copies = 0;
    if (f.copies == 2 && rng.Bernoulli(0.5)) f.copies = 1;
    return f;
  };
  w.AnswerAfter(300'000);
  for (int n = 1; n <= 30; ++n) {
    w.At(n * 50'000, [&w, n] { w.Call(n); });
    w.HangupAt(5'000'000 + n * 50'000, "call-" + std::to_string(n));
  }
  w.Drain();
  w.policy = nullptr;
}

TEST(UacUas, ALossyNetworkEndsEveryCallOnBothSidesAndLeaksNothing) {
  World w(UasConfig{}, 5);
  LossyRun(w, 5);
  EXPECT_EQ(w.uac_terminated.size(), 30u);
  EXPECT_EQ(w.uas_ended, w.uas_offered);  // on_ended exactly once per offered dialog
  EXPECT_GE(w.uas_offered, 25);           // a fifth lost rarely defeats seven INVITE transmissions
  EXPECT_GT(w.uas->stats().retransmissions_absorbed, 0u);
}

TEST(UacUas, TheSameSeedGivesByteIdenticalDatagramLogs) {
  auto log = [](uint64_t seed) {
    World w(UasConfig{}, seed);
    LossyRun(w, seed);
    return w.bytes_log;
  };
  const std::string a = log(42);
  EXPECT_GT(a.size(), 10'000u);
  EXPECT_EQ(a, log(42));
  EXPECT_NE(a, log(43));
}

}  // namespace
}  // namespace callsim::agent::sip
