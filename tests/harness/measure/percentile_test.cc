// Nearest-rank percentiles over a sample at hand: the rank is ceil(q/100 * n), at least 1, and a
// rank among no values is a broken invariant, not a number.
#include "harness/measure/percentile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace callsim::harness {
namespace {

TEST(PercentileTest, RanksByNearestRankWithFloatingPointSlack) {
  EXPECT_EQ(NearestRank(50, 10), 5u);
  EXPECT_EQ(NearestRank(51, 10), 6u);
  EXPECT_EQ(NearestRank(7, 100), 7u);  // 7/100 * 100 computes a hair above 7
  EXPECT_EQ(NearestRank(0, 10), 1u);
  EXPECT_EQ(NearestRank(100, 10), 10u);
  EXPECT_EQ(NearestRank(250, 10), 10u);  // q is clamped to [0, 100]
}

TEST(PercentileTest, PicksTheRankedValueAndIgnoresNaN) {
  const std::vector<double> v = {40, 10, NAN, 30, 20};
  EXPECT_EQ(NearestRankPercentile(v, 50), 20);
  EXPECT_EQ(NearestRankPercentile(v, 75), 30);
  EXPECT_EQ(NearestRankPercentile(v, 100), 40);
  EXPECT_TRUE(std::isnan(NearestRankPercentile({NAN}, 50)));
  EXPECT_TRUE(std::isnan(NearestRankPercentile(v, NAN)));
}

TEST(PercentileDeathTest, NoRankAmongNoValues) {
  EXPECT_DEATH(NearestRank(50, 0), "check failed: n >= 1");
}

}  // namespace
}  // namespace callsim::harness
