// `callsim run --workers N`: a run's calls on N threads (runner.h, RunOptions::workers).
#pragma once

#include <string>

#include "harness/run/runner.h"

namespace callsim::harness {

// The threads a run with `options` uses, and why fewer than asked for ("" when none): real time,
// recording, or fewer calls than workers.
int EffectiveWorkers(const RunPlan& plan, const RunOptions& options, std::string* why);

// Runs `plan` on `workers` (> 1) threads, each into a database of its own in a folder beside the
// store's file (removed afterwards), then merges them into `store`; when the parts are coupled it
// runs again on one worker. Throws like RunScenario; a worker's exception is passed on after the
// others have stopped (the abort flag is shared, so an abort stops them all).
RunResult RunOnWorkers(const RunPlan& plan, const RunOptions& options, Store& store, int workers);

}  // namespace callsim::harness
