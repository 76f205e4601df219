// The capacity limiter: concurrency bound, FIFO queue, queue timeout, over capacity and the
// token-bucket rate limit, on a virtual clock.
#include "fakes/capacity/capacity_limiter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::fakes {
namespace {

constexpr int64_t kMs = 1000;

// A request as a test sees it: what happened to it, and when.
struct Probe {
  CapacityTicket ticket;
  bool granted = false;  // at once or later
  int64_t granted_us = -1;
  std::string error;
  int64_t failed_us = -1;
};

class CapacityLimiterTest : public ::testing::Test {
 protected:
  // Waiters leave first, so that giving back the slots grants nothing to a probe being destroyed.
  void TearDown() override {
    for (Probe& p : probes_) {
      if (p.ticket.waiting()) p.ticket.Release();
    }
    for (Probe& p : probes_) p.ticket.Release();
  }
  std::shared_ptr<CapacityLimiter> Make(int max_concurrent, int queue, double timeout_ms,
                                        double rate = 0) {
    return MakeCapacityLimiter(scheduler_, max_concurrent, queue, timeout_ms, rate);
  }
  // Acquires for probes_[i] (probes_ is sized up front, so the pointers stay valid).
  void Acquire(CapacityLimiter& limiter, size_t i) {
    Probe* p = &probes_[i];
    p->ticket = limiter.Acquire(
        [this, p] {
          p->granted = true;
          p->granted_us = scheduler_.NowUs();
          grant_order_.push_back(static_cast<int>(p - probes_.data()));
        },
        [this, p](const std::string& error) {
          p->error = error;
          p->failed_us = scheduler_.NowUs();
        });
    if (p->ticket.granted()) {
      p->granted = true;
      p->granted_us = scheduler_.NowUs();
      grant_order_.push_back(static_cast<int>(i));
    }
  }

