// Exact run statistics over stored rows, as shared/DESIGN.md defines them: corpus WER (errors over
// reference words, never a mean of per-turn rates) and nearest-rank percentiles (a value that
// actually occurred, never an interpolation).
#pragma once

#include <vector>

#include "harness/store/rows.h"

namespace callsim::reports {

// sum(S + D + I) / sum(N) over `turns`. NaN when there are no reference words (undefined).
double CorpusWer(const std::vector<harness::TurnRow>& turns);

// Nearest-rank percentile: the smallest value v such that at least q percent of the values are
// <= v, i.e. the element of rank ceil(q / 100 * n) (1-based) in sorted order. q is in percent,
// [0, 100], like harness::NearestRankPercentile (harness/measure/percentile.h), and is clamped to
// it; q = 0 gives the minimum, q = 100 the maximum. A rank that floating point puts a hair above an
// integer counts as that integer (p7 of 100 values is the 7th). NaN values are ignored; NaN when
// no value remains. O(n) (selection, not a full sort).
double NearestRankPercentile(std::vector<double> values, double q_percent);

}  // namespace callsim::reports
