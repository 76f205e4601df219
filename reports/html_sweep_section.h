// A sweep's section of the HTML report, for capacity planning: turn latency p50, p95 and p99 and
// task completion against the swept level (line charts, the knee marked), and the levels table
// with each level's SLO verdict and why it missed. Read from the store (sweeps, sweep_levels and
// each level run's metrics), like the terminal table (reports/sweep_report.h).
#pragma once

#include <cstdint>
#include <string>

#include "harness/store/store.h"

namespace callsim::reports {

// <section class="sweep" id=ANCHOR data-sweep-id=ID>; a missing sweep gives a section that says
// so. Throws harness::StoreError if the store cannot be read.
std::string SweepSectionHtml(const harness::Store& store, int64_t sweep_id,
                             const std::string& label, const std::string& anchor);

}  // namespace callsim::reports
