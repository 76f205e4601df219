#include "harness/run/sweep.h"

#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace callsim::harness {
namespace {

constexpr const char* kKeyMetrics[] = {
    "calls_total",      "turn_latency_p50_ms", "turn_latency_p95_ms",  "turn_latency_p99_ms",
    "call_errors_rate", "dropped_calls_rate",  "task_completion_rate", "harness_lateness_p99_ms",
};

std::string SloJson(const std::vector<ThresholdResult>& results) {
  nlohmann::json j = nlohmann::json::array();
  for (const ThresholdResult& r : results) {
    nlohmann::json observed = std::isnan(r.observed) ? nlohmann::json(nullptr) : nlohmann::json(r.observed);
    j.push_back({{"metric", r.metric},
                 {"expression", r.expression},
                 {"observed_metric", r.observed_metric},
                 {"observed", observed},
                 {"passed", r.passed}});
  }
  return j.dump();
}

SweepLevelResult JudgeLevel(const SweepPlan& plan, double level, const RunResult& run,
                            const Store& store) {
  SweepLevelResult out;
  out.level = level;
  out.run_id = run.run_id;
  out.run_status = run.status;
  out.results = EvaluateStoredThresholds(store, run.run_id, plan.slo);
  // A saturated level (real time) measured the load generator, not the agent: it never meets.
  out.slo_met = run.status == RunStatus::kCompleted && !run.saturated && AllPassed(out.results);
  const std::map<std::string, double> metrics = store.LoadMetrics(run.run_id);
  for (const char* name : kKeyMetrics) {
    auto it = metrics.find(name);
    if (it != metrics.end() && !std::isnan(it->second)) out.key_metrics[name] = it->second;
  }
  return out;
}

// Records the outcome even when the sweep ends by an exception; never throws over one.
void FinishQuietly(Store& store, int64_t sweep_id, const std::vector<SweepLevelResult>& levels) {
  try {
    store.FinishSweep(sweep_id, std::string(kRunStatusNames.Name(RunStatus::kFailed)),
                      FindKnee(levels));
  } catch (const StoreError&) {
  }
}

}  // namespace

std::optional<double> FindKnee(const std::vector<SweepLevelResult>& levels) {
  std::optional<double> knee;
  for (const SweepLevelResult& l : levels) {
    if (!l.slo_met) break;
    knee = l.level;
  }
  return knee;
}

namespace {

// Judges and stores level `index` of the plan; false when the sweep stops after it.
bool AddLevel(const SweepPlan& plan, size_t index, const RunResult& run, Store& store,
              const SweepLevelFn& on_level, SweepResult* result) {
  const double level = plan.levels[index];
  SweepLevelResult judged = JudgeLevel(plan, level, run, store);
  store.AddSweepLevel(SweepLevelRow{result->sweep_id, static_cast<int64_t>(index), level,
                                    run.run_id, judged.slo_met, SloJson(judged.results)});
  result->levels.push_back(std::move(judged));
  if (on_level) on_level(result->levels.back());
  if (run.status != RunStatus::kCompleted) {
    result->status = RunStatus::kAborted;
    return false;
  }
  return !(plan.stop_on_failure && !result->levels.back().slo_met);
}

void RunOneAtATime(const SweepPlan& plan, uint64_t seed, Store& store, const RunLevelFn& run_level,
                   const SweepLevelFn& on_level, SweepResult* result) {
  for (size_t i = 0; i < plan.levels.size(); ++i) {
    const RunResult run = run_level(LevelRun{SweepLevelOverrides(plan, plan.levels[i]), seed,
                                             &store, nullptr});
    if (!AddLevel(plan, i, run, store, on_level, result)) break;
  }
}

// Levels on threads of their own, at most `at_once` running, started in plan order (each once the
// one before has its run row) and judged in plan order as they finish.
class LevelPool {
 public:
  LevelPool(const SweepPlan& plan, uint64_t seed, const RunLevelFn& run_level,
            const SweepOptions& options)
      : plan_(plan), seed_(seed), run_level_(run_level), options_(options),
        slots_(plan.levels.size()) {}

