// Regression tests for the agent's tool and turn-taking edge cases: a confirmation the caller
// never heard, a repeat request answering a confirmation, the resume timer against a turn still
// in progress, the silence watchdog after a TTS failure, and a filler timer outliving its reply.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/pipeline/pipeline_fakes.h"

namespace callsim::agent::pipeline_test {
namespace {

struct Backend : ToolBackend {
  Scheduler& s; int64_t delay_ms; int calls = 0;
  Backend(Scheduler& s, int64_t d) : s(s), delay_ms(d) {}
  struct Inv : ToolInvocation { Scheduler& s; TaskId t; Inv(Scheduler& s):s(s){} void Cancel() override { s.Cancel(t);} };
  std::unique_ptr<ToolInvocation> Invoke(const std::string&, const nlohmann::json&, const std::string&,
      std::function<void(const ToolOutcome&)> done) override {
    ++calls;
    auto inv = std::make_unique<Inv>(s);
    inv->t = s.After(delay_ms * kMs, [done] { ToolOutcome o; o.ok = true; o.result = {{"ok", true}}; done(o); });
    return inv;
  }
};

struct Rig {
  agent::SimScheduler sch; EventRecorder ev; FakeStt stt{sch}; FakeLlm llm{sch}; FakeTts tts{sch};
  std::unique_ptr<VoiceAgent> a; std::vector<std::pair<int64_t,int64_t>> caller;
  Backend be{sch, 100}; ToolBackends backends; CircuitBreakers breakers;
  void Build(AgentConfig c) {
    ToolSpec del{"cancel_order", "cancel your order", nlohmann::json::object(), true, 3000, "orders"};
    ToolSpec look{"lookup", "look up", nlohmann::json::object(), false, 3000, "orders"};
    c.tools.tools = {del, look};
    a = std::make_unique<VoiceAgent>(sch, c, stt, llm, tts, ev);
    backends["orders"] = &be;
    a->EnableTools(backends, breakers);
  }
  void Tick(int64_t t) {
    sch.At(t, [this, t] {
      if (!a) return;
      Frame f{}; int64_t st = t - kFrameUs;
      for (auto& s : caller) if (st >= s.first && st < s.second) f = ToneFrame(-20);
      a->OnCallerFrame(f, st); Frame out; if (!a) return; a->NextOutputFrame(&out); Tick(t + kFrameUs);
    });
  }
  void Start(int64_t ms) { a->Start(); Tick(kFrameUs); sch.RunUntil(ms * kMs); }
  void Dump(const char* kinds[], int n) {
    for (auto& e : ev.events) for (int i = 0; i < n; ++i) if (e.kind == kinds[i])
      printf("  %7.0f %s %s\n", e.t_us / 1000.0, e.kind.c_str(), e.detail.dump().c_str());
  }
};


int Audits(const EventRecorder& ev, const std::string& decision) {
  int n = 0;
  for (const auto& e : ev.events) n += e.kind == "tool_audit" && e.detail["decision"] == decision;
  return n;
}

// The model proposes a destructive tool, then its stream fails before the question is said:
// the apology plays, and the caller's "okay" to it must not run the tool.
TEST(VoiceAgentEdgeTest, UnheardConfirmationIsDroppedNotAnsweredLater) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"cancel my order", "okay can you try again"};
  LlmScript s1{{{200, "Sure."}}, -1, 400, {ToolCallRequest{"c1", "cancel_order", "{}"}}};
  LlmScript s2{{{100, "Fine."}}, 200};
  r.llm.scripts = {s1, s2};
  r.caller = {{1000 * kMs, 1500 * kMs}, {6000 * kMs, 6500 * kMs}};
  r.Build(c);
  r.Start(12000);
  EXPECT_EQ(r.be.calls, 0);
  EXPECT_EQ(Audits(r.ev, "executed"), 0);
  EXPECT_EQ(Audits(r.ev, "cancelled"), 1);
}

// "Sorry, can you repeat that please" is not a yes: the question is said again, still pending.
TEST(VoiceAgentEdgeTest, RepeatRequestRepeatsTheConfirmationQuestion) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"cancel my order", "sorry can you repeat that please"};
  LlmScript s1{{{200, "Sure."}}, 300, -1, {ToolCallRequest{"c1", "cancel_order", "{}"}}};
  LlmScript s2{{{100, "Done."}}, 200};
  r.llm.scripts = {s1, s2};
  r.caller = {{1000 * kMs, 1500 * kMs}, {8000 * kMs, 8500 * kMs}};
  r.Build(c);
  r.Start(14000);
  EXPECT_EQ(r.be.calls, 0);
  EXPECT_EQ(Audits(r.ev, "declined"), 0);
  int repeats = 0;
  for (const auto& e : r.ev.events) {
    if (e.kind == "repeat") {
      ++repeats;
      EXPECT_EQ(e.detail["text"], "Just to confirm, you want me to cancel your order. Is that right?");
    }
  }
  EXPECT_EQ(repeats, 1);
}

