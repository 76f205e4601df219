// Exact percentiles of a sample by the nearest-rank definition: the smallest value such that at
// least q percent of the sample is at or below it. Used where every value is at hand (reports,
// checks of the stored histograms); live aggregation uses LatencyHistogram.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace callsim::harness {

// q in [0, 100]. An empty sample gives NaN. Sorts `values` in place.
inline double NearestRankPercentile(std::vector<double>& values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * n));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

}  // namespace callsim::harness
