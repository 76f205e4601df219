// The terminal summary of one run, for people: what ran (scenario, seed, mode, status), how the
// calls went, turn latency percentiles, corpus WER, barge-in, the run's thresholds (one line each,
// "✓ turn_latency p(95)<1200  observed 1143.2" or "✗ ...", when the thresholds table has rows for
// it), the first failed expectations, and the command that replays the run. Everything is read from the store; nothing is recomputed
// from the simulation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "harness/store/store.h"
#include "reports/stats.h"

namespace callsim::reports {

struct SummaryOptions {
  size_t max_failed_expectations = 5;  // how many failed expectations to list
};

// Renders the summary of `run_id`, ending with a newline. The latency percentiles come from the
// run's metrics turn_latency_{p50,p95,p99,max}_ms when present (the histogram values the harness
// computed); otherwise they are computed exactly (nearest rank) from the stored turns. The replay
// line is `replay: callsim run <scenario> --seed <seed>`, plus `--set P=V` for each string in the
// run's config_json "set" array, if there is one. A missing run gives a one-line message.
// Throws harness::StoreError if the store cannot be read.
std::string RenderSummary(const harness::Store& store, int64_t run_id,
                          const SummaryOptions& options = {});

// The command that replays `run` (no trailing newline): `callsim run <scenario> --seed <seed>`,
// `--target self` or the target URL (credentials redacted) for a run over the wire, and
// `--set P=V` for each override.
std::string ReplayCommand(const harness::RunInfo& run);

}  // namespace callsim::reports
