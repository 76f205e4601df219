#include "agent/tools/circuit_breaker.h"

#include <gtest/gtest.h>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = kMicrosPerMs;

TEST(BreakerStateNameTest, NamesEveryState) {
  EXPECT_STREQ(BreakerStateName(BreakerState::kClosed), "closed");
  EXPECT_STREQ(BreakerStateName(BreakerState::kOpen), "open");
  EXPECT_STREQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
}

TEST(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker breaker({.failure_threshold = 3, .open_ms = 1000});
  breaker.OnFailure(0);
  breaker.OnFailure(1);
  EXPECT_EQ(breaker.state(2), BreakerState::kClosed);
  EXPECT_TRUE(breaker.Allow(2));
  breaker.OnFailure(3);
  EXPECT_EQ(breaker.consecutive_failures(), 3);
  EXPECT_EQ(breaker.state(3), BreakerState::kOpen);
  EXPECT_FALSE(breaker.Allow(4));
}

TEST(CircuitBreakerTest, SuccessResetsTheCount) {
  CircuitBreaker breaker({.failure_threshold = 3, .open_ms = 1000});
  breaker.OnFailure(0);
  breaker.OnFailure(0);
  breaker.OnSuccess(0);
  EXPECT_EQ(breaker.consecutive_failures(), 0);
  breaker.OnFailure(0);
  breaker.OnFailure(0);
  EXPECT_EQ(breaker.state(0), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, FailsFastUntilOpenMsThenLetsOneTrialThrough) {
  CircuitBreaker breaker({.failure_threshold = 1, .open_ms = 500});
  breaker.OnFailure(10 * kMs);  // opened at 10 ms
  EXPECT_FALSE(breaker.Allow(10 * kMs));
  EXPECT_FALSE(breaker.Allow(510 * kMs - 1));
  EXPECT_EQ(breaker.state(510 * kMs - 1), BreakerState::kOpen);
  EXPECT_EQ(breaker.state(510 * kMs), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.WouldAllow(510 * kMs));
  EXPECT_TRUE(breaker.WouldAllow(510 * kMs));  // asking does not take the trial
  EXPECT_TRUE(breaker.Allow(510 * kMs));       // the trial
  EXPECT_FALSE(breaker.WouldAllow(511 * kMs));
  EXPECT_FALSE(breaker.Allow(511 * kMs));      // others wait for it
  EXPECT_EQ(breaker.state(511 * kMs), BreakerState::kHalfOpen);
}

TEST(CircuitBreakerTest, TrialSuccessCloses) {
  CircuitBreaker breaker({.failure_threshold = 2, .open_ms = 100});
  breaker.OnFailure(0);
  breaker.OnFailure(0);
  ASSERT_TRUE(breaker.Allow(100 * kMs));
  breaker.OnSuccess(150 * kMs);
  EXPECT_EQ(breaker.state(150 * kMs), BreakerState::kClosed);
  EXPECT_EQ(breaker.consecutive_failures(), 0);
  EXPECT_TRUE(breaker.Allow(150 * kMs));
  EXPECT_TRUE(breaker.Allow(150 * kMs));
}

TEST(CircuitBreakerTest, TrialFailureReopensForAnotherOpenMs) {
  CircuitBreaker breaker({.failure_threshold = 2, .open_ms = 100});
  breaker.OnFailure(0);
  breaker.OnFailure(0);
  ASSERT_TRUE(breaker.Allow(100 * kMs));
  breaker.OnFailure(130 * kMs);  // reopened at 130 ms
  EXPECT_EQ(breaker.state(131 * kMs), BreakerState::kOpen);
  EXPECT_FALSE(breaker.Allow(230 * kMs - 1));
  EXPECT_TRUE(breaker.Allow(230 * kMs));
}

TEST(CircuitBreakerTest, LateResultsWhileOpenChangeNothing) {
  CircuitBreaker breaker({.failure_threshold = 1, .open_ms = 100});
  breaker.OnFailure(0);
  breaker.OnFailure(50 * kMs);  // a call started before the breaker opened
  breaker.OnSuccess(60 * kMs);
  EXPECT_EQ(breaker.state(99 * kMs), BreakerState::kOpen);
  EXPECT_TRUE(breaker.Allow(100 * kMs));  // the window was not extended
}

TEST(CircuitBreakerTest, ReleasedTrialLetsTheNextCallTry) {
  CircuitBreaker breaker({.failure_threshold = 1, .open_ms = 0});
  breaker.OnFailure(0);
  ASSERT_TRUE(breaker.Allow(0));
  EXPECT_FALSE(breaker.Allow(0));
  breaker.ReleaseTrial();
  EXPECT_TRUE(breaker.Allow(0));
}

TEST(CircuitBreakersTest, OneBreakerPerBackendSharingTheConfig) {
  CircuitBreakers breakers({.failure_threshold = 1, .open_ms = 1000});
  CircuitBreaker& orders = breakers.For("orders");
  EXPECT_EQ(&orders, &breakers.For("orders"));
  orders.OnFailure(0);
  EXPECT_EQ(breakers.For("orders").state(0), BreakerState::kOpen);
  EXPECT_EQ(breakers.For("payments").state(0), BreakerState::kClosed);
  breakers.For("payments").OnFailure(0);
  EXPECT_EQ(breakers.For("payments").state(0), BreakerState::kOpen);  // threshold 1 shared
}

}  // namespace
}  // namespace callsim::agent
