// A concurrency sweep: the same scenario run once per level of a plan (sweep_plan.h), every level
// a full run in the same database, each judged against the plan's SLO from its stored metrics,
// and the knee reported: the highest level L such that L and every level below it met the SLO.
// (A level that misses and a higher one that meets again does not move the knee up: capacity
// that holds only at some loads is not capacity.) Every level runs with the same seed, so levels
// differ by their load only. The sweep and its levels are stored (sweeps, sweep_levels) as they
// go; a sweep that stops early keeps the levels that finished.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/run/run_metrics.h"
#include "harness/run/status.h"
#include "harness/run/runner.h"
#include "harness/run/sweep_plan.h"
#include "harness/store/store.h"

namespace callsim::harness {

struct SweepLevelResult {
  double level = 0;
  int64_t run_id = 0;
  bool slo_met = false;  // the run completed and every SLO threshold held
  std::vector<ThresholdResult> results;  // the SLO, in plan order
  // From the run's metrics, where present: calls_total, turn_latency_p50_ms, turn_latency_p95_ms,
  // turn_latency_p99_ms, call_errors_rate, dropped_calls_rate, task_completion_rate.
  std::map<std::string, double> key_metrics;
  RunStatus run_status = RunStatus::kCompleted;  // the level run's: kCompleted or kAborted
};

struct SweepResult {
  std::vector<SweepLevelResult> levels;  // the levels that ran, in plan (increasing) order
  std::optional<double> knee;            // nullopt when the lowest level already missed
  int64_t sweep_id = 0;
  RunStatus status = RunStatus::kCompleted;  // kAborted when a level run was aborted
};

// One level's run, as RunSweep asks for it.
struct LevelRun {
  std::vector<std::string> overrides;  // the plan's set, then parameter=level
  uint64_t seed = 1;
  // The store to run it in: the sweep's own, or (levels at once) a connection of the level's own
  // to the same database.
  Store* store = nullptr;
  // To be called with the run's id as soon as its run row exists (RunOptions::on_begin): the
  // next level starts only then, so run ids follow the plan's order however levels overlap.
  std::function<void(int64_t run_id)> on_begin;
};

// Runs one level: loads the scenario with the level's overrides, runs it with its seed into its
// store, and returns the RunResult (run_id, status). Input errors should have been caught before
// the sweep (CheckSweepLevels); it may throw, and then the sweep is marked failed and the
// exception passes on.
using RunLevelFn = std::function<RunResult(const LevelRun& level)>;
// Told about each level as soon as it is judged (for progress lines), in plan order.
using SweepLevelFn = std::function<void(const SweepLevelResult& level)>;

struct SweepOptions {
  // Levels running at once, each on threads of its own (and each run still spreading over its
  // own workers). 1: one after another. A plan that stops on failure runs one at a time, so that
  // no level above a miss runs.
  int levels_at_once = 1;
  // Opens another connection to the sweep's database, for a level that runs beside others
  // (Store: one connection per thread). Needed when levels_at_once > 1.
  std::function<std::unique_ptr<Store>()> open_store;
};

// Runs the plan's levels, judging and storing them in plan order, stopping after a level whose
// run was aborted, or after the first level that misses when plan.stop_on_failure is set. With
// levels at once, the levels already running when the sweep stops finish, and their runs stay
// in the database, but only the levels up to the stop are the sweep's. Every level runs with the
// same seed into the same kind of store, so a level's rows are the same however many run at once.
// Throws StoreError if the store fails.
SweepResult RunSweep(const SweepPlan& plan, uint64_t seed, Store& store,
                     const RunLevelFn& run_level, const SweepLevelFn& on_level = nullptr,
                     const SweepOptions& options = {});

// The knee of levels in increasing order: the last level of the unbroken run of met SLOs from the
// lowest level; nullopt when the first level missed (or there are none).
std::optional<double> FindKnee(const std::vector<SweepLevelResult>& levels);

// The `callsim sweep` exit code: 0 when the sweep completed and found a knee, 99 when it
// completed and even the lowest level missed the SLO, 1 when it was aborted.
int SweepExitCode(const SweepResult& result);

}  // namespace callsim::harness
