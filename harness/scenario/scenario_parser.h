// Typed parsing of a scenario's YAML tree (after --set overrides) into the model in scenario.h.
// Every field is checked for type and range; every problem is reported through the ParseContext
// and parsing goes on, so one pass shows the user all of them. Internal to harness/scenario.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// The scenario in `root`. Relative file paths in it (fakes.llm.script) resolve against `base_dir`.
// The result is meaningful only if no error was reported.
Scenario ParseScenario(ParseContext& ctx, const YAML::Node& root, const std::string& base_dir);

}  // namespace callsim::harness
