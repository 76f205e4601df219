// Runs a scenario in virtual time: schedules the callers' arrivals, runs every call to its end on
// one SimScheduler, stores each finished call as it ends, and then the run's aggregates, histograms
// and event-log hash. The same scenario and seed give identical rows and the same hash.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "fakes/llm/rule_llm.h"
#include "harness/scenario/scenario.h"
#include "harness/store/store.h"

namespace callsim::harness {

struct RunOptions {
  uint64_t seed = 1;
  std::string scenario_arg;             // as the user named the scenario (for the replay line)
  std::vector<std::string> overrides;   // the --set values, recorded with the run
  // Set from a signal handler to stop the run: finished calls are kept, the run is marked aborted.
  const std::atomic<bool>* abort = nullptr;
};

struct RunResult {
  int64_t run_id = 0;
  std::string status;  // completed | aborted
  std::string event_log_hash;
  int calls = 0;
  int calls_passed = 0;
  int exit_code = 0;  // 0 all passed, 99 an expectation failed, 1 aborted
};

// Throws StoreError if the store fails.
RunResult RunScenario(const Scenario& scenario, const fakes::LlmScript& script,
                      const RunOptions& options, Store& store);

}  // namespace callsim::harness
