#include "harness/measure/histogram.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>

#include "agent/runtime/check.h"

namespace callsim::harness {
namespace {

constexpr int kSubBits = 10;
constexpr int kSubBuckets = 1 << kSubBits;  // 1024 per power of two: width <= value / 1024
constexpr int kFormatVersion = 1;

// Group 0 holds 0..1023 one by one; group g >= 1 holds [2^(g+9), 2^(g+10)) in steps of 2^(g-1).
// (Group 1 therefore also has unit width, so every value below 2048 is exact.)
int BucketIndex(int64_t value) {
  CALLSIM_CHECK(value >= 0 && value <= Histogram::kMaxTrackableValue);  // Record clamps first
  if (value < kSubBuckets) return static_cast<int>(value);
  const int exponent = 63 - std::countl_zero(static_cast<uint64_t>(value));
  const int group = exponent - (kSubBits - 1);
  const int sub = static_cast<int>(value >> (exponent - kSubBits)) - kSubBuckets;
  return group * kSubBuckets + sub;
}

int64_t LowestValue(int index) {
  const int group = index >> kSubBits;
  const int64_t sub = index & (kSubBuckets - 1);
  return group == 0 ? sub : (kSubBuckets + sub) << (group - 1);
}

int64_t BucketWidth(int index) {
  const int group = index >> kSubBits;
  return group == 0 ? 1 : int64_t{1} << (group - 1);
}

// ceil(q/100 * count), at least 1, where a product that lands a few ulps above an integer (99.9%
// of 100000 computes as 99900.00000000001) counts as that integer.
uint64_t NearestRank(double q, uint64_t count) {
  const double x = q / 100.0 * static_cast<double>(count);
  double rank = std::ceil(x);
  if (rank >= 1 && x - (rank - 1) <= x * 8 * DBL_EPSILON) rank -= 1;
  if (rank < 1) return 1;
  if (rank >= static_cast<double>(count)) return count;
  return static_cast<uint64_t>(rank);
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads LEB128 varints; any truncated or over-long (> 64 bits) value fails.
struct VarintReader {
  std::string_view data;
  size_t pos = 0;

  bool Read(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= data.size()) return false;
      const uint8_t byte = static_cast<uint8_t>(data[pos++]);
      if (shift == 63 && byte > 1) return false;  // bits beyond 64
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool AtEnd() const { return pos == data.size(); }
};

}  // namespace

void Histogram::Record(int64_t value, uint64_t count) {
  if (count == 0) return;
  if (value < 0 || value > kMaxTrackableValue) {
    value = std::clamp<int64_t>(value, 0, kMaxTrackableValue);
    clamped_ += count;
  }
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += count;
  sum_ += static_cast<uint64_t>(value) * count;
  AddToBucket(BucketIndex(value), count);
}

void Histogram::AddToBucket(int index, uint64_t count) {
  CALLSIM_CHECK(index >= 0 && index < kGroups * kSubBuckets);
  std::vector<uint64_t>& group = groups_[index >> kSubBits];
  if (group.empty()) group.resize(kSubBuckets);  // once per power of two ever used
  group[index & (kSubBuckets - 1)] += count;
}

uint64_t Histogram::BucketCount(int index) const {
  CALLSIM_CHECK(index >= 0 && index < kGroups * kSubBuckets);
  const std::vector<uint64_t>& group = groups_[index >> kSubBits];
  return group.empty() ? 0 : group[index & (kSubBuckets - 1)];
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (int g = 0; g < kGroups; ++g) {
    const std::vector<uint64_t>& theirs = other.groups_[g];
    if (theirs.empty()) continue;
    if (groups_[g].empty()) groups_[g].resize(kSubBuckets);
    for (int i = 0; i < kSubBuckets; ++i) groups_[g][i] += theirs[i];
  }
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
  clamped_ += other.clamped_;
}

void Histogram::Reset() { *this = Histogram(); }

int64_t Histogram::ValueAtPercentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) q = 0;  // also NaN
  if (q > 100) q = 100;
  const uint64_t rank = NearestRank(q, count_);
  CALLSIM_CHECK(rank >= 1 && rank <= count_);
  if (rank == 1) return min_;  // the extremes are known exactly
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (int g = 0; g < kGroups; ++g) {
    if (groups_[g].empty()) continue;
    for (int i = 0; i < kSubBuckets; ++i) {
      seen += groups_[g][i];
      if (seen >= rank) {  // reached: the buckets hold count_ >= rank values
        const int index = g * kSubBuckets + i;
        const int64_t middle = LowestValue(index) + (BucketWidth(index) - 1) / 2;
        return std::clamp(middle, min_, max_);
      }
    }
  }
  return max_;
}

