#include "agent/providers/resilient_llm.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::agent::provider_test {
namespace {

// What the agent's listener saw, with times.
struct LlmRecord {
  std::vector<std::string> tokens;
  std::vector<std::string> tool_calls;
  std::vector<std::string> errors;
  std::vector<int64_t> error_us;
  int done = 0;
  int64_t first_token_us = -1;

  LlmListener Listener(agent::SimScheduler& s) {
    LlmListener l;
    l.on_token = [this, &s](const std::string& t) {
      if (first_token_us < 0) first_token_us = s.NowUs();
      tokens.push_back(t);
    };
    l.on_tool_call = [this](const ToolCallRequest& c) { tool_calls.push_back(c.id); };
    l.on_done = [this] { ++done; };
    l.on_error = [this, &s](const std::string& e) {
      errors.push_back(e);
      error_us.push_back(s.NowUs());
    };
    return l;
  }
  int callbacks() const {
    return static_cast<int>(tokens.size() + tool_calls.size() + errors.size()) + done;
  }
};

RetryPolicy Policy(int retries, double backoff_ms, double timeout_ms = 2500) {
  RetryPolicy p;
  p.retries = retries;
  p.backoff_ms = backoff_ms;
  p.first_response_timeout_ms = timeout_ms;
  return p;
}

LlmRequest Request() { return LlmRequest{{ChatMessage{"user", "hello", "", ""}}}; }

TEST(ResilientLlmTest, HealthyPrimaryPassesThroughUntouched) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.tokens, (std::vector<std::string>{"p/0/0", "p/0/1", "p/0/2"}));
  EXPECT_EQ(rec.first_token_us, 100 * kMs);  // no added latency
  EXPECT_EQ(rec.done, 1);
  EXPECT_TRUE(rec.errors.empty());
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0}));
  EXPECT_EQ(primary.requests[0].messages[0].content, "hello");
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(llm.stats().requests, 1u);
}

TEST(ResilientLlmTest, RetriesOnPrimaryAfterExactlyBackoff) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {FailPlan(100), StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 350 * kMs}));
  EXPECT_EQ(primary.requests[1].messages[0].content, "hello");  // the same request again
  EXPECT_EQ(rec.tokens, (std::vector<std::string>{"p/1/0", "p/1/1", "p/1/2"}));
  EXPECT_EQ(rec.done, 1);
  EXPECT_TRUE(rec.errors.empty());
  ASSERT_EQ(sink.events.size(), 1u);
  const RecordedEvent& e = sink.events[0];
  EXPECT_EQ(e.t_us, 100 * kMs);
  EXPECT_EQ(e.source, "agent");
  EXPECT_EQ(e.kind, "provider_retry");
  EXPECT_EQ(e.detail, (nlohmann::json{{"stage", "llm"}, {"attempt", 1}, {"error", "boom"}}));
  EXPECT_EQ(llm.stats().retries, 1u);
}

TEST(ResilientLlmTest, FailsOverToSecondaryAfterPrimaryFailsTwice) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {FailPlan(100)});
  ScriptedLlm secondary(s, "s", {StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary, &secondary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 350 * kMs}));
  EXPECT_EQ(secondary.start_us, (std::vector<int64_t>{450 * kMs}));  // at once, no backoff
  EXPECT_EQ(rec.tokens, (std::vector<std::string>{"s/0/0", "s/0/1", "s/0/2"}));
  EXPECT_EQ(rec.done, 1);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].kind, "provider_retry");
  EXPECT_EQ(sink.events[1].kind, "provider_failover");
  EXPECT_EQ(sink.events[1].t_us, 450 * kMs);
  EXPECT_EQ(sink.events[1].detail, (nlohmann::json{{"stage", "llm"}, {"error", "boom"}}));
  EXPECT_EQ(llm.stats().failovers, 1u);
}

TEST(ResilientLlmTest, GivingUpReachesTheListenerExactlyOnce) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {FailPlan(100, "p down")});
  ScriptedLlm secondary(s, "s", {FailPlan(30, "s down")});
  ResilientLlm llm(s, sink, Policy(2, 100), primary, &secondary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  // p at 0 (fails 100), p at 200 (fails 300), p at 400 (fails 500), s at 500 (fails 530).
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 200 * kMs, 400 * kMs}));
  EXPECT_EQ(secondary.start_us, (std::vector<int64_t>{500 * kMs}));
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"s down"}));
  EXPECT_EQ(rec.error_us, (std::vector<int64_t>{530 * kMs}));
  EXPECT_EQ(rec.callbacks(), 1);
  std::vector<std::string> kinds;
  for (const RecordedEvent& e : sink.events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"provider_retry", "provider_retry",
                                             "provider_failover", "provider_gave_up"}));
  EXPECT_EQ(sink.events[1].detail["attempt"], 2);
  EXPECT_EQ(sink.events[3].detail, (nlohmann::json{{"stage", "llm"}, {"error", "s down"}}));
  EXPECT_EQ(llm.stats().gave_up, 1u);
  EXPECT_EQ(s.pending(), 0u);
}

TEST(ResilientLlmTest, NoRetriesAndNoSecondaryGivesUpAtTheFirstError) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {FailPlan(100)});
  ResilientLlm llm(s, sink, Policy(0, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_EQ(rec.error_us, (std::vector<int64_t>{100 * kMs}));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].kind, "provider_gave_up");
}

