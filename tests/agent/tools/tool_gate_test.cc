#include "agent/tools/tool_gate.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

using Json = nlohmann::json;
constexpr int64_t kMs = kMicrosPerMs;

ToolOutcome Ok(Json result) {
  ToolOutcome o;
  o.ok = true;
  o.result = std::move(result);
  return o;
}

ToolOutcome Err(const char* error) {
  ToolOutcome o;
  o.error = error;
  return o;
}

// A back end whose next answers the test sets: `outcome` after `delay_ms`, never (answer =
// false), or inside Invoke (synchronous, against the contract). Records every call.
class ScriptedBackend final : public ToolBackend {
 public:
  struct Record {
    std::string tool;
    Json args;
    std::string key;
  };

  explicit ScriptedBackend(Scheduler& scheduler) : scheduler_(scheduler) {}

  std::unique_ptr<ToolInvocation> Invoke(const std::string& tool, const Json& args,
                                         const std::string& key,
                                         std::function<void(const ToolOutcome&)> done) override {
    calls.push_back({tool, args, key});
    auto invocation = std::make_unique<Invocation>(this);
    if (synchronous) {
      done(outcome);
    } else if (answer) {
      Invocation* inv = invocation.get();
      inv->task = scheduler_.After(delay_ms * kMs, [inv, done, o = outcome] {
        inv->task = kNoTask;
        done(o);
      });
    }
    return invocation;
  }

  int64_t delay_ms = 10;
  bool answer = true;
  bool synchronous = false;
  ToolOutcome outcome = Ok({{"status", "shipped"}});
  std::vector<Record> calls;
  int cancelled = 0;  // invocations cancelled before their answer

 private:
  struct Invocation final : ToolInvocation {
    explicit Invocation(ScriptedBackend* b) : backend(b) {}
    ~Invocation() override { Cancel(); }
    void Cancel() override {
      if (task != kNoTask) backend->scheduler_.Cancel(task);
      if (task != kNoTask || (!backend->answer && !cancelled)) ++backend->cancelled;
      task = kNoTask;
      cancelled = true;
    }
    ScriptedBackend* backend;
    TaskId task = kNoTask;
    bool cancelled = false;
  };
  Scheduler& scheduler_;
};

ToolSpec Spec(const char* name, const char* backend, bool destructive, const char* schema,
              double timeout_ms = 250) {
  ToolSpec spec;
  spec.name = name;
  spec.description = name;
  spec.parameters = Json::parse(schema);
  spec.destructive = destructive;
  spec.timeout_ms = timeout_ms;
  spec.backend = backend;
  return spec;
}

constexpr const char* kOrderSchema = R"({"type": "object",
  "properties": {"order_id": {"type": "string", "minLength": 1}},
  "required": ["order_id"], "additionalProperties": false})";
constexpr const char* kPaymentSchema = R"({"type": "object",
  "properties": {"amount": {"type": "number", "exclusiveMinimum": 0},
                 "card_number": {"type": "string", "minLength": 13, "maxLength": 19}},
  "required": ["amount", "card_number"], "additionalProperties": false})";

ToolGateConfig Config() {
  ToolGateConfig config;
  config.tools = {Spec("check_order_status", "orders", false, kOrderSchema),
                  Spec("cancel_order", "orders", true, kOrderSchema),
                  Spec("take_payment", "payments", true, kPaymentSchema, 5000),
                  Spec("lookup", "nowhere", false, "{}"),
                  Spec("broken", "orders", false, R"({"type": 5})")};
  config.max_steps_per_turn = 3;
  config.idempotency_scope = "call-7";
  return config;
}

ToolCallRequest Call(std::string id, std::string name, std::string args) {
  return ToolCallRequest{std::move(id), std::move(name), std::move(args)};
}

struct Result {
  int calls = 0;
  int64_t at_us = -1;
  ToolOutcome outcome;
};

class ToolGateTest : public ::testing::Test {
 protected:
  void Make(ToolGateConfig config = Config()) {
    gate = std::make_unique<ToolGate>(sim, std::move(config), backends, breakers);
  }
  void SetUp() override { Make(); }

  std::string BlockReason(const ToolCallRequest& call) {
    gate->BeginTurn();
    const ToolDecision d = gate->Check(call);
    EXPECT_EQ(d.verdict, ToolVerdict::kBlock) << call.name << " " << call.arguments_json;
    return d.reason;
  }

  std::unique_ptr<ToolInvocation> Run(const ToolCallRequest& call, const ToolDecision& decision,
                                      Result* result) {
    return gate->Run(call, decision, [this, result](const ToolOutcome& o) {
      ++result->calls;
      result->at_us = sim.NowUs();
      result->outcome = o;
    });
  }