std::vector<HistogramBucket> Histogram::Buckets() const {
  std::vector<HistogramBucket> out;
  for (int g = 0; g < kGroups; ++g) {
    for (size_t i = 0; i < groups_[g].size(); ++i) {
      if (groups_[g][i] == 0) continue;
      const int index = g * kSubBuckets + static_cast<int>(i);
      const int64_t lo = LowestValue(index);
      out.push_back({lo, lo + BucketWidth(index) - 1, groups_[g][i]});
    }
  }
  return out;
}

std::string Histogram::Serialize() const {
  std::string out;
  PutVarint(kFormatVersion, &out);
  PutVarint(static_cast<uint64_t>(min_), &out);
  PutVarint(static_cast<uint64_t>(max_), &out);
  PutVarint(sum_, &out);
  PutVarint(clamped_, &out);
  uint64_t non_empty = 0;
  for (const auto& group : groups_) {
    for (uint64_t c : group) non_empty += c != 0;
  }
  PutVarint(non_empty, &out);
  int next_index = 0;  // gaps are counted from the bucket after the previous one
  for (int g = 0; g < kGroups; ++g) {
    for (size_t i = 0; i < groups_[g].size(); ++i) {
      if (groups_[g][i] == 0) continue;
      const int index = g * kSubBuckets + static_cast<int>(i);
      PutVarint(static_cast<uint64_t>(index - next_index), &out);
      PutVarint(groups_[g][i], &out);
      next_index = index + 1;
    }
  }
  return out;
}

bool Histogram::Deserialize(std::string_view data, Histogram* out) {
  constexpr uint64_t kBuckets = uint64_t{kGroups} * kSubBuckets;
  VarintReader r{data};
  uint64_t version = 0, min = 0, max = 0, sum = 0, clamped = 0, non_empty = 0;
  if (!r.Read(&version) || !r.Read(&min) || !r.Read(&max) || !r.Read(&sum) || !r.Read(&clamped) ||
      !r.Read(&non_empty)) {
    return false;
  }
  if (version != kFormatVersion || min > max || max > uint64_t{kMaxTrackableValue} ||
      non_empty > kBuckets) {
    return false;
  }
  Histogram h;
  uint64_t next_index = 0;
  int first = -1, last = -1;
  unsigned __int128 low_sum = 0, high_sum = 0;  // bounds on the true sum from the buckets
  for (uint64_t k = 0; k < non_empty; ++k) {
    uint64_t gap = 0, count = 0;
    if (!r.Read(&gap) || !r.Read(&count)) return false;
    if (gap >= kBuckets - next_index || count == 0 || h.count_ + count < h.count_) return false;
    const int index = static_cast<int>(next_index + gap);
    h.AddToBucket(index, count);
    h.count_ += count;
    low_sum += static_cast<unsigned __int128>(count) * LowestValue(index);
    high_sum +=
        static_cast<unsigned __int128>(count) * (LowestValue(index) + BucketWidth(index) - 1);
    if (first < 0) first = index;
    last = index;
    next_index = static_cast<uint64_t>(index) + 1;
  }
  if (!r.AtEnd()) return false;
  if (non_empty == 0) {
    if (min != 0 || max != 0 || sum != 0 || clamped != 0) return false;
  } else if (BucketIndex(static_cast<int64_t>(min)) != first ||
             BucketIndex(static_cast<int64_t>(max)) != last || clamped > h.count_ ||
             sum < low_sum || sum > high_sum) {
    return false;
  }
  h.min_ = static_cast<int64_t>(min);
  h.max_ = static_cast<int64_t>(max);
  h.sum_ = sum;
  h.clamped_ = clamped;
  *out = std::move(h);
  return true;
}

bool Histogram::operator==(const Histogram& other) const {
  if (count_ != other.count_ || min_ != other.min_ || max_ != other.max_ || sum_ != other.sum_ ||
      clamped_ != other.clamped_) {
    return false;
  }
  for (int index = 0; index < kGroups * kSubBuckets; ++index) {
    if (BucketCount(index) != other.BucketCount(index)) return false;
  }
  return true;
}

}  // namespace callsim::harness
