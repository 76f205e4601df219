// The latency parts of a run's HTML section, from the stored per-turn samples (the turns table)
// with exact nearest-rank percentiles: the turn-latency histogram and CDF with p50, p95 and p99
// marked; the stage waterfall of the actual p50 and p95 turns (reports/turn_waterfall.h); the
// barge-in stop-latency distribution. Each returns "" when the run has nothing to show.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::reports {

// A <figure class="distribution"> with a histogram and a CDF of `samples`, p50/p95/p99 marked, a
// caption naming the sample count and the bin count (<span class="bin-count">), and a table of
// the percentiles. `what` names the samples ("turn latency"), `unit_of` what one sample is
// ("answered turns"). "" without samples.
std::string DistributionHtml(const std::vector<double>& samples, const std::string& what,
                             const std::string& unit_of);

// "Turn latency": DistributionHtml over the turns' latencies.
std::string TurnLatencyHtml(const std::vector<harness::TurnRow>& turns);

// "Where the time went": the waterfalls of the p50 and p95 turns (their calls' events read from
// `store`). Throws harness::StoreError if the store cannot be read.
std::string WaterfallHtml(const harness::Store& store, int64_t run_id,
                          const std::vector<harness::TurnRow>& turns);

// "Barge-in": how many, how many stops were observed, and their distribution.
std::string BargeInHtml(const std::vector<harness::TurnRow>& turns);

}  // namespace callsim::reports
