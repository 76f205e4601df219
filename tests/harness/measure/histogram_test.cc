#include "harness/measure/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "agent/runtime/rng.h"

namespace callsim::harness {
namespace {

// 100k latencies in microseconds: lognormal with a 300 ms median and a long tail.
std::vector<int64_t> LognormalSamples(uint64_t seed, size_t n) {
  agent::Rng rng(seed);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = std::llround(rng.LogNormal(std::log(300000.0), 0.8));
  return v;
}

TEST(HistogramTest, PercentilesWithinOneTenthPercentOfNearestRank) {
  const std::vector<int64_t> samples = LognormalSamples(11, 100000);
  Histogram h;
  for (int64_t x : samples) h.Record(x);
  std::vector<int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank ceil(q/100 * N) for N = 100000: exact integers for these q.
  const struct {
    double q;
    size_t rank;
  } cases[] = {{50, 50000}, {90, 90000}, {95, 95000}, {99, 99000}, {99.9, 99900}, {100, 100000}};
  for (const auto& c : cases) {
    const double exact = static_cast<double>(sorted[c.rank - 1]);
    const double got = static_cast<double>(h.ValueAtPercentile(c.q));
    EXPECT_LE(std::abs(got - exact), 0.001 * exact) << "p" << c.q << " exact " << exact;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), sorted.back());
  EXPECT_EQ(h.ValueAtPercentile(0), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.count(), 100000u);
  uint64_t sum = 0;
  for (int64_t x : samples) sum += static_cast<uint64_t>(x);
  EXPECT_EQ(h.sum(), sum);
  EXPECT_EQ(h.clamped_count(), 0u);
}

TEST(HistogramTest, SmallValuesAreExactAndRanksAreNearest) {
  Histogram h;
  for (int64_t v = 1; v <= 2000; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 1000);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 1998);
  EXPECT_EQ(h.ValueAtPercentile(0.05), 1);   // rank ceil(1.0) = 1
  EXPECT_EQ(h.ValueAtPercentile(0.051), 2);  // rank ceil(1.02) = 2
  EXPECT_EQ(h.ValueAtPercentile(-3), 1);
  EXPECT_EQ(h.ValueAtPercentile(250), 2000);
  EXPECT_EQ(Histogram().ValueAtPercentile(50), 0);
}

TEST(HistogramTest, EveryValueLandsWithinOneTenthPercent) {
  // Min and max are reported exactly, so look at the middle one of {0, v, max}: rank 2, reported
  // as the middle of v's bucket. Values spread over every power of two.
  agent::Rng rng(5);
  double worst = 0;
  for (int i = 0; i < 5000; ++i) {
    const int64_t v = std::llround(std::exp2(rng.Uniform(0, 36)) - 1);
    Histogram h;
    h.Record(0);
    h.Record(v);
    h.Record(Histogram::kMaxTrackableValue);
    const double got = static_cast<double>(h.ValueAtPercentile(50));
    ASSERT_LE(std::abs(got - v), 0.001 * v) << v;
    if (v > 0) worst = std::max(worst, std::abs(got - v) / v);
  }
  EXPECT_GT(worst, 0.0004);  // the check above is not vacuous: buckets are ~1/1024 wide
}

TEST(HistogramTest, OutOfRangeValuesAreClampedAndCounted) {
  Histogram h;
  h.Record(-5);
  h.Record(Histogram::kMaxTrackableValue + 100, 2);
  h.Record(7, 0);  // records nothing
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.clamped_count(), 3u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), Histogram::kMaxTrackableValue);
  EXPECT_EQ(h.ValueAtPercentile(100), Histogram::kMaxTrackableValue);
  EXPECT_EQ(h.sum(), 2u * Histogram::kMaxTrackableValue);
}

TEST(HistogramTest, MergeOfHalvesEqualsTheWhole) {
  const std::vector<int64_t> samples = LognormalSamples(3, 20000);
  Histogram whole, a, b;
  for (size_t i = 0; i < samples.size(); ++i) {
    whole.Record(samples[i]);
    (i % 2 == 0 ? a : b).Record(samples[i]);
  }
  EXPECT_FALSE(a == whole);
  Histogram merged;
  merged.Merge(a);
  merged.Merge(b);
  merged.Merge(Histogram());
  EXPECT_TRUE(merged == whole);
  EXPECT_EQ(merged.ValueAtPercentile(99), whole.ValueAtPercentile(99));
}

TEST(HistogramTest, BucketsListNonEmptyRanges) {
  Histogram h;
  h.Record(5, 2);
  h.Record(100000);
  const std::vector<HistogramBucket> b = h.Buckets();
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].lowest_value, 5);
  EXPECT_EQ(b[0].highest_value, 5);
  EXPECT_EQ(b[0].count, 2u);
  EXPECT_LE(b[1].lowest_value, 100000);
  EXPECT_GE(b[1].highest_value, 100000);
  EXPECT_EQ(b[1].highest_value - b[1].lowest_value + 1, 64);  // 2^16..2^17 in steps of 64
}

TEST(HistogramTest, SerializeRoundTrips) {
  Histogram h;
  for (int64_t x : LognormalSamples(9, 5000)) h.Record(x);
  h.Record(-1);
  const std::string data = h.Serialize();
  Histogram back;
  ASSERT_TRUE(Histogram::Deserialize(data, &back));
  EXPECT_TRUE(back == h);
  EXPECT_EQ(back.Serialize(), data);

  Histogram empty;
  ASSERT_TRUE(Histogram::Deserialize(Histogram().Serialize(), &empty));
  EXPECT_EQ(empty.count(), 0u);
  EXPECT_EQ(Histogram().Serialize(), std::string("\x01\x00\x00\x00\x00\x00", 6));
}

TEST(HistogramTest, MalformedInputIsRejected) {
  Histogram h;
  h.Record(3);
  h.Record(2000000, 5);
  const std::string good = h.Serialize();
  Histogram out;
  out.Record(42);
  const Histogram before = out;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(Histogram::Deserialize(good.substr(0, n), &out)) << "prefix " << n;
  }
  EXPECT_FALSE(Histogram::Deserialize(good + '\0', &out));  // trailing byte
  std::string bad = good;
  bad[0] = 2;  // unknown version
  EXPECT_FALSE(Histogram::Deserialize(bad, &out));
  // min 3, max 3, sum 3, clamped 0, one bucket at index 3 with count 0.
  EXPECT_FALSE(Histogram::Deserialize(std::string("\x01\x03\x03\x03\x00\x01\x03\x00", 8), &out));
  // The same with count 1 is valid; with min 4 (another bucket) it is not; nor with sum 9.
  EXPECT_TRUE(Histogram::Deserialize(std::string("\x01\x03\x03\x03\x00\x01\x03\x01", 8), &out));
  EXPECT_FALSE(Histogram::Deserialize(std::string("\x01\x04\x04\x04\x00\x01\x03\x01", 8), &out));
  EXPECT_FALSE(Histogram::Deserialize(std::string("\x01\x03\x03\x09\x00\x01\x03\x01", 8), &out));
  // A bucket index past the end, and an 11-byte varint.
  EXPECT_FALSE(
      Histogram::Deserialize(std::string("\x01\x03\x03\x03\x00\x01\xff\xff\x03\x01", 10), &out));
  EXPECT_FALSE(Histogram::Deserialize(
      std::string("\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12), &out));
  out = before;
  EXPECT_FALSE(Histogram::Deserialize("", &out));
  EXPECT_TRUE(out == before);  // unchanged on failure
}

}  // namespace
}  // namespace callsim::harness
