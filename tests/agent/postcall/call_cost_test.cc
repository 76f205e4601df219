#include "agent/postcall/call_cost.h"

#include <gtest/gtest.h>

#include <cmath>

namespace callsim::agent {
namespace {

TEST(CallCostTest, CustomPriceTable) {
  const PriceTable prices{0.01, 0.001, 0.002, 0.1};
  const CallCost cost = ComputeCallCost(CallUsage{30.0, 500, 250, 2000}, prices);
  EXPECT_DOUBLE_EQ(cost.stt_usd, 0.005);
  EXPECT_DOUBLE_EQ(cost.llm_usd, 0.001);
  EXPECT_DOUBLE_EQ(cost.tts_usd, 0.2);
  EXPECT_DOUBLE_EQ(cost.total_usd, 0.206);
}

TEST(CallCostTest, NegativeOrNonFiniteCountsAsZero) {
  const CallCost zero = ComputeCallCost(CallUsage{-5.0, -1, -1, -1}, PriceTable{});
  EXPECT_EQ(zero.total_usd, 0.0);
  const CallCost nan = ComputeCallCost(CallUsage{std::nan(""), 1000, 0, 0}, PriceTable{});
  EXPECT_EQ(nan.stt_usd, 0.0);
  EXPECT_DOUBLE_EQ(nan.total_usd, 0.00015);
  const CallCost free = ComputeCallCost(CallUsage{60.0, 0, 0, 0}, PriceTable{-1.0, 0, 0, 0});
  EXPECT_EQ(free.total_usd, 0.0);
}

TEST(CallCostTest, RoundsToABillionthAndPrintsStably) {
  // 1 s of STT at the default $0.0043/min is $0.0000716666...: kept to 1e-9.
  const CallCost cost = ComputeCallCost(CallUsage{1.0, 0, 0, 0}, PriceTable{});
  EXPECT_EQ(cost.stt_usd, 0.000071667);
  EXPECT_EQ(ToJson(cost).dump(),
            R"({"llm_usd":0.0,"stt_usd":7.1667e-05,"total_usd":7.1667e-05,"tts_usd":0.0})");
  EXPECT_EQ(ToJson(CallUsage{1.5, 2, 3, 4, 5, 1, 6, 7}).dump(),
            R"({"llm_input_tokens":2,"llm_output_tokens":3,"preemptive_requests":5,)"
            R"("stt_audio_s":1.5,"tts_chars":4,"wasted_llm_requests":1,"wasted_llm_tokens":6,)"
            R"("wasted_tts_chars":7})");
}

}  // namespace
}  // namespace callsim::agent
