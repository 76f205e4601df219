#include "agent/postcall/postcall_queue.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = kMicrosPerMs;

PostCallJob Job(const std::string& call_id, const std::string& said = "hello") {
  PostCallJob job;
  job.call_id = call_id;
  job.input.transcript = {{"user", said, 0}};
  job.input.outcome = CallEnding{"hangup", 1000};
  return job;
}

struct Delivery {
  std::string call_id;
  int64_t enqueued_us;
  int64_t done_us;
  std::string json;
  bool operator==(const Delivery&) const = default;
};

class PostCallQueueTest : public testing::Test {
 protected:
  void Make(size_t capacity, int64_t processing_ms) {
    PostCallQueueConfig config;
    config.capacity = capacity;
    config.processing_time_us = processing_ms * kMs;
    queue_ = std::make_unique<PostCallQueue>(scheduler_, config, [this](PostCallResult r) {
      delivered_.push_back({r.call_id, r.enqueued_us, r.done_us, ToJson(r.report).dump()});
      if (on_done_) on_done_(r.call_id);
    });
  }

  agent::SimScheduler scheduler_;
  std::unique_ptr<PostCallQueue> queue_;
  std::vector<Delivery> delivered_;
  std::function<void(const std::string&)> on_done_;
};

TEST_F(PostCallQueueTest, JobsRunOneAtATimeInOrderEachTakingTheProcessingTime) {
  Make(8, 100);
  EXPECT_TRUE(queue_->Enqueue(Job("a")));
  EXPECT_TRUE(queue_->Enqueue(Job("b")));
  EXPECT_TRUE(queue_->Enqueue(Job("c")));
  EXPECT_EQ(queue_->pending(), 3u);
  scheduler_.RunAll();
  ASSERT_EQ(delivered_.size(), 3u);
  EXPECT_EQ(delivered_[0].call_id, "a");
  EXPECT_EQ(delivered_[1].call_id, "b");
  EXPECT_EQ(delivered_[2].call_id, "c");
  EXPECT_EQ(delivered_[0].done_us, 100 * kMs);
  EXPECT_EQ(delivered_[1].done_us, 200 * kMs);
  EXPECT_EQ(delivered_[2].done_us, 300 * kMs);
  EXPECT_EQ(delivered_[2].enqueued_us, 0);
  EXPECT_EQ(queue_->completed(), 3u);
  EXPECT_EQ(queue_->pending(), 0u);
  EXPECT_FALSE(queue_->busy());
  // Idle again: a later job starts when it arrives.
  scheduler_.RunUntil(1000 * kMs);
  EXPECT_TRUE(queue_->Enqueue(Job("d")));
  scheduler_.RunAll();
  EXPECT_EQ(delivered_.back().done_us, 1100 * kMs);
  EXPECT_EQ(delivered_.back().enqueued_us, 1000 * kMs);
}

TEST_F(PostCallQueueTest, NeverWorksInsideTheCallersTask) {
  Make(8, 0);
  // The call ends inside one of its own tasks; the report must not be built in that task.
  scheduler_.At(50 * kMs, [this] {
    queue_->Enqueue(Job("a"));
    EXPECT_TRUE(delivered_.empty());
  });
  EXPECT_TRUE(scheduler_.RunOne());
  EXPECT_TRUE(delivered_.empty());
  EXPECT_TRUE(queue_->busy());
  EXPECT_TRUE(scheduler_.RunOne());  // the report's own task, at the same virtual time
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].done_us, 50 * kMs);
}

