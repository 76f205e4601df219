// An HDR-style log-linear histogram of non-negative integer values, meant for latencies in
// microseconds. Percentiles are within 0.1% of the true nearest-rank sample, count/min/max/sum are
// exact, and histograms merge without loss by adding counts, so runs and shards combine exactly.
//
// Buckets: values below 2048 each have their own bucket; above, every power of two [2^e, 2^(e+1))
// is split into 1024 equal sub-buckets, so a bucket is at most 1/1024 of its values wide. Memory
// is bounded: 8 KiB per power of two actually used, at most 27 of them (216 KiB).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::harness {

struct HistogramBucket {
  int64_t lowest_value;
  int64_t highest_value;  // inclusive
  uint64_t count;
};

class Histogram {
 public:
  // About 19 hours in microseconds. Larger values are recorded as this value (and negative ones
  // as 0); both are counted in clamped_count().
  static constexpr int64_t kMaxTrackableValue = (int64_t{1} << 36) - 1;

  // Records `value` `count` times (count 0 records nothing).
  void Record(int64_t value, uint64_t count = 1);
  // Adds every count of `other`; the result equals one histogram that recorded both inputs.
  void Merge(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return min_; }  // 0 when empty
  int64_t max() const { return max_; }  // 0 when empty
  // Exact (of the clamped values); wraps past 2^64, which latencies never reach.
  uint64_t sum() const { return sum_; }
  double Mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  uint64_t clamped_count() const { return clamped_; }

  // Nearest rank: the value of the sample of rank ceil(q/100 * count) (at least 1) in sorted
  // order, to within 0.1%: the middle of its bucket, kept within [min, max]. Ranks 1 and count
  // give min() and max() exactly. q outside [0, 100] is clamped; an empty histogram gives 0.
  int64_t ValueAtPercentile(double q) const;

  // Non-empty buckets in increasing order, for charts.
  std::vector<HistogramBucket> Buckets() const;

  // A compact sparse encoding (LEB128 varints: a version, min, max, sum, clamped count, the number
  // of non-empty buckets, then for each the gap from the previous bucket index and its count).
  std::string Serialize() const;
  // Returns false, leaving *out unchanged, on malformed or inconsistent input.
  static bool Deserialize(std::string_view data, Histogram* out);

  // Same counts in every bucket and same count/min/max/sum/clamped.
  bool operator==(const Histogram& other) const;

 private:
  uint64_t BucketCount(int index) const;
  void AddToBucket(int index, uint64_t count);

  // groups_[g] holds the 1024 buckets of group g (values below 1024, then [2^(g+9), 2^(g+10))),
  // or is empty until a value lands there.
  static constexpr int kGroups = 27;
  std::array<std::vector<uint64_t>, kGroups> groups_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  uint64_t sum_ = 0;
  uint64_t clamped_ = 0;
};

}  // namespace callsim::harness
