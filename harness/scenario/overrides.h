// --set PATH=VALUE: command-line overrides of any scenario field, applied to the YAML tree before
// typed parsing, so an overridden value is checked exactly like one written in the file.
// PATH is dotted (network.uplink.loss); list elements are addressed by 0-based index
// (turns.1.user).
// VALUE is parsed as YAML, so numbers, words and flow nodes ({model: gilbert, p: 0.01}) all work.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "harness/scenario/scenario_error.h"

namespace callsim::harness {

// One --set, parsed.
struct Override {
  std::string text;               // as given: "network.uplink.loss=0.05"
  std::vector<std::string> path;  // {"network", "uplink", "loss"}
  YAML::Node value;
};

// An override that was applied: the canonical dotted path it set (indices without leading zeros)
// and where to blame errors in what it set.
struct AppliedOverride {
  std::string path;
  SourceLocation where;
  // The maps and lists on the path are copies (see ApplyOverride), and copies have no position;
  // their originals' positions, by canonical path, so errors about them still point into the file.
  std::vector<std::pair<std::string, YAML::Mark>> copied_marks;
};

// The location errors about an override name: file "--set TEXT", line 0.
SourceLocation OverrideLocation(std::string_view text);

// Parses "dotted.path=VALUE". A malformed override (no '=', an empty path or path segment, a VALUE
// that is not UTF-8 or not valid YAML) gives nullopt and appends an error located at the override.
std::optional<Override> ParseOverride(const std::string& text, std::vector<ScenarioError>* errors);

// Sets `o.value` at `o.path` in `root` (a map or null), creating maps for missing keys. A list
// index must name an existing element. The maps and lists along the path are copied rather than
// edited, so a YAML alias that shares one of them elsewhere (downlink: *uplink) keeps its value.
// Returns what was applied, or nullopt with an error appended (root unchanged) when the path
// cannot be followed: an index out of range or not a number, or a key inside a scalar.
std::optional<AppliedOverride> ApplyOverride(const Override& o, YAML::Node& root,
                                             std::vector<ScenarioError>* errors);

// Parses and applies each override in order (a later one wins). Returns those that applied.
std::vector<AppliedOverride> ApplyOverrides(const std::vector<std::string>& texts, YAML::Node& root,
                                            std::vector<ScenarioError>* errors);

}  // namespace callsim::harness