// A barge-in whose final is still on its way when the resume timer fires: the agent waits for
// the final and answers it instead of resuming over it.
TEST(VoiceAgentEdgeTest, ResumeTimerWaitsForAPendingFinal) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"what are your hours"};
  r.stt.final_delay_ms = 1700;
  r.tts.frames = {100};
  r.llm.scripts = {LlmScript{{{100, "Nine to five."}}, 200}};
  r.caller = {{400 * kMs, 700 * kMs}};
  r.Build(c);
  r.Start(20000);
  EXPECT_EQ(r.llm.requests.size(), 1u);
  EXPECT_EQ(r.ev.Count("false_interruption"), 0);
}

// A caller who keeps talking past the resume timeout (no interim words) is not talked over.
TEST(VoiceAgentEdgeTest, ResumeTimerDoesNotTalkOverACallerStillSpeaking) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"I want to cancel my order please"};
  r.tts.frames = {100, 100};
  r.llm.scripts = {LlmScript{{{100, "Ok."}}, 200}};
  r.caller = {{400 * kMs, 4000 * kMs}};
  r.Build(c);
  r.Start(20000);
  EXPECT_EQ(r.llm.requests.size(), 1u);
  EXPECT_GE(r.stt.finalize_calls, 1);
}

// The greeting's TTS fails: the agent has nothing to say, but a silent caller is still prompted.
TEST(VoiceAgentEdgeTest, SilenceWatchdogRunsAfterATtsFailure) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.tts.fail = true;
  r.Build(c);
  r.Start(500);
  r.tts.fail = false;
  r.sch.RunUntil(60000 * kMs);
  EXPECT_GE(r.ev.Count("silence_prompt"), 1);
}

// The caller said yes and the destructive run is under way when the caller speaks again: the run
// is not abandoned half way; it finishes, is audited as executed, and its result joins the history.
TEST(VoiceAgentEdgeTest, ConfirmedRunFinishesWhenTheCallerSpeaksOverIt) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"cancel my order", "yes", "hello"};
  LlmScript s1{{{200, "Sure."}}, 300, -1, {ToolCallRequest{"c1", "cancel_order", "{}"}}};
  LlmScript s2{{{100, "Hello."}}, 200};
  LlmScript s3{{{100, "Hello again."}}, 200};
  r.llm.scripts = {s1, s2, s3};
  r.be.delay_ms = 3000;
  r.caller = {{1000 * kMs, 1500 * kMs}, {8000 * kMs, 8500 * kMs}, {9500 * kMs, 10000 * kMs}};
  r.Build(c);
  r.Start(20000);
  EXPECT_EQ(r.be.calls, 1);
  // The reply running the tool was cut off while the tool ran (else this tests nothing).
  bool started = false;
  bool cut_while_running = false;
  for (const auto& e : r.ev.events) {
    if (e.kind == "tool_started") started = true;
    if (e.kind == "tool_audit") started = false;
    if (started && e.kind == "reply_cancelled") cut_while_running = true;
  }
  EXPECT_TRUE(cut_while_running);
  int finished_late = 0;
  for (const auto& e : r.ev.events) {
    if (e.kind != "tool_audit") continue;
    EXPECT_NE(e.detail["decision"], "cancelled") << e.detail.dump();
    finished_late += e.detail["reason"] == "finished_after_interruption";
  }
  EXPECT_EQ(finished_late, 1);
}

// A fast tool, a reply that ends the call, the agent destroyed by its owner: no timer of the
// finished reply may fire afterwards (a filler on a freed agent).
TEST(VoiceAgentEdgeTest, FinishedReplyLeavesNoFillerTimer) {
  Rig r;
  AgentConfig c;
  c.greeting = "Hi.";
  r.stt.finals = {"look it up"};
  LlmScript s1{{{50, "Ok."}}, 60, -1, {ToolCallRequest{"c1", "lookup", "{}"}}};
  LlmScript s2{{{50, "Done."}}, 60, -1, {ToolCallRequest{"c2", "end_call", "{}"}}};
  r.llm.scripts = {s1, s2};
  r.tts.frames = {5};
  r.tts.frames_per_request = 5;
  r.tts.delay_ms = 20;
  r.be.delay_ms = 50;
  r.caller = {{1000 * kMs, 1500 * kMs}};
  r.Build(c);
  bool destroyed = false;
  r.a->set_on_call_end([&](const std::string&) {
    r.sch.After(0, [&] {
      r.a.reset();
      destroyed = true;
    });
  });
  r.Start(10000);
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(r.ev.Count("tool_filler"), 0);
  EXPECT_FALSE(r.sch.RunOne()) << "a task outlived the agent";
}

}  // namespace
}  // namespace callsim::agent::pipeline_test
