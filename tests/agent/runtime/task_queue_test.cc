#include "agent/runtime/task_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace callsim::agent {
namespace {

// Pops everything, appending each task's output, and returns the due times seen.
std::vector<int64_t> Drain(TaskQueue& q) {
  std::vector<int64_t> times;
  int64_t when;
  while (q.Next(&when)) {
    int64_t popped;
    q.Pop(&popped)();
    EXPECT_EQ(popped, when);
    times.push_back(popped);
  }
  return times;
}

TEST(TaskQueue, OrdersByTimeThenByInsertion) {
  TaskQueue q;
  std::string order;
  q.Add(30, [&] { order += 'c'; });
  q.Add(10, [&] { order += 'a'; });
  q.Add(30, [&] { order += 'd'; });
  q.Add(10, [&] { order += 'b'; });
  EXPECT_EQ(q.pending(), 4u);
  EXPECT_EQ(Drain(q), (std::vector<int64_t>{10, 10, 30, 30}));
  EXPECT_EQ(order, "abcd");
  EXPECT_EQ(q.pending(), 0u);
}

TEST(TaskQueue, ACancelledIdStaysCancelledWhenItsSlotIsReused) {
  TaskQueue q;
  std::string order;
  const TaskId a = q.Add(5, [&] { order += 'a'; });
  EXPECT_NE(a, kNoTask);
  q.Cancel(a);
  const TaskId b = q.Add(5, [&] { order += 'b'; });  // reuses a's slot
  EXPECT_NE(a, b);
  q.Cancel(a);        // stale: must not cancel b
  q.Cancel(kNoTask);  // ignored
  q.Cancel(~TaskId{0});
  EXPECT_EQ(q.pending(), 1u);
  Drain(q);
  EXPECT_EQ(order, "b");
  q.Cancel(b);  // already ran: ignored
  EXPECT_EQ(q.pending(), 0u);
}

TEST(TaskQueue, NextSkipsCancelledHeads) {
  TaskQueue q;
  const TaskId first = q.Add(1, [] {});
  q.Add(7, [] {});
  q.Cancel(first);
  int64_t when = -1;
  ASSERT_TRUE(q.Next(&when));
  EXPECT_EQ(when, 7);
}

// A long-lived scheduler that re-arms a timeout for every frame must not keep every cancelled
// entry: the heap stays within its bound, and what is left still runs in order.
TEST(TaskQueue, CancelledEntriesDoNotPileUp) {
  TaskQueue q;
  std::string order;
  q.Add(1'000'000, [&] { order += 'z'; });
  TaskId timeout = kNoTask;
  for (int frame = 0; frame < 100'000; ++frame) {
    q.Cancel(timeout);
    timeout = q.Add(frame + 500'000, [&] { order += 't'; });
    if (frame % 25'000 == 0) q.Add(frame, [&] { order += 'f'; });
  }
  EXPECT_EQ(q.pending(), 6u);
  EXPECT_LE(q.heap_entries(), 2 * q.pending() + TaskQueue::kCompactSlack);
  Drain(q);
  EXPECT_EQ(order, "fffftz");
}

}  // namespace
}  // namespace callsim::agent
