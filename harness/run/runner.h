// Runs a scenario's load in virtual time: calls arrive on the schedule of load.h, each runs the
// scenario its mix pick names, all share the run's provider capacity limiters, and every call
// runs to its end in virtual time: on a SimScheduler of its own, advanced a window at a time with
// the others (lanes, load_run.h), or when calls share capacity on the run's one SimScheduler. Each finished call is stored as it ends (the Store batches
// them), then the run's aggregates, histograms and event-log hash. The same plan and seed give
// identical rows and the same hash. With RunOptions::record, the calls its policy names are
// recorded and each kept recording is written before its call's row (recordings.h).
//
// Bounds: at most RunOptions::max_active_calls calls run at once (an arrival beyond is stored as
// dropped); the run's virtual time ends at load.duration_s when set (calls still running are
// stored as dropped, "run duration reached") and in any case after the last arrival plus the
// longest max_call_ms plus 120 s ("run time limit"). The abort flag is read before every task
// (on lanes, after every call's turn in a window):
// an abort keeps every finished call, stores the calls in progress as 'aborted' and counts the
// calls not yet arrived on the run row (calls_not_started) instead of storing a row for each.
//
// No return or exception leaves the run 'running': an exception thrown during the run (a store
// write that failed after its lock wait, an internal error) marks it 'failed' with the reason
// first, and then passes on; only if even that write fails does the exception say the run could
// not be marked.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/observability/agent_metrics.h"
#include "agent/tools/tool_spec.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/llm/rule_llm.h"
#include "harness/run/load.h"
#include "harness/run/progress.h"
#include "harness/run/recordings.h"
#include "harness/run/run_metrics.h"
#include "harness/run/status.h"
#include "harness/scenario/scenario.h"
#include "harness/store/store.h"

namespace callsim::harness {

// A scenario a call can run, with its LLM script (loaded once per run, shared by its calls).
struct PlannedScenario {
  const Scenario* scenario = nullptr;
  std::shared_ptr<const fakes::LlmScript> script;
  // The declared tools (agent.tools.file), loaded once per file; null when none.
  std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
};

// What a run runs. `main` gives the load, the thresholds, the provider capacity and the run's
// name; `scenarios` are what calls run: the main scenario alone when its load has no mix, else
// one per mix entry, in mix order (entry i of load.mix is scenarios[i]).
struct RunPlan {
  const Scenario* main = nullptr;
  std::vector<PlannedScenario> scenarios;
};

// Builds the plan for `main` (which must outlive it), loading each LLM script once (scenarios
// naming the same script file share it). Returns false with "file:line:col: message" in *error
// when a script is missing or invalid.
bool MakeRunPlan(const Scenario& main, RunPlan* plan, std::string* error);

class RunEngine;

// The declared tool names of every scenario in `scenarios`, with the call-control tools: the only
// values the agent metrics' tool label may take (others collapse into "undeclared").
std::vector<std::string> DeclaredToolNames(const std::vector<PlannedScenario>& scenarios);

struct RunOptions {
  uint64_t seed = 1;
  // How the calls run; null: SimCalls in virtual time. Must outlive the run.
  RunEngine* engine = nullptr;
  std::string scenario_arg;             // as the user named the scenario (for the replay line)
  std::vector<std::string> overrides;   // the --set values, recorded with the run
  // Set from a signal handler to stop the run: finished calls are kept, the run is marked aborted.
  const std::atomic<bool>* abort = nullptr;
  // Bound on calls running at once; an arrival beyond it is stored as dropped at once.
  int max_active_calls = 100000;
  // The slice of the callers this run holds (`--shard I/N`; load.h); recorded with the run.
  Shard shard;
  // Called every progress_interval_s of virtual time and once at the end (finished = true).
  ProgressFn progress;
  double progress_interval_s = 1;
  // The agent's Prometheus metrics for this run (null: none). Must outlive the run.
  agent::AgentMetrics* agent_metrics = nullptr;
  // Bound on post-call reports waiting to be built; beyond it a report is dropped (counted).
  size_t post_call_queue = 256;
  // Which calls' audio is recorded and where (recordings.h); off by default.
  RecordOptions record;
  // Threads the calls run on (`--workers`; 0: one per core). Worker w of W runs the calls of
  // slice (I + w*N)/(N*W) of this run's slice I/N on its own clock, storing each call into the
  // one run as it ends (the store's writes under one lock), and the run's aggregates are made
  // from the parts (merge.h): the rows, aggregates and hash are those of one worker. When the
  // parts turn out coupled (merge_state.h: a shared limiter would have queued, a shared breaker
  // could have opened), the run runs again on one worker and says why
  // (RunResult::workers_note). Real time (an engine) and recording run on one worker.
  int workers = 1;
  // Virtual time: whether calls that share nothing may run on lanes, each on a clock of its own
  // a window at a time (load_run.h, VirtualEngine). The rows are the same either way; false is
  // for measuring what lanes save.
  bool call_lanes = true;
  // Called with the run's id as soon as its run row exists (a sweep starts its next level then).
  std::function<void(int64_t run_id)> on_begin;
};

struct RunResult {
  int64_t run_id = 0;
  RunStatus status = RunStatus::kCompleted;  // kCompleted or kAborted
  std::string event_log_hash;
  int calls = 0;          // stored calls (every call that arrived)
  int calls_passed = 0;
  int calls_dropped = 0;
  int calls_aborted = 0;       // in progress when the run was aborted
  int calls_not_started = 0;   // still due to arrive when the run was aborted
  int peak_active_calls = 0;
  int64_t virtual_end_us = 0;  // the run's virtual time when it ended
  fakes::CapacityStats stt_capacity, llm_capacity, tts_capacity;  // zero when unlimited
  std::vector<ThresholdResult> thresholds;  // the main scenario's, evaluated and stored
  // Real time only: the harness lateness p99, and whether it passed the scenario's bound
  // (realtime.lateness_bound_ms): a saturated run fails whatever its thresholds say.
  double lateness_p99_ms = 0;
  bool saturated = false;
  int exit_code = 0;  // 0 passed (thresholds if any, else every call), 99 failed, 1 aborted
  // With RunOptions::record on: the WAV files written and the writes that failed, and the run's
  // folder of recordings.
  int64_t recordings_written = 0;
  int64_t recordings_failed = 0;
  std::string recordings_folder;
  int workers = 1;           // the threads the calls ran on
  std::string workers_note;  // why fewer than asked for, when so
  // Whether the calls ran on lanes (RunOptions::call_lanes), and when they ran again on the run's
  // one clock after lanes, why (a shared circuit breaker could have opened).
  bool lanes = false;
  std::string lanes_note;
};

// Throws StoreError if the store fails, and passes on any other exception; either way the run is
// marked failed first (see above).
RunResult RunScenario(const RunPlan& plan, const RunOptions& options, Store& store);

// The run `run_id` (begun in `store`) on one worker: what RunScenario does when it does not
// spread the calls over workers (workers.h runs it again this way when the workers are coupled).
RunResult RunOnOneWorker(const RunPlan& plan, const RunOptions& options, Store& store,
                         int64_t run_id, RunEngine& engine);

// The plan of one scenario without a mix, whose script is at hand. Throws std::invalid_argument
// if the scenario has a mix (use MakeRunPlan).
RunResult RunScenario(const Scenario& scenario, const fakes::LlmScript& script,
                      const RunOptions& options, Store& store);

}  // namespace callsim::harness
