// The terminal table of a concurrency sweep, for capacity planners: one row per level with its
// turn-latency percentiles, error and drop rates, task completion and SLO verdict, the knee
// marked, and which SLO thresholds each missing level broke. Everything is read from the store
// (sweeps, sweep_levels, and each level run's metrics); nothing is recomputed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::reports {

// Renders the sweep, ending with a newline:
//
//   sweep 1: llm_capacity  scenario scenarios/order_status.yaml  parameter load.callers  seed 1
//   status completed
//   level | calls | p50 ms | p95 ms | p99 ms | errors | dropped | task completion | SLO
//   ------+-------+--------+--------+--------+--------+---------+-----------------+-------------
//      10 |    10 |   1412 |   1690 |   1702 |   0.0% |    0.0% |          100.0% | met
//      25 |    25 |   1431 |   1733 |   1790 |   0.0% |    0.0% |          100.0% | met  <- knee
//      50 |    50 |   1690 |   2410 |   2630 |   0.0% |    0.0% |           96.0% | missed
//   level 50 missed: turn_latency p(95)<2000 observed 2410.0
//   knee: 25 (the highest load.callers at which it and every lower level met the SLO)
//
// errors = call_errors_rate (dropped or with a provider error), dropped = dropped_calls_rate;
// "n/a" where the run has no such metric. A missing sweep gives a one-line message. Throws
// harness::StoreError if the store cannot be read.
std::string RenderSweepTable(const harness::Store& store, int64_t sweep_id);

// Why a level missed its SLO, from its stored SLO results ("turn_latency p(95)<2000 observed
// 2410.0; ..."), or that its run was saturated or did not complete. Reads the level run's metrics.
std::string LevelMissReasons(const harness::Store& store, const harness::SweepLevelRow& level);

// "knee: 25 (the highest load.callers at which it and every lower level met the SLO)", or why
// there is none, and whether the sweep finished; no newline. `levels` in plan order.
std::string KneeSentence(const harness::SweepRow& sweep,
                         const std::vector<harness::SweepLevelRow>& levels);

}  // namespace callsim::reports
