#include "reports/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "agent/runtime/check.h"
#include "harness/measure/percentile.h"

namespace callsim::reports {
namespace {

std::vector<double> SortedFinite(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  std::sort(v.begin(), v.end());
  return v;
}

// The nearest-rank percentiles of one resample of `sorted` (ranks ascending, 1-based), written
// to `out` in rank order: n draws are counted per position, then the counts are walked.
void ResamplePercentiles(const std::vector<double>& sorted, const std::vector<size_t>& ranks,
                         agent::Rng& rng, std::vector<uint32_t>& counts, std::vector<double>& out) {
  const size_t n = sorted.size();
  std::fill(counts.begin(), counts.end(), 0);
  for (size_t i = 0; i < n; ++i) ++counts[rng.UniformInt(n)];
  size_t seen = 0;
  size_t r = 0;
  for (size_t pos = 0; pos < n && r < ranks.size(); ++pos) {
    seen += counts[pos];
    while (r < ranks.size() && seen >= ranks[r]) out[r++] = sorted[pos];
  }
}

// The value of `changes` at quantile p (nearest rank), `changes` sorted.
double At(const std::vector<double>& sorted_changes, double p) {
  return sorted_changes[harness::NearestRank(p * 100, sorted_changes.size()) - 1];
}

}  // namespace

std::vector<PercentileChange> BootstrapPercentileChange(std::vector<double> base,
                                                        std::vector<double> now,
                                                        const std::vector<double>& percentiles,
                                                        int resamples, double confidence,
                                                        agent::Rng& rng) {
  base = SortedFinite(std::move(base));
  now = SortedFinite(std::move(now));
  CALLSIM_CHECK(!base.empty() && !now.empty() && resamples >= 1);
  CALLSIM_CHECK(confidence > 0 && confidence < 1);
  // The walk finds ranks in ascending order; percentiles may come in any order.
  std::vector<size_t> order(percentiles.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return percentiles[a] < percentiles[b]; });
  std::vector<size_t> base_ranks, now_ranks;
  for (const size_t i : order) {
    base_ranks.push_back(harness::NearestRank(percentiles[i], base.size()));
    now_ranks.push_back(harness::NearestRank(percentiles[i], now.size()));
  }
  std::vector<std::vector<double>> changes(percentiles.size());
  for (auto& c : changes) c.reserve(static_cast<size_t>(resamples));
  std::vector<uint32_t> base_counts(base.size()), now_counts(now.size());
  std::vector<double> base_at(order.size()), now_at(order.size());
  for (int b = 0; b < resamples; ++b) {
    ResamplePercentiles(base, base_ranks, rng, base_counts, base_at);
    ResamplePercentiles(now, now_ranks, rng, now_counts, now_at);
    for (size_t k = 0; k < order.size(); ++k) changes[order[k]].push_back(now_at[k] - base_at[k]);
  }
  const double tail = (1 - confidence) / 2;
  std::vector<PercentileChange> out;
  for (size_t i = 0; i < percentiles.size(); ++i) {
    std::sort(changes[i].begin(), changes[i].end());
    PercentileChange c;
    c.percentile = percentiles[i];
    c.base = base[harness::NearestRank(percentiles[i], base.size()) - 1];
    c.now = now[harness::NearestRank(percentiles[i], now.size()) - 1];
    c.ci_low = At(changes[i], tail);
    c.ci_high = At(changes[i], 1 - tail);
    out.push_back(c);
  }
  return out;
}

}  // namespace callsim::reports
