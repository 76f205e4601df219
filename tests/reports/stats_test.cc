#include "reports/stats.h"
#include "harness/measure/percentile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace callsim::reports {
namespace {

using harness::NearestRankPercentile;

harness::TurnRow Turn(int64_t n, int64_t s, int64_t d, int64_t i) {
  harness::TurnRow t;
  t.ref_words = n;
  t.substitutions = s;
  t.deletions = d;
  t.insertions = i;
  return t;
}

TEST(CorpusWerTest, DividesTotalErrorsByTotalReferenceWords) {
  // Per-turn rates 1/2, 0/8 and 3/10: their mean is 0.2667, the corpus rate is 4/20 = 0.2.
  const std::vector<harness::TurnRow> turns = {Turn(2, 1, 0, 0), Turn(8, 0, 0, 0),
                                               Turn(10, 1, 1, 1)};
  EXPECT_DOUBLE_EQ(CorpusWer(turns), 0.2);
  double mean_of_rates = (1.0 / 2 + 0.0 / 8 + 3.0 / 10) / 3;
  EXPECT_GT(std::fabs(CorpusWer(turns) - mean_of_rates), 0.05);
}

TEST(CorpusWerTest, CountsInsertionsSoItCanExceedOne) {
  EXPECT_DOUBLE_EQ(CorpusWer({Turn(2, 0, 0, 3)}), 1.5);
  EXPECT_DOUBLE_EQ(CorpusWer({Turn(5, 0, 0, 0)}), 0.0);
}

TEST(CorpusWerTest, IsUndefinedWithoutReferenceWords) {
  EXPECT_TRUE(std::isnan(CorpusWer({})));
  EXPECT_TRUE(std::isnan(CorpusWer({Turn(0, 0, 0, 2)})));
}

TEST(NearestRankPercentileTest, MatchesTheTextbookExample) {
  // The classic nearest-rank example: 15, 20, 35, 40, 50 (given unsorted).
  const std::vector<double> v = {40, 15, 50, 35, 20};
  EXPECT_EQ(NearestRankPercentile(v, 5), 15);
  EXPECT_EQ(NearestRankPercentile(v, 30), 20);
  EXPECT_EQ(NearestRankPercentile(v, 40), 20);
  EXPECT_EQ(NearestRankPercentile(v, 50), 35);
  EXPECT_EQ(NearestRankPercentile(v, 100), 50);
}

TEST(NearestRankPercentileTest, GivesExactRanksWhereBinaryFractionsRoundUp) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(NearestRankPercentile(v, 7), 7);  // 7 / 100.0 * 100 is 7.000000000000001
  EXPECT_EQ(NearestRankPercentile(v, 29), 29);
  EXPECT_EQ(NearestRankPercentile(v, 50), 50);
  EXPECT_EQ(NearestRankPercentile(v, 95), 95);
  EXPECT_EQ(NearestRankPercentile(v, 99), 99);
  EXPECT_EQ(NearestRankPercentile(v, 99.1), 100);
  EXPECT_EQ(NearestRankPercentile(v, 0), 1);
}

TEST(NearestRankPercentileTest, HandlesEdges) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(NearestRankPercentile({}, 50)));
  EXPECT_TRUE(std::isnan(NearestRankPercentile({nan}, 50)));
  EXPECT_EQ(NearestRankPercentile({7}, 99), 7);
  EXPECT_EQ(NearestRankPercentile({3, nan, 1, 2}, 100), 3);  // NaN ignored
  EXPECT_EQ(NearestRankPercentile({3, 1, 2}, 170), 3);       // q clamped
  EXPECT_EQ(NearestRankPercentile({3, 1, 2}, -1), 1);
  // Ten values: p95 and p99 are both the largest; p90 is the ninth.
  const std::vector<double> ten = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRankPercentile(ten, 90), 90);
  EXPECT_EQ(NearestRankPercentile(ten, 95), 100);
  // 99.9 / 100 * 1000 lands a hair above 999 in binary; the rank is still 999.
  std::vector<double> thousand;
  for (int i = 1; i <= 1000; ++i) thousand.push_back(i);
  EXPECT_EQ(NearestRankPercentile(thousand, 99.9), 999);
  EXPECT_EQ(NearestRankPercentile(thousand, 99.95), 1000);
}

}  // namespace
}  // namespace callsim::reports
