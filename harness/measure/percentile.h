// Exact percentiles of a sample by the nearest-rank definition: the value of rank ceil(q/100 * n)
// (at least 1) in sorted order. Used where every value is at hand (the run's aggregates, reports,
// checks of the stored histograms); live aggregation uses Histogram.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "agent/runtime/check.h"

namespace callsim::harness {

// The 1-based rank for q (percent) of n values, n >= 1. A product that floating point lands a
// hair above an integer (7/100 * 100 = 7.000000000000001) counts as that integer.
inline size_t NearestRank(double q_percent, size_t n) {
  CALLSIM_CHECK(n >= 1);  // no rank among no values
  const double x = std::clamp(q_percent, 0.0, 100.0) / 100.0 * static_cast<double>(n);
  const double nearest = std::round(x);
  const double rank = std::fabs(x - nearest) <= 1e-9 * std::max(1.0, x) ? nearest : std::ceil(x);
  return std::clamp<size_t>(static_cast<size_t>(rank), 1, n);
}

// q in percent, [0, 100]. NaN values are ignored; an empty sample gives NaN. O(n).
inline double NearestRankPercentile(std::vector<double> values, double q_percent) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty() || std::isnan(q_percent)) return std::numeric_limits<double>::quiet_NaN();
  const size_t k = NearestRank(q_percent, values.size()) - 1;
  CALLSIM_CHECK(k < values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace callsim::harness
