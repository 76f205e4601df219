#include "fakes/tools/fake_tool_backends.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/tools/tool_gate.h"
#include "fakes/tools/standard_tool_specs.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;
constexpr uint64_t kSeed = 99;

TEST(FakeToolBackendsTest, OneBackEndPerSpecAndAViewOfThem) {
  agent::SimScheduler sim;
  const FakeToolBackendMap backends =
      MakeFakeToolBackends(sim, agent::Rng(kSeed), StandardFakeToolBackendSpecs());
  const agent::ToolBackends view = ToolBackendsView(backends);
  ASSERT_EQ(view.size(), 4u);
  for (const char* name : {"appointments", "orders", "payments", "transfer"}) {
    ASSERT_TRUE(backends.count(name)) << name;
    EXPECT_EQ(backends.at(name)->name(), name);
    EXPECT_EQ(view.at(name), backends.at(name).get());
  }
}

// Answer times of ten order lookups on an "orders" back end made among `others`.
std::vector<int64_t> OrderTimes(const std::map<std::string, FakeToolBackendSpec>& specs) {
  agent::SimScheduler sim;
  FakeToolBackendMap backends = MakeFakeToolBackends(sim, agent::Rng(kSeed), specs);
  std::vector<int64_t> times;
  std::vector<std::unique_ptr<agent::ToolInvocation>> handles;
  for (int i = 0; i < 10; ++i) {
    handles.push_back(backends.at("orders")->Invoke(
        "check_order_status", {{"order_id", "4567"}}, "k" + std::to_string(i),
        [&](const agent::ToolOutcome&) { times.push_back(sim.NowUs()); }));
  }
  sim.RunAll();
  return times;
}

TEST(FakeToolBackendsTest, EachBackEndHasItsOwnStream) {
  std::map<std::string, FakeToolBackendSpec> all = StandardFakeToolBackendSpecs();
  const std::map<std::string, FakeToolBackendSpec> alone = {{"orders", all.at("orders")}};
  const std::vector<int64_t> times = OrderTimes(alone);
  ASSERT_EQ(times.size(), 10u);
  EXPECT_EQ(OrderTimes(all), times);  // adding back ends changes no draw of "orders"
  EXPECT_NE(times.front(), times.back());
}

// The guardrails over the fakes, as the agent uses them: a payment is confirmed, runs once, and a
// repeated proposal of it is answered from memory; the back end proves one action ran.
TEST(FakeToolBackendsTest, GateOverFakesRunsADestructiveRequestOnce) {
  agent::SimScheduler sim;
  const FakeToolBackendMap backends =
      MakeFakeToolBackends(sim, agent::Rng(kSeed), StandardFakeToolBackendSpecs());
  const agent::ToolBackends view = ToolBackendsView(backends);
  agent::CircuitBreakers breakers;
  agent::ToolGateConfig config;
  config.tools = StandardToolSpecs();
  agent::ToolGate gate(sim, config, view, breakers);

  const agent::ToolCallRequest pay{"c1", "take_payment",
                                   R"({"amount": 20, "card_number": "4111111111111234"})"};
  const agent::ToolDecision decision = gate.Check(pay);
  ASSERT_EQ(decision.verdict, agent::ToolVerdict::kConfirm);
  EXPECT_EQ(decision.spec->description, "take a payment from your card");
  agent::ToolOutcome outcome;
  auto handle = gate.Run(pay, decision, [&](const agent::ToolOutcome& o) { outcome = o; });
  sim.RunAll();
  ASSERT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.result["card_last4"], "1234");

  gate.BeginTurn();
  const agent::ToolDecision again = gate.Check(
      {"c2", "take_payment", R"({"card_number": "4111111111111234", "amount": 20})"});
  EXPECT_EQ(again.verdict, agent::ToolVerdict::kReuse);
  EXPECT_EQ(again.reused.result, outcome.result);
  EXPECT_EQ(backends.at("payments")->executed_actions(), 1);
  EXPECT_EQ(TotalExecutedActions(backends), 1);

  const agent::ToolCallRequest status{"c3", "check_order_status", R"({"order_id": "4567"})"};
  auto handle2 = gate.Run(status, gate.Check(status), [&](const agent::ToolOutcome& o) { outcome = o; });
  sim.RunAll();
  EXPECT_EQ(outcome.result["status"], "shipped");
  EXPECT_EQ(TotalExecutedActions(backends), 1);
}

}  // namespace
}  // namespace callsim::fakes
