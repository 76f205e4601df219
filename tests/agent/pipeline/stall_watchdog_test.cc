#include "agent/pipeline/stall_watchdog.h"

#include <gtest/gtest.h>

#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

TEST(StallWatchdogTest, StreamingStagesGetTheShorterBound) {
  SimScheduler s;
  StallWatchdog watchdog(s, /*provider_timeout_ms=*/8000, /*stall_timeout_ms=*/3000, [] {});
  EXPECT_EQ(watchdog.BoundUs(false), 8000000);
  EXPECT_EQ(watchdog.BoundUs(true), 3000000);
  StallWatchdog longer_stall(s, /*provider_timeout_ms=*/2000, /*stall_timeout_ms=*/3000, [] {});
  EXPECT_EQ(longer_stall.BoundUs(true), 2000000);  // never longer than the provider timeout
}

TEST(StallWatchdogTest, FiresFromTheLastProgressAndArmsOnlyOnce) {
  SimScheduler s;
  std::vector<int64_t> due_us;
  StallWatchdog watchdog(s, 8000, 3000, [&] { due_us.push_back(s.NowUs()); });
  s.RunUntil(1000000);
  watchdog.MarkProgress();
  watchdog.Arm(false);
  s.RunUntil(2000000);
  watchdog.MarkProgress();  // progress alone does not move the timer...
  watchdog.Arm(false);      // ...nor does arming an armed one
  EXPECT_EQ(s.pending(), 1u);
  s.RunAll();
  EXPECT_EQ(due_us, (std::vector<int64_t>{9000000}));
  EXPECT_FALSE(watchdog.Expired(false));  // 7 s since the last progress: not yet
  EXPECT_TRUE(watchdog.Expired(true));    // a stalled stream: 3 s is enough
}

TEST(StallWatchdogTest, RearmMovesAnArmedTimerToTheNewBound) {
  SimScheduler s;
  std::vector<int64_t> due_us;
  StallWatchdog watchdog(s, 8000, 3000, [&] { due_us.push_back(s.NowUs()); });
  watchdog.MarkProgress();
  watchdog.Arm(false);
  s.RunUntil(500000);
  watchdog.MarkProgress();
  watchdog.Rearm(true);
  s.RunAll();
  EXPECT_EQ(due_us, (std::vector<int64_t>{3500000}));
  EXPECT_TRUE(watchdog.Expired(true));
}

TEST(StallWatchdogTest, CancelLeavesNothingPending) {
  SimScheduler s;
  int due = 0;
  StallWatchdog watchdog(s, 8000, 3000, [&] { ++due; });
  watchdog.Arm(false);
  watchdog.Cancel();
  s.RunAll();
  EXPECT_EQ(due, 0);
}

}  // namespace
}  // namespace callsim::agent
