// Validation of a scenario document against scenarios/schema.json (compiled in, parsed once) with
// valijson, and translation of its findings into messages in the loader's own words ("expected a
// number in [0, 1], got 1.5", "unknown key losss (did you mean loss?)"), each at the exact path.
// Internal to harness/scenario; the loader merges these findings with the typed parser's errors.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "harness/scenario/yaml_json.h"

namespace callsim::harness {

struct SchemaFinding {
  // The dotted path of the offending value; for an unknown or a missing key, the key's path
  // (network.uplink.losss, outages.0.duration_ms), as --set would name it.
  std::string path;
  YAML::Mark mark;  // where to point: the value, the unknown key, or the map missing a key
  std::string message;
  // True for what the typed parser explains better: a text pattern (words, DTMF keys, a file
  // extension) or a rule across fields (at most one action per turn, barge_in needs speech). The
  // loader shows a deferred finding only when the typed parser said nothing at or under `path`.
  bool deferred = false;
};

// Validates `doc` (a scenario converted with YamlToJson, clamp_to_int64 set) against the schema.
// Empty when it conforms. `index` maps paths to YAML nodes, for marks and for quoting values as
// written; without it marks are null and values are quoted from the JSON.
std::vector<SchemaFinding> CheckScenarioSchema(const nlohmann::json& doc, const YamlIndex* index);

}  // namespace callsim::harness
