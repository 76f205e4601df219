#include "harness/run/workers.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#include "harness/run/merge.h"

namespace callsim::harness {
namespace {

// The workers' progress as one run's: counts added, the clock of the slowest worker.
class ProgressJoin {
 public:
  ProgressJoin(ProgressFn out, int workers) : out_(std::move(out)), latest_(workers) {}

  ProgressFn For(int worker) {
    if (!out_) return nullptr;
    return [this, worker](const RunProgress& p) { Update(worker, p); };
  }

 private:
  void Update(int worker, const RunProgress& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    latest_[static_cast<size_t>(worker)] = p;
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
  int64_t last_virtual_us_ = 0;
  bool reported_finished_ = false;
};

// A folder beside the store's file for the workers' databases, removed when done.
class WorkFolder {
 public:
  explicit WorkFolder(const std::string& store_path) {
    static std::atomic<int> sequence{0};
    std::filesystem::path base(store_path);
    path_ = base.string() + ".workers-" + std::to_string(::getpid()) + "-" +
            std::to_string(sequence.fetch_add(1));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~WorkFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(int worker) const {
    return (std::filesystem::path(path_) / ("worker-" + std::to_string(worker + 1) + ".db")).string();
  }

 private:
  std::string path_;
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
  WorkFolder folder(store.path());
  std::atomic<bool> stop{false};
  std::atomic<int> running{workers};
  std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
  std::vector<RunResult> results(static_cast<size_t>(workers));
  ProgressJoin progress(options.progress, workers);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        RunOptions o = options;
        o.workers = 1;
        o.abort = &stop;
        o.shard = Shard{options.shard.index + w * options.shard.count, options.shard.count * workers};
        o.progress = progress.For(w);
        o.count_post_call_reports = false;
        std::string error;
        std::unique_ptr<Store> part = Store::Open(folder.File(w), &error);
        if (!part) throw StoreError(error, 0);
        results[static_cast<size_t>(w)] = RunScenario(plan, o, *part);
      } catch (...) {
        errors[static_cast<size_t>(w)] = std::current_exception();
        stop = true;
      }
      --running;
    });
  }
  // The caller's abort flag reaches the workers through `stop` (read before every task).
  while (running.load() > 0) {
    if (options.abort && options.abort->load(std::memory_order_relaxed)) stop = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::vector<std::string> paths;
  for (int w = 0; w < workers; ++w) paths.push_back(folder.File(w));
  const MergePlan merge = PlanMerge(paths, options.shard);
  if (!merge.coupling.empty()) {
    RunOptions one = options;
    one.workers = 1;
    RunResult result = RunScenario(plan, one, store);
    result.workers_note = "ran again on one worker: " + merge.coupling;
    return result;
  }
  const MergeResult merged = WriteMerge(merge, store);
  if (options.agent_metrics && options.count_post_call_reports) {
    const std::map<std::string, double> m = store.LoadMetrics(merged.run_id);
    for (const auto& [name, kept] : {std::pair{"post_call_reports", true},
                                     std::pair{"post_call_reports_dropped", false}}) {
      auto it = m.find(name);
      const int64_t n = it == m.end() ? 0 : std::llround(it->second);
      for (int64_t i = 0; i < n; ++i) options.agent_metrics->CountPostCallReport(kept);
    }
  }
  RunResult result;
  result.run_id = merged.run_id;
  result.status = merged.status == "aborted" ? RunStatus::kAborted : RunStatus::kCompleted;
  result.event_log_hash = merged.event_log_hash;
  result.calls = static_cast<int>(merged.calls);
  result.calls_passed = static_cast<int>(merged.calls_passed);
  result.calls_not_started = static_cast<int>(merged.calls_not_started);
  result.thresholds = merged.thresholds;
  result.exit_code = merged.exit_code;
  result.workers = workers;
  for (const RunResult& r : results) {
    result.calls_dropped += r.calls_dropped;
    result.calls_aborted += r.calls_aborted;
    result.peak_active_calls += r.peak_active_calls;  // an upper bound of the run's peak
    result.virtual_end_us = std::max(result.virtual_end_us, r.virtual_end_us);
    for (auto [into, from] : {std::pair{&result.stt_capacity, &r.stt_capacity},
                              std::pair{&result.llm_capacity, &r.llm_capacity},
                              std::pair{&result.tts_capacity, &r.tts_capacity}}) {
      into->requests += from->requests;
      into->granted += from->granted;
      into->queued += from->queued;
      into->queue_timeouts += from->queue_timeouts;
      into->over_capacity += from->over_capacity;
      into->rate_limited += from->rate_limited;
      into->peak_in_service += from->peak_in_service;  // an upper bound
      into->max_wait_us = std::max(into->max_wait_us, from->max_wait_us);
      into->total_wait_us += from->total_wait_us;
    }
  }
  return result;
}

}  // namespace callsim::harness
