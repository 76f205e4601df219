#include "harness/run/workers.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "harness/run/attempt_metrics.h"
#include "harness/run/load_run.h"
#include "harness/run/run_parts.h"

namespace callsim::harness {
namespace {

// The workers' progress as one run's: counts added, the clock of the slowest worker.
class ProgressJoin {
 public:
  ProgressJoin(ProgressFn out, int workers)
      : out_(std::move(out)), latest_(workers), seen_(static_cast<size_t>(workers), false) {}

  ProgressFn For(int worker) {
    if (!out_) return nullptr;
    return [this, worker](const RunProgress& p) { Update(worker, p); };
  }

 private:
  void Update(int worker, const RunProgress& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_[static_cast<size_t>(worker)] = p;
    seen_[static_cast<size_t>(worker)] = true;
    // Until every worker has reported, the totals would count only some of them.
    if (std::find(seen_.begin(), seen_.end(), false) != seen_.end()) return;
    RunProgress all;
    all.finished = true;
    int64_t slowest_us = std::numeric_limits<int64_t>::max();  // of the workers still running
    int64_t latest_us = 0;
    bool any_p95 = false;
    for (const RunProgress& w : latest_) {
      if (!w.finished) slowest_us = std::min(slowest_us, w.virtual_us);
      latest_us = std::max(latest_us, w.virtual_us);
      all.calls_total += w.calls_total;
      all.calls_started += w.calls_started;
      all.calls_done += w.calls_done;
      all.calls_active += w.calls_active;
      // The slowest worker's p95: an upper bound of the run's.
      if (!std::isnan(w.turn_latency_p95_ms)) {
        all.turn_latency_p95_ms = any_p95 ? std::max(all.turn_latency_p95_ms, w.turn_latency_p95_ms)
                                          : w.turn_latency_p95_ms;
        any_p95 = true;
      }
      all.estimated_end_us = std::max(all.estimated_end_us, w.estimated_end_us);
      all.finished = all.finished && w.finished;
    }
    all.virtual_us = all.finished ? latest_us : slowest_us;
    if (all.virtual_us < last_virtual_us_) all.virtual_us = last_virtual_us_;  // never backwards
    last_virtual_us_ = all.virtual_us;
    if (!reported_finished_) out_(all);
    reported_finished_ = all.finished;
  }

  ProgressFn out_;
  std::mutex mutex_;
  std::vector<RunProgress> latest_;
  std::vector<bool> seen_;
  int64_t last_virtual_us_ = 0;
  bool reported_finished_ = false;
};

}  // namespace

int EffectiveWorkers(const RunPlan& plan, const RunOptions& options, std::string* why) {
  int asked = options.workers > 0 ? options.workers
                                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  why->clear();
  if (asked <= 1) return 1;
  if (options.engine != nullptr) {
    *why = "real time runs on one worker (use --shard for more load generators)";
    return 1;
  }
  if (options.record.policy.on()) {
    *why = "recording runs on one worker";
    return 1;
  }
  // Each worker needs calls of its own; the slices must stay within Shard::kMaxCount.
  const int64_t calls = (plan.main->load.callers + options.shard.count - 1) / options.shard.count;
  const int64_t most = std::min<int64_t>(calls, Shard::kMaxCount / options.shard.count);
  if (asked > most) {
    *why = std::to_string(asked) + " workers for " + std::to_string(calls) + " calls";
    asked = static_cast<int>(std::max<int64_t>(1, most));
  }
  return asked;
}

RunResult RunOnWorkers(const RunPlan& plan, const RunOptions& options, Store& store, int workers) {
  VirtualEngine probe;  // what the run's config says about its engine
  RunInfo info;
  info.seed = options.seed;
  info.mode = probe.mode();
  info.scenario = options.scenario_arg;
  info.config_json = ConfigJson(*plan.main, options, probe);
  const int64_t run_id = store.BeginRun(info);
  if (options.on_begin) options.on_begin(run_id);

  // Worker w runs slice (I + w*N)/(N*W) of this run's slice I/N, storing into the run as it goes.
  std::mutex store_lock;
  ProgressJoin progress(options.progress, workers);
  // Coupled parts run again on one worker: the agent metrics get the parts' counts only if not.
  AttemptMetrics attempt(options, /*apart=*/true);
  std::vector<RunOptions> part_options(static_cast<size_t>(workers), attempt.options());
  std::vector<std::unique_ptr<VirtualEngine>> engines;
  std::vector<std::unique_ptr<LoadRun>> runs;
  for (int w = 0; w < workers; ++w) {
    RunOptions& o = part_options[static_cast<size_t>(w)];
    o.workers = 1;  // the caller's abort flag is read by every worker before every task
    o.shard = Shard{options.shard.index + w * options.shard.count, options.shard.count * workers};
    o.progress = progress.For(w);
    engines.push_back(std::make_unique<VirtualEngine>());
    runs.push_back(std::make_unique<LoadRun>(plan, o, CallSink{store, &store_lock}, run_id,
                                             *engines.back()));
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<RunPart> parts(static_cast<size_t>(workers));
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        parts[static_cast<size_t>(w)] = runs[static_cast<size_t>(w)]->Execute();
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (!e) continue;
    attempt.Keep();
    std::string reason = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      reason = x.what();
    } catch (...) {
    }
    try {
      store.Flush();
    } catch (const StoreError&) {
    }
    try {
      store.FinishRun(run_id, RunOutcome{"failed", "", 1, reason, 0});
    } catch (const StoreError&) {
    }
    std::rethrow_exception(e);
  }

  std::vector<const MergeState*> states;
  for (const RunPart& p : parts) states.push_back(&p.state);
  if (const std::string coupling = Coupling(states); !coupling.empty() && !AnyAborted(parts)) {
    // One shared resource would have changed some call: start over on one worker.
    store.DeleteCalls(run_id);
    RunOptions one = options;
    one.workers = 1;
    one.call_lanes = false;  // what coupled the parts would couple lanes too
    VirtualEngine engine;
    RunResult result = RunOnOneWorker(plan, one, store, run_id, engine);
    result.workers_note = "ran again on one worker: " + coupling;
    return result;
  }
  attempt.Keep();
  const ReportVerdict reports = AdmitPartReports(parts, options.shard);
  std::vector<int64_t> dropped;
  for (const std::vector<int64_t>& ids : reports.dropped) dropped.insert(dropped.end(), ids.begin(), ids.end());
  store.DeleteCallReports(run_id, dropped);
  CountReports(options.agent_metrics, reports);
  const FinishedRun finished =
      FinishParts(store, run_id, parts, options.shard, plan.main->thresholds, reports);
  std::vector<const LoadRun*> part_runs;
  for (const std::unique_ptr<LoadRun>& run : runs) part_runs.push_back(run.get());
  RunResult result = ResultOf(run_id, finished, parts, part_runs);
  result.workers = workers;
  return result;
}

}  // namespace callsim::harness
