#include "fakes/faults/fault_spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace callsim::fakes {
namespace {

constexpr int64_t kMs = 1000;

TEST(FaultSpecTest, ValidateNamesWhatIsWrong) {
  EXPECT_EQ(ValidateFaultSpec(FaultSpec{}), "");
  FaultSpec s;
  s.error_rate = 1.5;
  EXPECT_EQ(ValidateFaultSpec(s), "error_rate must be in [0, 1]");
  s = FaultSpec{};
  s.timeout_rate = -0.1;
  EXPECT_EQ(ValidateFaultSpec(s), "timeout_rate must be in [0, 1]");
  s = FaultSpec{};
  s.error_rate = 0.5;
  s.timeout_rate = 0.3;
  s.drop_rate = 0.3;
  EXPECT_EQ(ValidateFaultSpec(s), "error_rate + timeout_rate + drop_rate must be at most 1");
  s = FaultSpec{};
  s.outages = {{0, 10}, {30, 20}};
  EXPECT_EQ(ValidateFaultSpec(s), "outages[1]: start_ms must be finite and <= end_ms");
  s = FaultSpec{};
  s.drop_max_tokens = 0;
  EXPECT_EQ(ValidateFaultSpec(s), "drop_max_tokens must be at least 1");
}

TEST(FaultSpecTest, DrawnKindsFollowTheRatesWithinTolerance) {
  FaultSpec spec;
  spec.error_rate = 0.1;
  spec.timeout_rate = 0.2;
  spec.drop_rate = 0.05;
  const agent::Rng root(42);
  constexpr int kDraws = 20000;
  int counts[4] = {0, 0, 0, 0};
  std::vector<int> drop_after_seen(9, 0);
  std::vector<int64_t> delays_us;
  for (int n = 1; n <= kDraws; ++n) {
    agent::Rng rng = root.Fork("request/" + std::to_string(n));
    const FaultDraw d = DrawFault(spec, rng, 1, 8);
    ++counts[static_cast<int>(d.kind)];
    ASSERT_GE(d.drop_after, 1);
    ASSERT_LE(d.drop_after, 8);
    ++drop_after_seen[d.drop_after];
    delays_us.push_back(d.error_delay_us);
  }
  // Binomial standard deviations are at most 0.0029 here; 0.01 is over 3.4 of them.
  EXPECT_NEAR(counts[0] / double(kDraws), 0.65, 0.01);
  EXPECT_NEAR(counts[1] / double(kDraws), 0.10, 0.01);
  EXPECT_NEAR(counts[2] / double(kDraws), 0.20, 0.01);
  EXPECT_NEAR(counts[3] / double(kDraws), 0.05, 0.01);
  for (int k = 1; k <= 8; ++k) EXPECT_NEAR(drop_after_seen[k] / double(kDraws), 0.125, 0.01);
  std::sort(delays_us.begin(), delays_us.end());
  EXPECT_NEAR(delays_us[kDraws / 2] / double(kMs), 50, 2.5);  // error_delay p50
  EXPECT_NEAR(delays_us[kDraws * 95 / 100] / double(kMs), 150, 10);
  EXPECT_LE(delays_us.back(), 1000 * kMs);  // the bound
}

TEST(FaultSpecTest, EveryDrawConsumesExactlyFourNumbers) {
  FaultSpec spec;
  spec.error_rate = 0.5;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    agent::Rng a(seed);
    agent::Rng b(seed);
    DrawFault(spec, a, 0, 3);
    for (int i = 0; i < 4; ++i) b.NextU64();
    ASSERT_EQ(a.NextU64(), b.NextU64()) << "seed " << seed;
  }
}

TEST(FaultSpecTest, OutageWindowsAreHalfOpen) {
  FaultSpec spec;
  spec.outages = {{1000, 2000}, {5000, 5500}};
  EXPECT_FALSE(InOutage(spec, 999 * kMs));
  EXPECT_TRUE(InOutage(spec, 1000 * kMs));
  EXPECT_TRUE(InOutage(spec, 1999 * kMs));
  EXPECT_FALSE(InOutage(spec, 2000 * kMs));
  EXPECT_TRUE(InOutage(spec, 5200 * kMs));
  EXPECT_EQ(NextOutageStartUs(spec, 0), 1000 * kMs);
  EXPECT_EQ(NextOutageStartUs(spec, 1500 * kMs), 1500 * kMs);  // inside: now
  EXPECT_EQ(NextOutageStartUs(spec, 2000 * kMs), 5000 * kMs);
  EXPECT_EQ(NextOutageStartUs(spec, 5500 * kMs), -1);
}

}  // namespace
}  // namespace callsim::fakes