  // Checks (in a fresh turn), runs and waits for the outcome.
  Result CheckAndRun(const ToolCallRequest& call) {
    gate->BeginTurn();
    const ToolDecision d = gate->Check(call);
    EXPECT_TRUE(d.verdict == ToolVerdict::kRun || d.verdict == ToolVerdict::kConfirm)
        << ToolVerdictName(d.verdict) << " " << d.reason;
    Result result;
    auto handle = Run(call, d, &result);
    sim.RunAll();
    EXPECT_EQ(result.calls, 1);
    return result;
  }

  agent::SimScheduler sim;
  ScriptedBackend orders{sim};
  ScriptedBackend payments{sim};
  ToolBackends backends{{"orders", &orders}, {"payments", &payments}};
  CircuitBreakers breakers{{.failure_threshold = 2, .open_ms = 1000}};
  std::unique_ptr<ToolGate> gate;
};

TEST(ToolVerdictNameTest, NamesEveryVerdict) {
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kRun), "run");
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kConfirm), "confirm");
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kBlock), "block");
  EXPECT_STREQ(ToolVerdictName(ToolVerdict::kReuse), "reuse");
}

TEST_F(ToolGateTest, RunsAValidReadOnlyCallWithParsedArguments) {
  const ToolDecision d = gate->Check(Call("c1", "check_order_status", R"({"order_id": "4567"})"));
  EXPECT_EQ(d.verdict, ToolVerdict::kRun);
  EXPECT_EQ(d.reason, "");
  ASSERT_NE(d.spec, nullptr);
  EXPECT_EQ(d.spec->name, "check_order_status");
  EXPECT_EQ(d.args, Json({{"order_id", "4567"}}));
  EXPECT_EQ(d.spec, gate->Find("check_order_status"));
  EXPECT_EQ(gate->Find("nope"), nullptr);
  EXPECT_TRUE(gate->has_tools());
}

TEST_F(ToolGateTest, DestructiveToolsNeedConfirmation) {
  const ToolDecision d = gate->Check(Call("c1", "cancel_order", R"({"order_id": "4567"})"));
  EXPECT_EQ(d.verdict, ToolVerdict::kConfirm);
  EXPECT_TRUE(d.spec->destructive);
}

TEST_F(ToolGateTest, BlocksEachKindOfBadProposalWithItsReason) {
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", R"({"order_id": "45)")), "malformed_json");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", "")), "malformed_json");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", R"(["4567"])")), "arguments_not_object");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", R"("4567")")), "arguments_not_object");
  EXPECT_EQ(BlockReason(Call("c", "delete_everything", "{}")), "unknown_tool");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", R"({"order_id": 4567})")),
            "schema: /order_id: expected string");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", "{}")),
            "schema: /: missing required property order_id");
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", R"({"order_id": "1", "force": true})")),
            "schema: /: unexpected property force");
  EXPECT_EQ(BlockReason(Call("c", "take_payment", R"({"amount": 5})")),
            "schema: /: missing required property card_number");
  EXPECT_EQ(BlockReason(Call("c", "take_payment", R"({"amount": -5, "card_number": "4111111111111111"})")),
            "schema: /amount: expected a number > 0");
  const std::string long_args = R"({"order_id": ")" + std::string(kMaxToolArgumentsBytes, '1') + "\"}";
  EXPECT_EQ(BlockReason(Call("c", "check_order_status", long_args)), "arguments_too_long");
  EXPECT_TRUE(orders.calls.empty());
}

TEST_F(ToolGateTest, BlocksToolsOutsideTheAllowlist) {
  ToolGateConfig config = Config();
  config.allowlist = {"check_order_status", "not_declared"};
  Make(config);
  EXPECT_EQ(BlockReason(Call("c", "cancel_order", R"({"order_id": "4567"})")), "not_allowed");
  EXPECT_EQ(BlockReason(Call("c", "not_declared", "{}")), "unknown_tool");
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(Call("c", "check_order_status", R"({"order_id": "4567"})")).verdict,
            ToolVerdict::kRun);
}

TEST_F(ToolGateTest, AnUncompilableSchemaBlocksEveryProposalOfThatTool) {
  const std::string reason = BlockReason(Call("c", "broken", "{}"));
  EXPECT_EQ(reason.rfind("schema: /: unusable schema (not a draft-07 schema", 0), 0u) << reason;
}

