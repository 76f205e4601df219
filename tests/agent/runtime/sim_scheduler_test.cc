#include "agent/runtime/sim_scheduler.h"

#include <gtest/gtest.h>

#include <string>

namespace callsim::agent {
namespace {

TEST(SimScheduler, RunsInTimeThenSequenceOrderAndJumpsTime) {
  SimScheduler s;
  std::string order;
  s.At(300, [&] { order += "c"; });
  s.At(100, [&] { order += "a"; });
  s.At(100, [&] { order += "b"; });  // same time: scheduling order
  EXPECT_EQ(s.pending(), 3u);
  EXPECT_TRUE(s.RunOne());
  EXPECT_EQ(s.NowUs(), 100);
  EXPECT_EQ(s.RunAll(), 2u);
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(s.NowUs(), 300);
  EXPECT_FALSE(s.RunOne());
}

// A clock may start late (a call's own clock starts at its arrival); RunBefore stops short of its
// bound, leaving a task due exactly then for later, and moves the clock to the bound.
TEST(SimScheduler, StartsAtItsStartTimeAndRunBeforeLeavesTheBoundsTasks) {
  SimScheduler s(1000);
  EXPECT_EQ(s.NowUs(), 1000);
  std::string order;
  s.At(10, [&] { order += "p"; });  // in the past: runs at 1000
  s.At(1200, [&] { order += "a"; });
  s.At(1500, [&] { order += "b"; });
  int64_t next = 0;
  ASSERT_TRUE(s.NextDue(&next));
  EXPECT_EQ(next, 1000);
  EXPECT_EQ(s.RunBefore(1500), 2u);
  EXPECT_EQ(order, "pa");
  EXPECT_EQ(s.NowUs(), 1500);
  ASSERT_TRUE(s.NextDue(&next));
  EXPECT_EQ(next, 1500);
  EXPECT_EQ(s.RunBefore(1400), 0u);  // never backwards
  EXPECT_EQ(s.NowUs(), 1500);
  EXPECT_EQ(s.RunBefore(1501), 1u);
  EXPECT_EQ(order, "pab");
  EXPECT_FALSE(s.NextDue(&next));
}

TEST(SimScheduler, CancelledTasksNeverRunAndSlotsAreReusedSafely) {
  SimScheduler s;
  int ran = 0;
  const agent::TaskId a = s.At(10, [&] { ran += 1; });
  s.Cancel(a);
  // The freed slot is reused by the next task; the stale queue entry must not run it early.
  s.At(20, [&] { ran += 10; });
  EXPECT_EQ(s.pending(), 1u);
  s.RunUntil(15);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(s.NowUs(), 15);
  s.RunAll();
  EXPECT_EQ(ran, 10);
  s.Cancel(a);  // already cancelled: ignored
  s.Cancel(12345);
  EXPECT_EQ(s.pending(), 0u);
}

TEST(SimScheduler, TasksScheduledInThePastRunNowAndTasksMayScheduleTasks) {
  SimScheduler s;
  std::vector<int64_t> times;
  s.At(50, [&] {
    s.At(10, [&] { times.push_back(s.NowUs()); });  // in the past: clamped to now
    s.After(5, [&] { times.push_back(s.NowUs()); });
  });
  s.RunAll();
  EXPECT_EQ(times, (std::vector<int64_t>{50, 55}));
}

TEST(SimScheduler, RunAllStopsAtItsBound) {
  SimScheduler s;
  std::function<void()> loop = [&] { s.After(1, loop); };
  s.At(0, loop);
  EXPECT_EQ(s.RunAll(1000), 1000u);
  EXPECT_EQ(s.pending(), 1u);
}

}  // namespace
}  // namespace callsim::agent