  agent::SimScheduler scheduler_;
  std::vector<Probe> probes_ = std::vector<Probe>(64);
  std::vector<int> grant_order_;
};

TEST_F(CapacityLimiterTest, NoLimitGivesNoLimiter) {
  EXPECT_EQ(Make(0, 10, 1000, 0), nullptr);
  EXPECT_NE(Make(1, 0, 1000, 0), nullptr);
  EXPECT_NE(Make(0, 0, 1000, 5), nullptr);
}

TEST_F(CapacityLimiterTest, ConcurrencyNeverExceedsTheBoundAndEveryRequestIsServed) {
  auto limiter = Make(3, 64, 60000);
  // 40 requests arrive 10 ms apart; each holds its slot (7 + i % 5) * 25 ms once granted.
  int max_seen = 0;
  for (size_t i = 0; i < 40; ++i) {
    scheduler_.At(static_cast<int64_t>(i) * 10 * kMs, [&, i] {
      Acquire(*limiter, i);
    });
  }
  // Each granted request releases its slot after its hold time; watch the bound every 1 ms.
  std::vector<bool> release_scheduled(40, false);
  for (int64_t t = 0; t < 5000 * kMs; t += kMs) {
    scheduler_.RunUntil(t);
    max_seen = std::max(max_seen, limiter->in_service());
    for (size_t i = 0; i < 40; ++i) {
      if (probes_[i].granted && !release_scheduled[i]) {
        release_scheduled[i] = true;
        const int64_t hold_us = (7 + static_cast<int64_t>(i % 5)) * 25 * kMs;
        scheduler_.At(probes_[i].granted_us + hold_us, [&, i] { probes_[i].ticket.Release(); });
      }
    }
  }
  EXPECT_EQ(max_seen, 3);
  EXPECT_EQ(limiter->stats().peak_in_service, 3);
  EXPECT_EQ(limiter->stats().granted, 40u);
  EXPECT_GT(limiter->stats().queued, 0u);
  EXPECT_EQ(limiter->in_service(), 0);
  for (size_t i = 0; i < 40; ++i) EXPECT_TRUE(probes_[i].error.empty()) << i;
}

TEST_F(CapacityLimiterTest, WaitersAreGrantedInArrivalOrder) {
  auto limiter = Make(1, 5, 60000);
  for (size_t i = 0; i < 5; ++i) Acquire(*limiter, i);
  EXPECT_TRUE(probes_[0].ticket.granted());
  for (size_t i = 1; i < 5; ++i) EXPECT_TRUE(probes_[i].ticket.waiting()) << i;
  // Request 2 gives up its place: the others keep their order.
  probes_[2].ticket.Release();
  for (int step = 1; step <= 4; ++step) {
    scheduler_.RunUntil(step * 100 * kMs);
    for (Probe& p : probes_) {
      if (p.ticket.granted()) {
        p.ticket.Release();
        break;
      }
    }
  }
  EXPECT_EQ(grant_order_, (std::vector<int>{0, 1, 3, 4}));
  EXPECT_FALSE(probes_[2].granted);
  EXPECT_TRUE(probes_[2].error.empty()) << "a released ticket gets no callback";
  EXPECT_EQ(probes_[1].granted_us, 100 * kMs);  // granted when 0 released, at t = 100 ms
  EXPECT_EQ(limiter->stats().max_wait_us, 300 * kMs);  // request 4: granted at 300 ms
}

TEST_F(CapacityLimiterTest, AWaiterFailsAtItsQueueTimeout) {
  auto limiter = Make(1, 2, 100);
  Acquire(*limiter, 0);  // holds the slot
  Acquire(*limiter, 1);  // waits from t = 0
  scheduler_.RunUntil(50 * kMs);
  Acquire(*limiter, 2);  // waits from t = 50 ms
  scheduler_.RunUntil(99 * kMs);
  EXPECT_TRUE(probes_[1].error.empty());
  scheduler_.RunUntil(100 * kMs);
  EXPECT_EQ(probes_[1].error, kQueueTimeoutError);
  EXPECT_EQ(probes_[1].failed_us, 100 * kMs);
  // A slot that frees before the second waiter's deadline is its.
  scheduler_.RunUntil(120 * kMs);
  probes_[0].ticket.Release();
  EXPECT_TRUE(probes_[2].granted);
  EXPECT_EQ(probes_[2].granted_us, 120 * kMs);
  scheduler_.RunUntil(1000 * kMs);
  EXPECT_TRUE(probes_[2].error.empty());
  EXPECT_EQ(limiter->stats().queue_timeouts, 1u);
}

TEST_F(CapacityLimiterTest, AFullQueueFailsAtOnceButNeverFromInsideAcquire) {
  auto limiter = Make(1, 1, 1000);
  Acquire(*limiter, 0);
  Acquire(*limiter, 1);
  scheduler_.RunUntil(10 * kMs);
  Acquire(*limiter, 2);
  EXPECT_TRUE(probes_[2].error.empty()) << "reported from a task, not from Acquire";
  EXPECT_FALSE(probes_[2].ticket.granted());
  EXPECT_FALSE(probes_[2].ticket.waiting());
  scheduler_.RunUntil(10 * kMs);
  EXPECT_EQ(probes_[2].error, kOverCapacityError);
  EXPECT_EQ(probes_[2].failed_us, 10 * kMs);
  EXPECT_EQ(limiter->stats().over_capacity, 1u);
}

TEST_F(CapacityLimiterTest, QueueZeroRejectsEveryRequestBeyondTheSlots) {
  auto limiter = Make(2, 0, 1000);
  for (size_t i = 0; i < 5; ++i) Acquire(*limiter, i);
  scheduler_.RunUntil(0);
  EXPECT_TRUE(probes_[0].granted && probes_[1].granted);
  for (size_t i = 2; i < 5; ++i) EXPECT_EQ(probes_[i].error, kOverCapacityError) << i;
}

TEST_F(CapacityLimiterTest, RateLimitIsATokenBucketWithBurstOfTheRate) {
  auto limiter = Make(0, 0, 1000, 10);  // 10 per second, burst 10, no concurrency bound
  for (size_t i = 0; i < 15; ++i) Acquire(*limiter, i);
  scheduler_.RunUntil(0);
  for (size_t i = 0; i < 10; ++i) EXPECT_TRUE(probes_[i].granted) << i;
  for (size_t i = 10; i < 15; ++i) EXPECT_EQ(probes_[i].error, kRateLimitedError) << i;
  // One token comes back every 100 ms.
  scheduler_.RunUntil(99 * kMs);
  Acquire(*limiter, 15);
  scheduler_.RunUntil(101 * kMs);
  Acquire(*limiter, 16);
  Acquire(*limiter, 17);
  scheduler_.RunUntil(101 * kMs);
  EXPECT_EQ(probes_[15].error, kRateLimitedError);
  EXPECT_TRUE(probes_[16].granted);
  EXPECT_EQ(probes_[17].error, kRateLimitedError);
  // After a long pause the bucket holds its burst again, never more.
  scheduler_.RunUntil(60000 * kMs);
  for (size_t i = 18; i < 29; ++i) Acquire(*limiter, i);
  scheduler_.RunUntil(60000 * kMs);
  for (size_t i = 18; i < 28; ++i) EXPECT_TRUE(probes_[i].granted) << i;
  EXPECT_EQ(probes_[28].error, kRateLimitedError);
  EXPECT_EQ(limiter->stats().rate_limited, 8u);
}

TEST_F(CapacityLimiterTest, AFailureCallbackMayReleaseOtherTickets) {
  auto limiter = Make(1, 3, 50);
  Acquire(*limiter, 0);
  // When 1 times out, its owner gives up 2 as well (as an agent cancelling a reply would).
  probes_[1].ticket = limiter->Acquire([] {}, [this](const std::string&) {
    probes_[1].error = "timed out";
    probes_[2].ticket.Release();
  });
  Acquire(*limiter, 2);
  scheduler_.RunUntil(1000 * kMs);
  EXPECT_EQ(probes_[1].error, "timed out");
  EXPECT_TRUE(probes_[2].error.empty());
  EXPECT_EQ(limiter->waiting(), 0);
  EXPECT_EQ(limiter->in_service(), 1);
}

}  // namespace
}  // namespace callsim::fakes