  ~LevelPool() {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    for (Slot& slot : slots_) {
      if (slot.thread.joinable()) slot.thread.join();
    }
  }

  void Run(Store& store, const SweepLevelFn& on_level, SweepResult* result) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (size_t judged = 0; judged < slots_.size();) {
      while (!stopping_ && started_ < slots_.size() && running_ < options_.levels_at_once &&
             (started_ == 0 || slots_[started_ - 1].begun)) {
        Start(started_++);
      }
      if (judged == started_) break;  // stopped: nothing more will finish
      if (!slots_[judged].done) {
        changed_.wait(lock);
        continue;
      }
      Slot& slot = slots_[judged++];
      if (slot.error) {
        stopping_ = true;
        WaitForRunning(lock);
        std::rethrow_exception(slot.error);
      }
      lock.unlock();
      const bool go_on = AddLevel(plan_, judged - 1, slot.result, store, on_level, result);
      lock.lock();
      if (!go_on) {
        stopping_ = true;
        break;
      }
    }
    WaitForRunning(lock);
  }

 private:
  struct Slot {
    std::thread thread;
    bool begun = false;  // its run row exists (or it ended without one)
    bool done = false;
    RunResult result;
    std::exception_ptr error;
  };

  void Start(size_t index) {
    ++running_;
    slots_[index].thread = std::thread([this, index] {
      RunResult result;
      std::exception_ptr error;
      try {
        std::unique_ptr<Store> store = options_.open_store();
        if (store == nullptr) throw StoreError("cannot open the sweep's database for a level", 0);
        LevelRun level{SweepLevelOverrides(plan_, plan_.levels[index]), seed_, store.get(),
                       [this, index](int64_t) {
                         const std::lock_guard<std::mutex> lock(mutex_);
                         slots_[index].begun = true;
                         changed_.notify_all();
                       }};
        result = run_level_(level);
      } catch (...) {
        error = std::current_exception();
      }
      const std::lock_guard<std::mutex> lock(mutex_);
      Slot& slot = slots_[index];
      slot.result = result;
      slot.error = error;
      slot.begun = slot.done = true;
      --running_;
      changed_.notify_all();
    });
  }

  void WaitForRunning(std::unique_lock<std::mutex>& lock) {
    changed_.wait(lock, [this] { return running_ == 0; });
  }

  const SweepPlan& plan_;
  const uint64_t seed_;
  const RunLevelFn& run_level_;
  const SweepOptions& options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Slot> slots_;
  size_t started_ = 0;
  int running_ = 0;
  bool stopping_ = false;
};

}  // namespace

SweepResult RunSweep(const SweepPlan& plan, uint64_t seed, Store& store,
                     const RunLevelFn& run_level, const SweepLevelFn& on_level,
                     const SweepOptions& options) {
  SweepRow row;
  row.name = plan.name;
  row.scenario = plan.scenario_path;
  row.parameter = plan.parameter;
  row.seed = seed;
  row.plan_json = SweepPlanJson(plan);
  SweepResult result;
  result.sweep_id = store.BeginSweep(row);
  const bool at_once = options.levels_at_once > 1 && !plan.stop_on_failure &&
                       plan.levels.size() > 1 && options.open_store != nullptr;
  try {
    if (at_once) {
      LevelPool(plan, seed, run_level, options).Run(store, on_level, &result);
    } else {
      RunOneAtATime(plan, seed, store, run_level, on_level, &result);
    }
  } catch (...) {
    FinishQuietly(store, result.sweep_id, result.levels);
    throw;
  }
  result.knee = FindKnee(result.levels);
  store.FinishSweep(result.sweep_id, std::string(kRunStatusNames.Name(result.status)),
                    result.knee);
  return result;
}

int SweepExitCode(const SweepResult& result) {
  if (result.status != RunStatus::kCompleted) return 1;
  return result.knee ? 0 : 99;
}

}  // namespace callsim::harness
