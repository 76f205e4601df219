// Loads a YAML scenario (scenarios/README.md, scenarios/schema.json) into the typed model, applying
// --set overrides first. Bad input never throws: every problem found comes back as a ScenarioError
// with file:line:col (1-based) and the dotted path of the field, and then there is no scenario.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_error.h"

namespace callsim::harness {

// A bound: larger files are refused unread.
inline constexpr size_t kMaxScenarioBytes = 4 << 20;

struct LoadResult {
  std::optional<Scenario> scenario;  // set exactly when `errors` is empty
  // In order: --set errors and errors without a line first, then by line and column; at most
  // about 50, with a last one saying so when more were left out.
  std::vector<ScenarioError> errors;

  bool ok() const { return scenario.has_value(); }
};

// Reads and loads the file at `path`. `set_overrides` are "dotted.path=VALUE" (see overrides.h),
// applied in order before the tree is checked.
LoadResult LoadScenarioFile(const std::string& path,
                            const std::vector<std::string>& set_overrides = {});

// Loads YAML text as if it came from the file `path_for_errors_and_relative_paths`: errors name
// it, relative paths in the scenario resolve against its folder (the working directory when it
// has none), and Scenario::source_path is set to it.
LoadResult LoadScenarioText(const std::string& yaml_text,
                            const std::string& path_for_errors_and_relative_paths,
                            const std::vector<std::string>& set_overrides = {});

}  // namespace callsim::harness
