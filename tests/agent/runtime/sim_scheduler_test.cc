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
