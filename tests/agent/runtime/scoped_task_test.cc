#include "agent/runtime/scoped_task.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

TEST(ScopedTask, RunsOnceAtItsTimeAndIsClearWhileAndAfterItRuns) {
  SimScheduler s;
  ScopedTask timer(s);
  int ran = 0;
  bool pending_inside = true;
  timer.After(30, [&] {
    ++ran;
    pending_inside = timer.pending();
  });
  EXPECT_TRUE(timer.pending());
  s.RunUntil(29);
  EXPECT_EQ(ran, 0);
  s.RunAll();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(s.NowUs(), 30);
  EXPECT_FALSE(pending_inside);
  EXPECT_FALSE(timer.pending());
}

TEST(ScopedTask, ArmingAgainCancelsTheTaskItHeld) {
  SimScheduler s;
  ScopedTask timer(s);
  std::string order;
  timer.At(10, [&] { order += "first"; });
  timer.At(20, [&] { order += "second"; });
  EXPECT_EQ(s.pending(), 1u);
  s.RunAll();
  EXPECT_EQ(order, "second");
}

TEST(ScopedTask, DestructionAndCancelLeaveNothingPending) {
  SimScheduler s;
  int ran = 0;
  {
    ScopedTask timer(s);
    timer.After(5, [&] { ++ran; });
  }
  ScopedTask cancelled(s);
  cancelled.After(5, [&] { ++ran; });
  cancelled.Cancel();
  cancelled.Cancel();  // nothing pending: harmless
  EXPECT_FALSE(cancelled.pending());
  EXPECT_EQ(s.pending(), 0u);
  s.RunAll();
  EXPECT_EQ(ran, 0);
}

TEST(ScopedTask, APendingTaskMovesWithItsOwnerAndClearsTheNewOne) {
  SimScheduler s;
  int ran = 0;
  std::optional<ScopedTask> first(std::in_place, s);
  first->After(10, [&] { ++ran; });
  ScopedTask second(std::move(*first));
  EXPECT_FALSE(first->pending());
  EXPECT_TRUE(second.pending());
  first.reset();  // the moved-from handle owns nothing: destroying it cancels nothing
  EXPECT_EQ(s.pending(), 1u);
  s.RunAll();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(second.pending());
}

TEST(ScopedTask, MoveAssignmentCancelsTheTargetsOwnTask) {
  SimScheduler s;
  std::string order;
  ScopedTask target(s);
  target.After(10, [&] { order += "target"; });
  ScopedTask source(s);
  source.After(20, [&] { order += "source"; });
  target = std::move(source);
  EXPECT_EQ(s.pending(), 1u);
  s.RunAll();
  EXPECT_EQ(order, "source");
  // A moved-from handle can be armed again.
  source.After(5, [&] { order += "+again"; });
  s.RunAll();
  EXPECT_EQ(order, "source+again");
}

TEST(ScopedTask, ATaskMayRearmItsOwnHandle) {
  SimScheduler s;
  ScopedTask timer(s);
  int ran = 0;
  std::function<void()> tick = [&] {
    if (++ran < 3) timer.After(7, tick);
  };
  timer.After(7, tick);
  s.RunAll();
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(s.NowUs(), 21);
  EXPECT_FALSE(timer.pending());
}

}  // namespace
}  // namespace callsim::agent
