#include "fakes/tools/fake_tool_backend.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;
constexpr int64_t kMs = agent::kMicrosPerMs;
constexpr uint64_t kSeed = 4242;

const Json kOrder = {{"order_id", "4567"}};
const Json kPayment = {{"amount", 20}, {"card_number", "4111111111111234"}};

FakeToolBackendSpec ConstantLatency(double ms) {
  FakeToolBackendSpec spec;
  spec.latency = {ms, ms, 10000};
  return spec;
}

struct Answer {
  int64_t started_us = 0;
  int64_t at_us = -1;  // -1: not answered
  agent::ToolOutcome outcome;
};

// A back end on virtual time, and every answer it gave.
struct Bench {
  Bench(std::string name, FakeToolBackendSpec spec, uint64_t seed = kSeed)
      : backend(std::make_unique<FakeToolBackend>(sim, agent::Rng(seed), std::move(name),
                                                   std::move(spec))) {}

  // Starts a call now; its answer lands in answers[index].
  size_t Start(const std::string& tool, const Json& args, const std::string& key) {
    const size_t index = answers.size();
    answers.push_back({sim.NowUs(), -1, {}});
    handles.push_back(backend->Invoke(tool, args, key, [this, index](const agent::ToolOutcome& o) {
      answers[index].at_us = sim.NowUs();
      answers[index].outcome = o;
    }));
    return index;
  }

  agent::SimScheduler sim;
  std::unique_ptr<FakeToolBackend> backend;
  std::vector<Answer> answers;
  std::vector<std::unique_ptr<agent::ToolInvocation>> handles;
};

TEST(FakeToolBackendTest, AnswersWithTheToolsResultAfterItsLatencyNeverSynchronously) {
  Bench b("orders", ConstantLatency(100));
  const size_t i = b.Start("check_order_status", kOrder, "k1");
  EXPECT_EQ(b.answers[i].at_us, -1);
  b.sim.RunAll();
  EXPECT_EQ(b.answers[i].at_us, 100 * kMs);
  EXPECT_TRUE(b.answers[i].outcome.ok);
  EXPECT_EQ(b.answers[i].outcome.result["status"], "shipped");
  EXPECT_EQ(b.backend->executed_actions(), 0);  // read-only
  const size_t j = b.Start("take_payment", kPayment, "k2");
  b.sim.RunAll();
  EXPECT_EQ(b.answers[j].outcome.error, "unknown tool");
}

TEST(FakeToolBackendTest, ErrorTimeoutRatesAndLatencyMatchTheSpec) {
  FakeToolBackendSpec spec;
  spec.latency = {150, 400, 10000};
  spec.error_rate = 0.2;
  spec.timeout_rate = 0.1;
  Bench b("orders", spec);
  constexpr int kCalls = 4000;
  for (int i = 0; i < kCalls; ++i) b.Start("check_order_status", kOrder, "k" + std::to_string(i));
  b.sim.RunAll();
  int lost = 0, errors = 0, ok = 0;
  std::vector<double> latency_ms;
  for (const Answer& a : b.answers) {
    if (a.at_us < 0) {
      ++lost;
      continue;
    }
    latency_ms.push_back(static_cast<double>(a.at_us - a.started_us) / kMs);
    if (a.outcome.ok) ++ok;
    if (a.outcome.error == "internal error") ++errors;
  }
  // Binomial standard deviations: 0.0047 and 0.0067; the tolerances are about 3 of them.
  EXPECT_NEAR(static_cast<double>(lost) / kCalls, 0.1, 0.015);
  EXPECT_NEAR(static_cast<double>(errors) / (kCalls - lost), 0.2, 0.02);
  EXPECT_EQ(ok + errors + lost, kCalls);
  EXPECT_EQ(b.backend->stats().timeouts, static_cast<uint64_t>(lost));
  EXPECT_EQ(b.backend->stats().errors, static_cast<uint64_t>(errors));
  std::sort(latency_ms.begin(), latency_ms.end());
  EXPECT_NEAR(latency_ms[latency_ms.size() / 2], 150, 15);
  EXPECT_NEAR(latency_ms[latency_ms.size() * 95 / 100], 400, 60);
}

TEST(FakeToolBackendTest, CallsStartedInsideAnOutageFailUnavailable) {
  FakeToolBackendSpec spec = ConstantLatency(10);
  spec.outages = {{1000, 2000}};
  Bench b("orders", spec);
  std::vector<size_t> at;
  for (int64_t t_us : {999 * kMs, 1000 * kMs, 2000 * kMs - 1, 2000 * kMs}) {
    b.sim.RunUntil(t_us);
    at.push_back(b.Start("check_order_status", kOrder, "k" + std::to_string(t_us)));
  }
  b.sim.RunAll();
  EXPECT_TRUE(b.answers[at[0]].outcome.ok);
  EXPECT_EQ(b.answers[at[1]].outcome.error, "unavailable");
  EXPECT_EQ(b.answers[at[2]].outcome.error, "unavailable");
  EXPECT_TRUE(b.answers[at[3]].outcome.ok);
  EXPECT_EQ(b.backend->stats().unavailable, 2u);
}

