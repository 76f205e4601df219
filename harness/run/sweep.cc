#include "harness/run/sweep.h"

#include <cmath>
#include <exception>

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

SweepResult RunSweep(const SweepPlan& plan, uint64_t seed, Store& store,
                     const RunLevelFn& run_level, const SweepLevelFn& on_level) {
  SweepRow row;
  row.name = plan.name;
  row.scenario = plan.scenario_path;
  row.parameter = plan.parameter;
  row.seed = seed;
  row.plan_json = SweepPlanJson(plan);
  SweepResult result;
  result.sweep_id = store.BeginSweep(row);
  try {
    for (size_t i = 0; i < plan.levels.size(); ++i) {
      const double level = plan.levels[i];
      const RunResult run = run_level(SweepLevelOverrides(plan, level), seed);
      SweepLevelResult judged = JudgeLevel(plan, level, run, store);
      store.AddSweepLevel(SweepLevelRow{result.sweep_id, static_cast<int64_t>(i), level,
                                        run.run_id, judged.slo_met, SloJson(judged.results)});
      result.levels.push_back(std::move(judged));
      if (on_level) on_level(result.levels.back());
      if (run.status != RunStatus::kCompleted) {
        result.status = RunStatus::kAborted;
        break;
      }
      if (plan.stop_on_failure && !result.levels.back().slo_met) break;
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
