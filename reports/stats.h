// Exact run statistics over stored rows, as shared/DESIGN.md defines them: corpus WER (errors over
// reference words, never a mean of per-turn rates) and nearest-rank percentiles (a value that
// actually occurred, never an interpolation).
#pragma once

#include <vector>

#include "harness/store/rows.h"

namespace callsim::reports {

// sum(S + D + I) / sum(N) over `turns`. NaN when there are no reference words (undefined).
double CorpusWer(const std::vector<harness::TurnRow>& turns);

// Nearest-rank percentile: the smallest value v such that at least q of the values are <= v,
// i.e. the element of rank ceil(q * n) (1-based) in sorted order. q is a fraction in [0, 1] and is
// clamped to it; q = 0 gives the minimum, q = 1 the maximum. NaN values are ignored; NaN when no
// value remains. O(n) (selection, not a full sort).
double NearestRankPercentile(std::vector<double> values, double q);

}  // namespace callsim::reports