// A hostile model: just under the argument limit, against a pattern that made std::regex recurse
// once per character (SIGSEGV). The verdict follows the pattern's meaning.
TEST_F(ToolGateTest, AHostileArgumentAgainstANestedPatternIsJudgedNotFatal) {
  ToolGateConfig config = Config();
  config.tools.push_back(Spec("spell", "orders", false,
                              R"({"properties": {"s": {"type": "string", "pattern": "^((a|b))*$"}}})"));
  Make(config);
  std::string text;
  for (int i = 0; i < 3500; ++i) text += "ab";
  ASSERT_LT(text.size() + 20, kMaxToolArgumentsBytes);
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(Call("c", "spell", Json{{"s", text}}.dump())).verdict, ToolVerdict::kRun);
  EXPECT_EQ(BlockReason(Call("c", "spell", Json{{"s", text + "!"}}.dump())),
            R"(schema: /s: expected text matching "^((a|b))*$")");
}

TEST_F(ToolGateTest, HugeIntegersDoNotWrapPastASchemaBound) {
  ToolGateConfig config = Config();
  config.tools.push_back(Spec("count", "orders", false,
                              R"({"properties": {"n": {"type": "number", "maximum": 10}}})"));
  Make(config);
  // 2^64 - 1 would read as -1 in valijson's int64 and pass "maximum": 10.
  EXPECT_EQ(BlockReason(Call("c", "count", R"({"n": 18446744073709551615})")),
            "schema: /n: expected a number <= 10");
}

TEST_F(ToolGateTest, EveryProposalCountsTowardTheStepLimitUntilTheNextTurn) {
  EXPECT_EQ(gate->Check(Call("a", "check_order_status", "{")).verdict, ToolVerdict::kBlock);
  EXPECT_EQ(gate->Check(Call("b", "check_order_status", R"({"order_id": "1"})")).verdict,
            ToolVerdict::kRun);
  EXPECT_EQ(gate->Check(Call("c", "check_order_status", R"({"order_id": "2"})")).verdict,
            ToolVerdict::kRun);
  const ToolDecision fourth = gate->Check(Call("d", "check_order_status", R"({"order_id": "3"})"));
  EXPECT_EQ(fourth.verdict, ToolVerdict::kBlock);
  EXPECT_EQ(fourth.reason, "max_tool_steps");
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(Call("e", "check_order_status", R"({"order_id": "3"})")).verdict,
            ToolVerdict::kRun);
}

TEST_F(ToolGateTest, RunNeverAnswersSynchronously) {
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  EXPECT_EQ(result.calls, 0);
  sim.RunAll();
  EXPECT_EQ(result.calls, 1);
  EXPECT_TRUE(result.outcome.ok);
  EXPECT_EQ(result.outcome.result, Json({{"status", "shipped"}}));
  EXPECT_EQ(result.at_us, 10 * kMs);
  ASSERT_EQ(orders.calls.size(), 1u);
  EXPECT_EQ(orders.calls[0].tool, "check_order_status");
  EXPECT_EQ(orders.calls[0].args, Json({{"order_id", "4567"}}));
  EXPECT_EQ(orders.calls[0].key, "call-7/check_order_status/id:c1");
}

TEST_F(ToolGateTest, ABackEndAnsweringInsideInvokeIsStillDeliveredLater) {
  orders.synchronous = true;
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  EXPECT_EQ(result.calls, 0);
  sim.RunAll();
  EXPECT_EQ(result.calls, 1);
  EXPECT_TRUE(result.outcome.ok);
}

TEST_F(ToolGateTest, ImmediateOutcomesAreAsynchronousToo) {
  const ToolCallRequest call = Call("c1", "lookup", "{}");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  EXPECT_EQ(result.calls, 0);
  sim.RunAll();
  EXPECT_EQ(result.calls, 1);
  EXPECT_EQ(result.outcome.error, "no_backend");
  EXPECT_EQ(result.at_us, 0);

  gate->BeginTurn();
  const ToolCallRequest bad = Call("c2", "nope", "{}");
  Result blocked;
  auto handle2 = Run(bad, gate->Check(bad), &blocked);
  EXPECT_EQ(blocked.calls, 0);
  sim.RunAll();
  EXPECT_EQ(blocked.outcome.error, "unknown_tool");
}

TEST_F(ToolGateTest, ReusesTheFirstResultForARepeatedCallId) {
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  CheckAndRun(call);
  gate->BeginTurn();
  const ToolDecision again = gate->Check(call);
  EXPECT_EQ(again.verdict, ToolVerdict::kReuse);
  EXPECT_EQ(again.reason, "duplicate_call_id");
  EXPECT_TRUE(again.reused.ok);
  EXPECT_EQ(again.reused.result, Json({{"status", "shipped"}}));
  // A read-only tool with a new call id runs again: its answer may have changed.
  EXPECT_EQ(gate->Check(Call("c2", "check_order_status", R"({"order_id": "4567"})")).verdict,
            ToolVerdict::kRun);
  EXPECT_EQ(orders.calls.size(), 1u);
}

