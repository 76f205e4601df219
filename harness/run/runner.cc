#include "harness/run/runner.h"

#include <algorithm>
#include <exception>
#include <map>
#include <stdexcept>

#include "harness/run/attempt_metrics.h"
#include "harness/run/load_run.h"
#include "harness/run/workers.h"
#include "harness/scenario/tool_file.h"

namespace callsim::harness {
namespace {

// Whether the run's row says it finished (a read: never waits for another writer in WAL mode).
bool RunMarked(const Store& store, int64_t run_id) {
  try {
    const std::optional<RunInfo> run = store.LoadRun(run_id);
    return run && run->status != kRunStatusNames.Name(RunStatus::kRunning);
  } catch (const StoreError&) {
    return false;
  }
}

}  // namespace

std::vector<std::string> DeclaredToolNames(const std::vector<PlannedScenario>& scenarios) {
  std::vector<std::string> names;
  for (const PlannedScenario& p : scenarios) {
    if (!p.tools) continue;
    for (const agent::ToolSpec& t : *p.tools) names.push_back(t.name);
  }
  names.push_back(std::string(agent::kEndCallTool));
  names.push_back(std::string(agent::kTransferCallTool));
  return names;
}

bool MakeRunPlan(const Scenario& main, RunPlan* plan, std::string* error) {
  RunPlan out;
  out.main = &main;
  std::map<std::string, std::shared_ptr<const fakes::LlmScript>> by_path;  // lookups only
  std::map<std::string, std::shared_ptr<const std::vector<agent::ToolSpec>>> tools_by_path;
  auto load_tools = [&](const Scenario& s, std::shared_ptr<const std::vector<agent::ToolSpec>>* out) {
    const std::string& path = s.agent.tools.file;
    if (path.empty()) return true;
    std::shared_ptr<const std::vector<agent::ToolSpec>>& tools = tools_by_path[path];
    if (!tools) {
      auto loaded = std::make_shared<std::vector<agent::ToolSpec>>();
      if (!LoadToolFile(path, loaded.get(), error)) return false;
      for (const std::string& name : s.agent.tools.allow) {
        const bool declared = std::any_of(loaded->begin(), loaded->end(),
                                          [&](const agent::ToolSpec& t) { return t.name == name; });
        if (!declared) {
          *error = s.source_path + ": agent.tools.allow: " + name + " is not declared in " + path;
          return false;
        }
      }
      tools = std::move(loaded);
    }
    *out = tools;
    return true;
  };
  auto add = [&](const Scenario& s) {
    const std::string& path = s.fakes.llm.script;
    if (path.empty() && s.fakes.llm.wire && (!s.fakes.llm.secondary.present || s.fakes.llm.secondary.wire)) {
      // Every LLM of this scenario is over the wire: no script is needed.
      std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
      if (!load_tools(s, &tools)) return false;
      out.scenarios.push_back(PlannedScenario{&s, std::make_shared<const fakes::LlmScript>(), std::move(tools)});
      return true;
    }
    if (path.empty()) {
      *error = s.source_path + ": fakes.llm.script: the fake LLM needs a script (see scenarios/README.md)";
      return false;
    }
    std::shared_ptr<const fakes::LlmScript>& script = by_path[path];
    if (!script) {
      auto loaded = std::make_shared<fakes::LlmScript>();
      if (!fakes::LoadLlmScript(path, loaded.get(), error)) return false;
      script = std::move(loaded);
    }
    std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
    if (!load_tools(s, &tools)) return false;
    out.scenarios.push_back(PlannedScenario{&s, script, std::move(tools)});
    return true;
  };
  if (main.load.mix.empty()) {
    if (!add(main)) return false;
  } else {
    bool any_weight = false;
    for (size_t i = 0; i < main.load.mix.size(); ++i) {
      const MixEntry& entry = main.load.mix[i];
      if (!entry.scenario) {
        *error = main.source_path + ": load.mix." + std::to_string(i) + ": " + entry.scenario_path +
                 " was not loaded";
        return false;
      }
      any_weight = any_weight || entry.weight > 0;
      if (!add(*entry.scenario)) return false;
    }
    if (!any_weight) {
      *error = main.source_path + ": load.mix: no entry has a positive weight";
      return false;
    }
  }
  *plan = std::move(out);
  return true;
}

RunResult RunScenario(const RunPlan& plan, const RunOptions& options, Store& store) {
  const Scenario& main = *plan.main;
  const size_t expected = main.load.mix.empty() ? 1 : main.load.mix.size();
  if (plan.scenarios.size() != expected) {
    throw std::invalid_argument("RunPlan: " + std::to_string(plan.scenarios.size()) +
                                " scenarios for " + std::to_string(expected) + " (see MakeRunPlan)");
  }
  std::string workers_note;
  if (const int workers = EffectiveWorkers(plan, options, &workers_note); workers > 1) {
    return RunOnWorkers(plan, options, store, workers);
  }
  VirtualEngine virtual_engine;
  RunEngine& engine = options.engine ? *options.engine : virtual_engine;
  RunInfo info;
  info.seed = options.seed;
  info.mode = engine.mode();
  info.scenario = options.scenario_arg;
  info.config_json = ConfigJson(main, options, engine);
  const int64_t run_id = store.BeginRun(info);
  if (options.on_begin) options.on_begin(run_id);
  RunResult result = RunOnOneWorker(plan, options, store, run_id, engine);
  result.workers_note = workers_note;
  return result;
}

namespace {

// The stored outcome of a part that ran to its end (or an abort) as the whole run.
RunResult FinishOnePart(const RunPlan& plan, const RunOptions& options, Store& store,
                        int64_t run_id, const LoadRun& run, const std::vector<RunPart>& parts) {
  const ReportVerdict reports = AdmitPartReports(parts, options.shard);
  CountReports(options.agent_metrics, reports);
  RunResult result = ResultOf(
      run_id, FinishParts(store, run_id, parts, options.shard, plan.main->thresholds, reports),
      parts, {&run});
  if (run.recordings().on()) {
    result.recordings_written = run.recordings().written();
    result.recordings_failed = run.recordings().failed();
    result.recordings_folder = run.recordings().run_folder();
  }
  return result;
}

// Marked failed before the error passes on: the calls the store still buffers and the outcome
// commit together (one more lock wait at most).
void MarkFailed(LoadRun& run, const Store& store, int64_t run_id, const std::string& reason) {
  try {
    run.MarkFailed(reason);
  } catch (const StoreError& e) {
    if (!RunMarked(store, run_id)) {
      throw StoreError("run " + std::to_string(run_id) + " failed (" + reason +
                           ") and could not be marked failed, so it still says 'running': " +
                           e.what(),
                       e.sqlite_code());
    }
  }
}

}  // namespace

RunResult RunOnOneWorker(const RunPlan& plan, const RunOptions& options, Store& store,
                         int64_t run_id, RunEngine& engine) {
  // A run on lanes may run again (below): the agent metrics get its first attempt's counts only
  // once it stands.
  AttemptMetrics attempt(options, options.call_lanes && options.engine == nullptr);
  LoadRun run(plan, attempt.options(), CallSink{store}, run_id, engine);
  std::exception_ptr error;
  std::string reason;
  std::string coupling;  // why calls that ran on lanes run again on one clock
  try {
    const std::vector<RunPart> parts = {run.Execute()};
    if (run.lanes() && !parts.front().aborted) coupling = LanesCoupling(parts.front().state);
    if (coupling.empty()) {
      attempt.Keep();
      return FinishOnePart(plan, options, store, run_id, run, parts);
    }
    // A limiter the calls shared would have queued or refused, or a breaker could have opened
    // (load_run.cc, LanesFit): then the order the calls ran in matters, so they start over,
    // all on the run's one clock.
    store.DeleteCalls(run_id);
  } catch (const std::exception& e) {
    error = std::current_exception();
    reason = e.what();
  } catch (...) {
    error = std::current_exception();
    reason = "unknown exception";
  }
  if (error) {
    attempt.Keep();
    MarkFailed(run, store, run_id, reason);
    std::rethrow_exception(error);
  }
  RunOptions one_clock = options;
  one_clock.call_lanes = false;
  VirtualEngine engine_again;
  RunResult result = RunOnOneWorker(plan, one_clock, store, run_id, engine_again);
  result.lanes_note = "ran again on one clock: " + coupling;
  return result;
}

RunResult RunScenario(const Scenario& scenario, const fakes::LlmScript& script,
                      const RunOptions& options, Store& store) {
  if (!scenario.load.mix.empty()) {
    throw std::invalid_argument("RunScenario: " + scenario.name + " has a mix: use MakeRunPlan");
  }
  RunPlan plan;
  plan.main = &scenario;
  plan.scenarios.push_back(
      PlannedScenario{&scenario, std::make_shared<const fakes::LlmScript>(script), nullptr});
  return RunScenario(plan, options, store);
}

}  // namespace callsim::harness