TEST(FakeToolBackendTest, ARepeatedIdempotencyKeyGetsTheFirstResultAndDoesNothing) {
  Bench b("payments", ConstantLatency(50));
  const size_t first = b.Start("take_payment", kPayment, "pay-1");
  b.sim.RunAll();
  const size_t again = b.Start("take_payment", kPayment, "pay-1");
  // Two at once with the same key: the first to finish acts, the other replays it.
  const size_t both_a = b.Start("take_payment", kPayment, "pay-2");
  const size_t both_b = b.Start("take_payment", kPayment, "pay-2");
  b.sim.RunAll();
  ASSERT_TRUE(b.answers[first].outcome.ok);
  EXPECT_EQ(b.answers[again].outcome.result, b.answers[first].outcome.result);
  EXPECT_EQ(b.answers[both_a].outcome.result, b.answers[both_b].outcome.result);
  EXPECT_EQ(b.backend->executed_actions(), 2);
  EXPECT_EQ(b.backend->executed_actions("take_payment"), 2);
  EXPECT_EQ(b.backend->executed_actions("refund"), 0);
  EXPECT_EQ(b.backend->stats().replays, 2u);
}

TEST(FakeToolBackendTest, RetriesWithOneKeyThroughErrorsActOnce) {
  FakeToolBackendSpec spec = ConstantLatency(20);
  spec.error_rate = 0.5;
  Bench b("payments", spec);
  for (int i = 0; i < 40; ++i) {
    b.Start("take_payment", kPayment, "pay-1");
    b.sim.RunAll();
  }
  int ok = 0;
  for (const Answer& a : b.answers) {
    if (!a.outcome.ok) continue;
    ++ok;
    EXPECT_EQ(a.outcome.result, b.answers.back().outcome.result);
  }
  EXPECT_GT(ok, 10);
  EXPECT_LT(ok, 30);
  EXPECT_EQ(b.backend->executed_actions(), 1);
}

TEST(FakeToolBackendTest, CancelledAndLostCallsDoNothing) {
  FakeToolBackendSpec spec = ConstantLatency(50);
  Bench b("payments", spec);
  b.Start("take_payment", kPayment, "pay-1");
  b.sim.RunUntil(49 * kMs);
  b.handles[0]->Cancel();
  b.sim.RunAll();
  EXPECT_EQ(b.answers[0].at_us, -1);
  EXPECT_EQ(b.backend->executed_actions(), 0);
  EXPECT_EQ(b.backend->stats().cancelled, 1u);

  spec.timeout_rate = 1;
  Bench lost("payments", spec);
  lost.Start("take_payment", kPayment, "pay-1");
  lost.sim.RunAll();
  EXPECT_EQ(lost.answers[0].at_us, -1);
  EXPECT_EQ(lost.backend->executed_actions(), 0);
  EXPECT_EQ(lost.sim.pending(), 0u);
}

TEST(FakeToolBackendTest, DestroyingTheBackEndSilencesItsCalls) {
  Bench b("orders", ConstantLatency(50));
  b.Start("check_order_status", kOrder, "k");
  b.backend.reset();
  b.sim.RunAll();
  EXPECT_EQ(b.answers[0].at_us, -1);
  b.handles.clear();  // handles outliving their back end are harmless
}

TEST(FakeToolBackendTest, TheIdempotencyStoreIsBounded) {
  Bench b("orders", ConstantLatency(1));
  for (size_t i = 0; i < kMaxIdempotencyKeys; ++i) {
    b.Start("cancel_order", kOrder, "k" + std::to_string(i));
  }
  b.sim.RunAll();
  EXPECT_EQ(b.backend->executed_actions(), static_cast<int>(kMaxIdempotencyKeys));
  const size_t over = b.Start("cancel_order", kOrder, "one-too-many");
  const size_t old = b.Start("cancel_order", kOrder, "k0");
  b.sim.RunAll();
  EXPECT_EQ(b.answers[over].outcome.error, "idempotency store full");
  EXPECT_TRUE(b.answers[old].outcome.ok);  // known keys still replay
  EXPECT_EQ(b.backend->executed_actions(), static_cast<int>(kMaxIdempotencyKeys));
}

// Times and outcomes of a fixed mix of calls, as text.
std::vector<std::string> Trace(uint64_t seed) {
  FakeToolBackendSpec spec;
  spec.latency = {100, 300, 5000};
  spec.error_rate = 0.3;
  spec.timeout_rate = 0.2;
  Bench b("payments", spec, seed);
  for (int i = 0; i < 50; ++i) {
    b.sim.RunUntil(i * 37 * kMs);
    b.Start(i % 3 ? "take_payment" : "refund",
            i % 3 ? kPayment : Json{{"order_id", "4567"}, {"amount", i + 1}},
            "k" + std::to_string(i % 7));
  }
  b.sim.RunAll();
  std::vector<std::string> trace;
  for (const Answer& a : b.answers) {
    trace.push_back(std::to_string(a.at_us) + " " + a.outcome.error + " " + a.outcome.result.dump());
  }
  trace.push_back("executed " + std::to_string(b.backend->executed_actions()));
  return trace;
}

TEST(FakeToolBackendTest, TheSameSeedGivesTheSameOutcomesAndTimes) {
  EXPECT_EQ(Trace(kSeed), Trace(kSeed));
  EXPECT_NE(Trace(kSeed), Trace(kSeed + 1));
}

TEST(FakeToolBackendTest, ValidationNamesTheBadField) {
  FakeToolBackendSpec spec;
  EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "");
  spec.error_rate = 1.5;
  EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "error_rate must be in [0, 1] (got 1.5)");
  spec = {};
  spec.timeout_rate = -0.1;
  EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "timeout_rate must be in [0, 1] (got -0.1)");
  spec = {};
  spec.latency.p95_ms = -1;
  EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "latency.p95_ms must be in [0, 3.6e+06] (got -1)");
  spec = {};
  spec.outages = {{0, 10}, {20, 10}};
  EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "outages[1]: end_ms must be in [start_ms, 1e+12]");
}

}  // namespace
}  // namespace callsim::fakes