TEST_F(ToolGateTest, ReusesAnIdenticalDestructiveRequestWhateverItsSpelling) {
  payments.outcome = Ok({{"payment_id", "P1"}});
  CheckAndRun(Call("c1", "take_payment", R"({"amount": 20, "card_number": "4111111111111111"})"));
  gate->BeginTurn();
  const ToolDecision again = gate->Check(
      Call("c2", "take_payment", R"({ "card_number" : "4111111111111111", "amount" : 20 })"));
  EXPECT_EQ(again.verdict, ToolVerdict::kReuse);
  EXPECT_EQ(again.reason, "duplicate_request");
  EXPECT_EQ(again.reused.result, Json({{"payment_id", "P1"}}));
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(Call("c3", "take_payment",
                             R"({"amount": 21, "card_number": "4111111111111111"})")).verdict,
            ToolVerdict::kConfirm);
  // Run() itself never repeats it either, even with a decision taken before the first ran.
  Result result;
  auto handle = Run(Call("c4", "take_payment", R"({"amount": 20, "card_number": "4111111111111111"})"),
                    again, &result);
  sim.RunAll();
  EXPECT_EQ(result.outcome.result, Json({{"payment_id", "P1"}}));
  EXPECT_EQ(payments.calls.size(), 1u);
}

TEST_F(ToolGateTest, TheSameDestructiveRequestAlwaysSendsTheSameIdempotencyKey) {
  payments.answer = false;
  const char* args = R"({"amount": 20, "card_number": "4111111111111111"})";
  CheckAndRun(Call("c1", "take_payment", args));  // times out: not remembered
  CheckAndRun(Call("c2", "take_payment", args));
  ASSERT_EQ(payments.calls.size(), 2u);
  EXPECT_EQ(payments.calls[0].key, payments.calls[1].key);
  EXPECT_EQ(payments.calls[0].key.rfind("call-7/take_payment/request:", 0), 0u);
  EXPECT_EQ(payments.calls[0].key.find("4111"), std::string::npos);  // no card number in keys
}

TEST_F(ToolGateTest, FailedOutcomesAreNotRemembered) {
  orders.outcome = Err("order not found");
  const ToolCallRequest call = Call("c1", "cancel_order", R"({"order_id": "4567"})");
  EXPECT_EQ(CheckAndRun(call).outcome.error, "order not found");
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(call).verdict, ToolVerdict::kConfirm);
}

TEST_F(ToolGateTest, TimesOutAtExactlyTimeoutMsAndCountsAgainstTheBreaker) {
  orders.answer = false;
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  sim.RunUntil(250 * kMs - 1);
  EXPECT_EQ(result.calls, 0);
  sim.RunAll();
  EXPECT_EQ(result.calls, 1);
  EXPECT_EQ(result.at_us, 250 * kMs);
  EXPECT_FALSE(result.outcome.ok);
  EXPECT_EQ(result.outcome.error, "timeout");
  EXPECT_EQ(orders.cancelled, 1);  // the back end's call was abandoned
  EXPECT_EQ(breakers.For("orders").consecutive_failures(), 1);
}

TEST_F(ToolGateTest, AnAnswerJustBeforeTheTimeoutWins) {
  orders.delay_ms = 249;
  const Result r = CheckAndRun(Call("c1", "check_order_status", R"({"order_id": "4567"})"));
  EXPECT_TRUE(r.outcome.ok);
  EXPECT_EQ(r.at_us, 249 * kMs);
  EXPECT_EQ(sim.pending(), 0u);  // the timeout timer was cancelled
}

