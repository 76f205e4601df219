#include "agent/media/jitter_estimator.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;

TEST(JitterEstimatorTest, EmptyMeasuresNothing) {
  JitterEstimator e(0.95);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.floor_transit_us(), 0);
  EXPECT_EQ(e.spread_us(), 0);
  EXPECT_EQ(e.interarrival_jitter_us(), 0.0);
}

// Twenty packets with transits 10, 11, ..., 29 ms (in a shuffled order): the floor is 10 ms and
// the 95th percentile (nearest rank: the 19th of 20) is 28 ms, so the spread is 18 ms.
TEST(JitterEstimatorTest, SpreadIsTheQuantileTransitMinusTheFastest) {
  JitterEstimator e(0.95);
  for (int i = 0; i < 20; ++i) {
    const int transit_ms = 10 + (i * 7) % 20;  // 7 is coprime to 20: each of 0..19 once
    e.Add(i * 20 * kMs, (i * 20 + transit_ms) * kMs);
  }
  EXPECT_EQ(e.floor_transit_us(), 10 * kMs);
  EXPECT_EQ(e.spread_us(), 18 * kMs);
  JitterEstimator median(0.5);
  for (int i = 0; i < 20; ++i) median.Add(0, (10 + i) * kMs);
  EXPECT_EQ(median.spread_us(), 9 * kMs);  // the 10th of 20: 19 ms
}

// The window holds the last 128 packets: a slow stretch is forgotten 128 packets later.
TEST(JitterEstimatorTest, OldPacketsLeaveTheWindow) {
  JitterEstimator e(0.95);
  for (int i = 0; i < 20; ++i) e.Add(0, 100 * kMs);  // slow
  for (int i = 0; i < 108; ++i) e.Add(0, 10 * kMs);
  EXPECT_EQ(e.floor_transit_us(), 10 * kMs);
  EXPECT_EQ(e.spread_us(), 90 * kMs);  // 20 of 128 are slow: above the 5% tail
  for (int i = 0; i < 20; ++i) e.Add(0, 10 * kMs);
  EXPECT_EQ(e.spread_us(), 0);
  // A faster packet lowers the floor at once.
  e.Add(0, 4 * kMs);
  EXPECT_EQ(e.floor_transit_us(), 4 * kMs);
}

TEST(JitterEstimatorTest, InterarrivalJitterFollowsRfc3550) {
  JitterEstimator e(0.95);
  e.Add(0, 10 * kMs);          // the first packet: no difference yet
  e.Add(20 * kMs, 46 * kMs);   // transit 26 ms: |D| = 16 ms, J = 1 ms
  EXPECT_DOUBLE_EQ(e.interarrival_jitter_us(), 1000.0);
  e.Add(40 * kMs, 50 * kMs);   // transit 10 ms: |D| = 16 ms, J = 1 + 15 / 16 ms
  EXPECT_DOUBLE_EQ(e.interarrival_jitter_us(), 1000.0 + 15000.0 / 16);
}

}  // namespace
}  // namespace callsim::agent