TEST_F(PostCallQueueTest, FullQueueRefusesAndCountsDrops) {
  Make(2, 100);
  EXPECT_TRUE(queue_->Enqueue(Job("a")));
  EXPECT_TRUE(queue_->Enqueue(Job("b")));
  EXPECT_FALSE(queue_->Enqueue(Job("c")));
  EXPECT_FALSE(queue_->Enqueue(Job("d")));
  EXPECT_EQ(queue_->dropped(), 2u);
  EXPECT_EQ(queue_->accepted(), 2u);
  EXPECT_EQ(queue_->pending(), 2u);
  scheduler_.RunUntil(100 * kMs);  // "a" delivered: room for one more
  EXPECT_TRUE(queue_->Enqueue(Job("e")));
  EXPECT_FALSE(queue_->Enqueue(Job("f")));
  scheduler_.RunAll();
  std::vector<std::string> ids;
  for (const Delivery& d : delivered_) ids.push_back(d.call_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "e"}));
  EXPECT_EQ(queue_->dropped(), 3u);
  EXPECT_EQ(delivered_[2].done_us, 300 * kMs);
}

TEST_F(PostCallQueueTest, ZeroCapacityRefusesEverything) {
  Make(0, 100);
  EXPECT_FALSE(queue_->Enqueue(Job("a")));
  EXPECT_EQ(queue_->dropped(), 1u);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(PostCallQueueTest, CallbackMayEnqueue) {
  Make(1, 100);
  on_done_ = [this](const std::string& id) {
    if (id == "a") {
      EXPECT_TRUE(queue_->Enqueue(Job("follow-up")));  // the slot is free again
    }
  };
  queue_->Enqueue(Job("a"));
  scheduler_.RunAll();
  ASSERT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(delivered_[1].call_id, "follow-up");
  EXPECT_EQ(delivered_[1].done_us, 200 * kMs);
}

TEST_F(PostCallQueueTest, DrainDeliversEverythingNowAndLeavesNoTask) {
  Make(8, 100);
  queue_->Enqueue(Job("a"));
  queue_->Enqueue(Job("b"));
  scheduler_.RunUntil(30 * kMs);
  EXPECT_EQ(queue_->Drain(), 2u);
  ASSERT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(delivered_[0].call_id, "a");
  EXPECT_EQ(delivered_[1].done_us, 30 * kMs);
  EXPECT_FALSE(queue_->busy());
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.RunAll(), 0u);
  EXPECT_EQ(delivered_.size(), 2u);
}

TEST_F(PostCallQueueTest, DestroyingTheQueueCancelsItsTask) {
  Make(8, 100);
  queue_->Enqueue(Job("a"));
  queue_.reset();
  EXPECT_EQ(scheduler_.pending(), 0u);
  EXPECT_EQ(scheduler_.RunAll(), 0u);
  EXPECT_TRUE(delivered_.empty());
}

// Six calls end 40 ms apart into a queue that takes 70 ms per report, on a fresh scheduler.
std::vector<Delivery> RunSixCalls() {
  agent::SimScheduler scheduler;
  std::vector<Delivery> delivered;
  PostCallQueueConfig config;
  config.capacity = 4;
  config.processing_time_us = 70 * kMs;
  PostCallQueue queue(scheduler, config, [&](PostCallResult r) {
    delivered.push_back({r.call_id, r.enqueued_us, r.done_us, ToJson(r.report).dump()});
  });
  for (int i = 0; i < 6; ++i) {
    scheduler.At(i * 40 * kMs, [&queue, i] {
      queue.Enqueue(Job("call-" + std::to_string(i), "my card is 4111 1111 1111 1111"));
    });
  }
  scheduler.RunAll();
  return delivered;
}

TEST(PostCallQueueRunTest, ReportsAreRedactedAndTheSameOnEveryRun) {
  const std::vector<Delivery> first = RunSixCalls();
  ASSERT_EQ(first.size(), 6u);
  for (const Delivery& d : first) {
    EXPECT_EQ(d.json.find("4111"), std::string::npos);
    EXPECT_NE(d.json.find("[card]"), std::string::npos);
  }
  // The queue backs up (70 ms of work every 40 ms) and finishes at 70, 140, ... 420 ms; at most
  // 4 pending at a time, so nothing is dropped.
  EXPECT_EQ(first[5].call_id, "call-5");
  EXPECT_EQ(first[5].enqueued_us, 200 * kMs);
  EXPECT_EQ(first[5].done_us, 420 * kMs);
  EXPECT_EQ(RunSixCalls(), first);
}

}  // namespace
}  // namespace callsim::agent