TEST_F(ToolGateTest, BreakerOpensFailsFastHalfOpensAndClosesOnSuccess) {
  orders.outcome = Err("internal error");
  CheckAndRun(Call("a", "check_order_status", R"({"order_id": "1"})"));
  EXPECT_EQ(breakers.For("orders").state(sim.NowUs()), BreakerState::kClosed);
  CheckAndRun(Call("b", "check_order_status", R"({"order_id": "2"})"));
  const int64_t opened_us = sim.NowUs();
  EXPECT_EQ(breakers.For("orders").state(opened_us), BreakerState::kOpen);

  gate->BeginTurn();
  const ToolCallRequest call = Call("c", "check_order_status", R"({"order_id": "3"})");
  const ToolDecision blocked = gate->Check(call);
  EXPECT_EQ(blocked.verdict, ToolVerdict::kBlock);
  EXPECT_EQ(blocked.reason, "circuit_open");
  // Other back ends are not affected.
  EXPECT_EQ(gate->Check(Call("p", "take_payment",
                             R"({"amount": 1, "card_number": "4111111111111111"})")).verdict,
            ToolVerdict::kConfirm);

  // A decision taken before the breaker opened fails fast at Run, without calling the back end.
  const ToolDecision earlier = ToolDecision{ToolVerdict::kRun, "", gate->Find("check_order_status"),
                                            Json({{"order_id", "3"}}), {}};
  Result fast;
  auto handle = Run(call, earlier, &fast);
  sim.RunAll();
  EXPECT_EQ(fast.outcome.error, "circuit_open");
  EXPECT_EQ(fast.at_us, opened_us);
  EXPECT_EQ(orders.calls.size(), 2u);

  // After open_ms: one trial; success closes.
  sim.RunUntil(opened_us + 1000 * kMs);
  orders.outcome = Ok({{"status", "delivered"}});
  const Result trial = CheckAndRun(call);
  EXPECT_TRUE(trial.outcome.ok);
  EXPECT_EQ(orders.calls.size(), 3u);
  EXPECT_EQ(breakers.For("orders").state(sim.NowUs()), BreakerState::kClosed);
}

TEST_F(ToolGateTest, OnlyOneHalfOpenTrialAtATime) {
  orders.answer = false;
  CheckAndRun(Call("a", "check_order_status", R"({"order_id": "1"})"));  // timeout
  CheckAndRun(Call("b", "check_order_status", R"({"order_id": "2"})"));  // timeout: open
  sim.RunUntil(sim.NowUs() + 1000 * kMs);
  const ToolCallRequest first = Call("c", "check_order_status", R"({"order_id": "3"})");
  const ToolCallRequest second = Call("d", "check_order_status", R"({"order_id": "4"})");
  gate->BeginTurn();
  const ToolDecision d1 = gate->Check(first);
  const ToolDecision d2 = gate->Check(second);
  ASSERT_EQ(d1.verdict, ToolVerdict::kRun);
  ASSERT_EQ(d2.verdict, ToolVerdict::kRun);  // nothing has taken the trial yet
  Result r1, r2;
  auto h1 = Run(first, d1, &r1);
  auto h2 = Run(second, d2, &r2);
  sim.RunUntil(sim.NowUs());
  EXPECT_EQ(r2.outcome.error, "circuit_open");
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(second).reason, "circuit_open");
  // Cancelling the trial frees it, and counts neither way.
  h1->Cancel();
  EXPECT_EQ(breakers.For("orders").consecutive_failures(), 2);
  EXPECT_EQ(gate->Check(second).verdict, ToolVerdict::kRun);
  sim.RunAll();
  EXPECT_EQ(r1.calls, 0);
}

TEST_F(ToolGateTest, CancelledRunsNeverAnswerAndCountNeitherWay) {
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  sim.RunUntil(5 * kMs);
  handle->Cancel();
  sim.RunAll();
  EXPECT_EQ(result.calls, 0);
  EXPECT_EQ(orders.cancelled, 1);
  EXPECT_EQ(breakers.For("orders").consecutive_failures(), 0);
  gate->BeginTurn();
  EXPECT_EQ(gate->Check(call).verdict, ToolVerdict::kRun);  // nothing remembered
  handle.reset();
}

TEST_F(ToolGateTest, DestroyingTheGateStopsItsRuns) {
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  Result result;
  auto handle = Run(call, gate->Check(call), &result);
  gate.reset();
  sim.RunAll();
  EXPECT_EQ(result.calls, 0);
  EXPECT_EQ(orders.cancelled, 1);
  handle->Cancel();  // harmless after the gate is gone
  handle.reset();
  EXPECT_EQ(sim.pending(), 0u);
}

TEST_F(ToolGateTest, RunGivenAReuseDecisionDeliversTheFirstOutcome) {
  const ToolCallRequest call = Call("c1", "check_order_status", R"({"order_id": "4567"})");
  CheckAndRun(call);
  gate->BeginTurn();
  const ToolDecision reuse = gate->Check(call);
  ASSERT_EQ(reuse.verdict, ToolVerdict::kReuse);
  Result result;
  auto handle = Run(call, reuse, &result);
  EXPECT_EQ(result.calls, 0);
  sim.RunAll();
  EXPECT_EQ(result.outcome.result, Json({{"status", "shipped"}}));
  EXPECT_EQ(orders.calls.size(), 1u);
}

}  // namespace
}  // namespace callsim::agent
