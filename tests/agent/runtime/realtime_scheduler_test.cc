// The real-time scheduler on a real io_context and the real clock. Bounds on lateness are loose
// (tens of milliseconds) so a busy machine does not fail them; order and cancellation are exact.
#include "agent/runtime/realtime_scheduler.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

namespace callsim::agent {
namespace {

constexpr int64_t kSlackUs = 50 * kMicrosPerMs;

TEST(RealtimeScheduler, RunsTasksAtTheirTimeInTimeThenSequenceOrder) {
  boost::asio::io_context io;
  RealtimeScheduler s(io);
  std::string order;
  std::vector<int64_t> late;
  auto at = [&](int64_t when, char c) {
    s.At(when, [&, when, c] {
      order += c;
      late.push_back(s.NowUs() - when);
    });
  };
  at(30'000, 'c');
  at(10'000, 'a');
  at(30'000, 'd');
  at(10'000, 'b');
  io.run();  // returns when no task is pending: the scheduler holds no work of its own
  EXPECT_EQ(order, "abcd");
  for (int64_t l : late) {
    EXPECT_GE(l, 0) << "a task ran before its time";
    EXPECT_LT(l, kSlackUs);
  }
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.tasks_run(), 4u);
}

TEST(RealtimeScheduler, AnEarlierTaskRearmsTheTimerAndCancelledTasksNeverRun) {
  boost::asio::io_context io;
  RealtimeScheduler s(io);
  std::string order;
  int64_t early_ran_at = -1;
  s.At(200'000, [&] { order += "late"; });
  const TaskId gone = s.At(100'000, [&] { order += "cancelled"; });
  s.At(5'000, [&] {  // armed after later ones: the timer must be moved up for it
    order += "early,";
    early_ran_at = s.NowUs();
  });
  s.Cancel(gone);
  io.run();
  EXPECT_EQ(order, "early,late");
  EXPECT_LT(early_ran_at, 100'000) << "it waited for a later deadline";
}

TEST(RealtimeScheduler, TasksScheduleTasksAndThePastMeansNow) {
  boost::asio::io_context io;
  RealtimeScheduler s(io);
  int frames = 0;
  int64_t last_lateness = 0;
  // A 20 ms frame clock for 10 frames, each scheduled from the previous one, as a caller does.
  std::function<void(int64_t)> frame = [&](int64_t due) {
    ++frames;
    last_lateness = s.NowUs() - due;
    if (frames < 10) s.At(due + 20'000, [&, due] { frame(due + 20'000); });
  };
  s.At(0, [&] { frame(0); });
  s.At(-5'000'000, [&] { EXPECT_LT(s.NowUs(), kSlackUs); });  // in the past: runs at once
  io.run();
  EXPECT_EQ(frames, 10);
  EXPECT_GE(s.NowUs(), 180'000);
  EXPECT_LT(last_lateness, kSlackUs);
}

TEST(RealtimeScheduler, SharesAnEpochAcrossThreadsAndDiesBeforeItsTimerFires) {
  const auto epoch = RealtimeScheduler::Clock::now();
  boost::asio::io_context io;
  {
    RealtimeScheduler doomed(io, epoch);
    doomed.At(1'000, [] { ADD_FAILURE() << "a destroyed scheduler's task ran"; });
  }
  io.run();  // the cancelled wait's handler runs here and must not touch the dead scheduler
  // Two threads' schedulers on one epoch read the same time.
  int64_t other_now = -1;
  std::thread t([&] {
    boost::asio::io_context other;
    RealtimeScheduler s(other, epoch);
    s.At(0, [&] { other_now = s.NowUs(); });
    other.run();
  });
  t.join();
  RealtimeScheduler here(io, epoch);
  const int64_t here_now = here.NowUs();
  EXPECT_GE(here_now, other_now);
  EXPECT_LT(here_now - other_now, 5 * kMicrosPerSecond);
  EXPECT_GE(other_now, 0);
}

TEST(RealtimeScheduler, ATaskThatThrowsLeavesTheRestScheduled) {
  boost::asio::io_context io;
  RealtimeScheduler s(io);
  bool later_ran = false;
  s.At(1'000, [] { throw std::runtime_error("task failed"); });
  s.At(2'000, [&] { later_ran = true; });
  EXPECT_THROW(io.run(), std::runtime_error);
  io.restart();
  io.run();  // the usual asio pattern: run again after the error
  EXPECT_TRUE(later_ran);
}

TEST(RealtimeScheduler, ABurstOfDueTasksYieldsToTheIoContextInBoundedSlices) {
  boost::asio::io_context io;
  RealtimeScheduler s(io);
  const int n = RealtimeScheduler::kMaxTasksPerWake * 2 + 10;
  int ran = 0;
  bool posted_ran_midway = false;
  // Work posted by the first task (a socket completion, say) gets a turn before the burst is done.
  s.At(0, [&] {
    ++ran;
    boost::asio::post(io, [&] { posted_ran_midway = ran < n; });
  });
  for (int i = 1; i < n; ++i) s.At(0, [&] { ++ran; });
  io.run();
  EXPECT_EQ(ran, n);
  EXPECT_TRUE(posted_ran_midway);
}

}  // namespace
}  // namespace callsim::agent
