// Exact run statistics over stored rows, as harness/run/run_metrics.h defines them: corpus WER
// (errors over reference words, never a mean of per-turn rates) and nearest-rank percentiles (a
// value that actually occurred, never an interpolation).
#pragma once

#include <vector>

#include "harness/store/rows.h"

namespace callsim::reports {

// sum(S + D + I) / sum(N) over `turns`. NaN when there are no reference words (undefined).
double CorpusWer(const std::vector<harness::TurnRow>& turns);

// Percentiles: harness::NearestRankPercentile (harness/measure/percentile.h).

}  // namespace callsim::reports
