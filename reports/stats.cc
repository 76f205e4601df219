#include "reports/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace callsim::reports {

double CorpusWer(const std::vector<harness::TurnRow>& turns) {
  int64_t errors = 0;
  int64_t ref_words = 0;
  for (const harness::TurnRow& t : turns) {
    errors += t.substitutions + t.deletions + t.insertions;
    ref_words += t.ref_words;
  }
  if (ref_words <= 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(errors) / static_cast<double>(ref_words);
}

namespace {

// ceil(q * n) where a product that lands within rounding error of an integer counts as that
// integer: 0.07 * 100 is 7.000000000000001 in binary and must give rank 7, not 8.
size_t NearestRank(double q, size_t n) {
  const double x = q * static_cast<double>(n);
  const double nearest = std::round(x);
  const double rank = std::fabs(x - nearest) <= 1e-9 * std::max(1.0, x) ? nearest : std::ceil(x);
  return std::clamp<size_t>(static_cast<size_t>(rank), 1, n);
}

}  // namespace

double NearestRankPercentile(std::vector<double> values, double q) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
               values.end());
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const size_t k = NearestRank(q, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace callsim::reports
