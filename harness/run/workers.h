// `callsim run --workers N`: a run's calls on N threads (runner.h, RunOptions::workers).
#pragma once

#include <string>

#include "harness/run/runner.h"

namespace callsim::harness {

// The threads a run with `options` uses, and why fewer than asked for ("" when none): real time,
// recording, or fewer calls than workers.
int EffectiveWorkers(const RunPlan& plan, const RunOptions& options, std::string* why);

// Runs `plan` on `workers` (> 1) threads: each runs its slice of the calls on its own clock and
// stores each call as it ends into the one run (the store's writes under one lock), and the run's
// aggregates are then made from the parts (run_parts.h). When the parts turn out coupled the
// run's calls are deleted and it runs again on one worker. Every worker reads the caller's abort
// flag before every task. Throws like RunScenario: a worker's exception is passed on once the
// others have ended and the run is marked failed.
RunResult RunOnWorkers(const RunPlan& plan, const RunOptions& options, Store& store, int workers);

}  // namespace callsim::harness