TEST(ResilientLlmTest, ErrorAfterTokensPassesThroughWithoutRetry) {
  agent::SimScheduler s;
  RecordingSink sink;
  StreamPlan plan;
  plan.events = 2;
  plan.error = "mid-stream";
  ScriptedLlm primary(s, "p", {plan, StreamPlan{}});
  ScriptedLlm secondary(s, "s", {StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary, &secondary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.tokens, (std::vector<std::string>{"p/0/0", "p/0/1"}));
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"mid-stream"}));
  EXPECT_EQ(rec.error_us, (std::vector<int64_t>{140 * kMs}));
  EXPECT_EQ(rec.done, 0);
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_TRUE(secondary.start_us.empty());
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(llm.stats().passed_through_errors, 1u);
}

TEST(ResilientLlmTest, FirstResponseTimeoutRetriesAtExactlyTheTimeout) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {HangPlan(), StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250, 2500), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].t_us, 2500 * kMs);
  EXPECT_EQ(sink.events[0].detail["error"], "no first response within 2500 ms");
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 2750 * kMs}));
  EXPECT_TRUE(primary.runners[0]->cancelled());  // the hung attempt was cancelled
  EXPECT_EQ(rec.first_token_us, 2850 * kMs);
  EXPECT_EQ(rec.done, 1);
  EXPECT_EQ(llm.stats().timeouts, 1u);
}

TEST(ResilientLlmTest, FirstTokenJustBeforeTheTimeoutIsNoFailure) {
  agent::SimScheduler s;
  RecordingSink sink;
  StreamPlan slow;
  slow.first_ms = 2499;
  slow.gap_ms = 3000;  // later tokens may be slow: only the first response is timed
  ScriptedLlm primary(s, "p", {slow});
  ResilientLlm llm(s, sink, Policy(1, 250, 2500), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.tokens.size(), 3u);
  EXPECT_EQ(rec.done, 1);
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(ResilientLlmTest, AToolCallIsAFirstResponse) {
  agent::SimScheduler s;
  RecordingSink sink;
  StreamPlan plan;
  plan.events = 1;
  plan.tool_call_at = 0;
  plan.error = "after tool";
  ScriptedLlm primary(s, "p", {plan});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.tool_calls, (std::vector<std::string>{"p/0/0"}));
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"after tool"}));  // passed through
  EXPECT_EQ(primary.start_us.size(), 1u);
}

TEST(ResilientLlmTest, CancelDuringBackoffMeansNoCallbacksAndNoRetry) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {FailPlan(100), StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunUntil(200 * kMs);  // failed at 100, backing off until 350
  stream->Cancel();
  s.RunAll();
  EXPECT_EQ(rec.callbacks(), 0);
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_EQ(s.pending(), 0u);
}

TEST(ResilientLlmTest, DestroyingTheStreamStopsTheCurrentAttempt) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  s.RunUntil(110 * kMs);
  stream.reset();
  s.RunAll();
  EXPECT_EQ(rec.tokens.size(), 1u);
  EXPECT_EQ(rec.done, 0);
  EXPECT_TRUE(primary.runners[0]->cancelled());
}

TEST(ResilientLlmTest, ListenerMayDestroyTheStreamInsideACallback) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedLlm primary(s, "p", {StreamPlan{}});
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  std::unique_ptr<LlmStream> stream;
  int tokens = 0;
  LlmListener l;
  l.on_token = [&](const std::string&) {
    ++tokens;
    stream.reset();  // a barge-in from inside the callback
  };
  l.on_done = [&] { ADD_FAILURE() << "done after destruction"; };
  stream = llm.Start(Request(), l);
  s.RunAll();
  EXPECT_EQ(tokens, 1);
}

// A provider that fails synchronously: returns no stream at all.
class NoStreamLlm final : public LlmProvider {
 public:
  std::unique_ptr<LlmStream> Start(const LlmRequest&, LlmListener) override {
    ++starts;
    return nullptr;
  }
  int starts = 0;
};

TEST(ResilientLlmTest, MissingStreamIsAFailureReportedFromATaskNeverInsideStart) {
  agent::SimScheduler s;
  RecordingSink sink;
  NoStreamLlm primary;
  ResilientLlm llm(s, sink, Policy(1, 250), primary);
  LlmRecord rec;
  auto stream = llm.Start(Request(), rec.Listener(s));
  EXPECT_EQ(rec.callbacks(), 0);  // nothing inside Start
  s.RunAll();
  EXPECT_EQ(primary.starts, 2);
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"provider returned no stream"}));
  EXPECT_EQ(rec.error_us, (std::vector<int64_t>{250 * kMs}));
}

TEST(ResilientLlmTest, PolicyIsBoundedAndWorstCaseIsKnown) {
  RetryPolicy wild;
  wild.retries = 1000;
  wild.backoff_ms = -5;
  wild.first_response_timeout_ms = 0;
  const RetryPolicy b = wild.Bounded();
  EXPECT_EQ(b.retries, kMaxProviderRetries);
  EXPECT_EQ(b.backoff_ms, 0);
  EXPECT_EQ(b.first_response_timeout_ms, kMinFirstResponseTimeoutMs);
  // 1 + 1 retry + 1 secondary attempts of 2500 ms, one backoff of 250 ms.
  EXPECT_DOUBLE_EQ(WorstCaseFirstResponseMs(RetryPolicy{}, true), 7750);
  EXPECT_DOUBLE_EQ(WorstCaseFirstResponseMs(RetryPolicy{}, false), 5250);
}

}  // namespace
}  // namespace callsim::agent::provider_test
