// One run's section of the HTML report: what ran (scenario, seed, mode, status, exit code) and
// the command that replays it, the headline numbers, the thresholds with their verdicts, the
// latency distributions and waterfalls (reports/html_latency_section.h), WER and task completion
// per scenario when the run was a mix, and the failed calls (reports/html_failed_calls.h). Read
// from the store only; nothing is recomputed from the simulation.
#pragma once

#include <cstdint>
#include <string>

#include "harness/store/store.h"
#include "reports/html_failed_calls.h"

namespace callsim::reports {

// <section class="run" id=ANCHOR data-run-id=ID>. `label` says where the run came from
// ("demo.db#3"). A missing run gives a section that says so. Throws harness::StoreError if the
// store cannot be read.
std::string RunSectionHtml(const harness::Store& store, int64_t run_id, const std::string& label,
                           const std::string& anchor, const FailedCallsOptions& options = {});

// The per-scenario table of a mix: calls, passed, task completion and WER by calls.scenario
// (at most kMaxMixRows rows); "" when every call ran the same scenario.
inline constexpr size_t kMaxMixRows = 50;
std::string ScenarioMixHtml(const std::vector<harness::CallRow>& calls,
                            const std::vector<harness::TurnRow>& turns);

}  // namespace callsim::reports
