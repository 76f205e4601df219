// A sweep plan: run one scenario at several levels of one parameter (by default load.callers)
// and find the knee, the highest level that still meets a service-level objective. Plans are
// YAML, checked at the edge like scenarios: every problem comes back as "file:line:col: path:
// message", unknown and duplicate keys included, and then there is no plan.
//
//   name: llm_capacity                   # optional; default: the file name without .yaml
//   scenario: ../order_status.yaml       # required; relative to the plan file's folder
//   parameter: load.callers              # optional; the --set path each level goes to
//   levels: [10, 25, 50, 100, 200]       # required; strictly increasing numbers
//   set: [ "fakes.llm.capacity.max_concurrent=30" ]   # optional; fixed --set for every level
//   slo: { turn_latency: ["p(95)<2000"], task_completion: ["rate>0.9"] }  # required; thresholds
//   stop_on_failure: false               # optional; true stops after the first level that misses
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"

namespace callsim::harness {

struct SweepPlan {
  std::string path;  // the plan file, as given
  std::string name;
  std::string scenario_path;  // resolved against the plan file's folder
  std::string parameter = "load.callers";
  std::vector<double> levels;     // strictly increasing; whole numbers >= 1 for load.callers
  std::vector<std::string> set;   // "dotted.path=VALUE", applied before the level's own --set
  std::vector<Threshold> slo;     // in file order; `where` points into the plan file
  bool stop_on_failure = false;
};

// Bounds: a typo must not become a week of runs or a huge read.
inline constexpr size_t kMaxSweepLevels = 100;
inline constexpr size_t kMaxSweepPlanBytes = 1 << 20;
inline constexpr size_t kMaxSweepSets = 200;

// Reads and checks the plan at `path`. Returns false with at least one message in *errors (and
// *out unchanged) when the file cannot be read or anything in it is wrong. The scenario file must
// exist; whether it loads with each level's overrides is CheckSweepLevels' job.
bool LoadSweepPlan(const std::string& path, SweepPlan* out, std::vector<std::string>* errors);
// The same on text in memory; `path` names it in errors and anchors the relative scenario path.
bool ParseSweepPlan(const std::string& yaml_text, const std::string& path, SweepPlan* out,
                    std::vector<std::string>* errors);

// Loads the scenario with every level's overrides, so a bad `set` or `parameter` is an input
// error before anything runs. Appends the loader's errors, each prefixed "level L: ".
bool CheckSweepLevels(const SweepPlan& plan, std::vector<std::string>* errors);

// The --set overrides of one level: plan.set in order, then "<parameter>=<level>" (so it wins).
std::vector<std::string> SweepLevelOverrides(const SweepPlan& plan, double level);
// The shortest text that reads back as `level`: "10", "0.05".
std::string FormatLevel(double level);
// The plan as JSON (for the sweeps table): name, scenario, parameter, levels, set, slo, and
// stop_on_failure.
std::string SweepPlanJson(const SweepPlan& plan);

}  // namespace callsim::harness
