#include "agent/pipeline/silence_watchdog.h"

#include <gtest/gtest.h>

#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

using Step = SilenceWatchdog::Step;

TEST(SilenceWatchdogTest, FiresTimeoutAfterTheLastArm) {
  SimScheduler s;
  std::vector<int64_t> fired_us;
  SilenceWatchdog watchdog(s, /*timeout_ms=*/5000, /*max_prompts=*/2,
                           [&] { fired_us.push_back(s.NowUs()); });
  watchdog.Arm();
  s.RunUntil(2000000);
  watchdog.Arm();  // re-armed: the first wait is gone
  s.RunAll();
  EXPECT_EQ(fired_us, (std::vector<int64_t>{7000000}));
}

TEST(SilenceWatchdogTest, PromptsUpToTheBoundThenSaysGoodbye) {
  SimScheduler s;
  SilenceWatchdog watchdog(s, /*timeout_ms=*/5000, /*max_prompts=*/2, [] {});
  EXPECT_EQ(watchdog.NextStep(), Step::kPrompt);
  EXPECT_EQ(watchdog.prompts(), 1);
  EXPECT_EQ(watchdog.NextStep(), Step::kPrompt);
  EXPECT_EQ(watchdog.NextStep(), Step::kGoodbye);
  EXPECT_EQ(watchdog.prompts(), 2);  // the goodbye is not a prompt
  watchdog.Reset();                  // the caller spoke
  EXPECT_EQ(watchdog.prompts(), 0);
  EXPECT_EQ(watchdog.NextStep(), Step::kPrompt);
}

TEST(SilenceWatchdogTest, CancelResetAndAZeroTimeoutLeaveNothingPending) {
  SimScheduler s;
  int fired = 0;
  SilenceWatchdog watchdog(s, /*timeout_ms=*/5000, /*max_prompts=*/1, [&] { ++fired; });
  watchdog.Arm();
  watchdog.Cancel();
  watchdog.Arm();
  watchdog.Reset();
  SilenceWatchdog off(s, /*timeout_ms=*/0, /*max_prompts=*/1, [&] { ++fired; });
  off.Arm();
  EXPECT_EQ(s.pending(), 0u);
  s.RunAll();
  EXPECT_EQ(fired, 0);
}

TEST(SilenceWatchdogTest, ZeroMaxPromptsGoesStraightToGoodbye) {
  SimScheduler s;
  SilenceWatchdog watchdog(s, /*timeout_ms=*/5000, /*max_prompts=*/0, [] {});
  EXPECT_EQ(watchdog.NextStep(), Step::kGoodbye);
  EXPECT_EQ(watchdog.prompts(), 0);
}

}  // namespace
}  // namespace callsim::agent
