// A scenario's YAML tree as JSON, for validation against scenarios/schema.json, together with an
// index from each value's dotted path back to its YAML node, so a schema error can point at the
// line and column the user wrote. Internal to harness/scenario.
#pragma once

#include <map>
#include <string>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// Bounds on the conversion: YAML aliases can make a small file into a huge (or, with an alias to
// an enclosing node, endless) tree.
inline constexpr size_t kMaxYamlDepth = 64;
inline constexpr size_t kMaxYamlNodes = 1'000'000;

// Dotted path ("" for the root, "turns.0.user") -> the map entry or list element there.
using YamlIndex = std::map<std::string, Field>;

// How a YAML scalar reads as JSON, following the loader's own readers: a quoted scalar is a
// string; a plain one is null (~, null, empty), a bool (true/false in three spellings), an
// integer, a finite number (YAML 1.2 core syntax), or else a string.
nlohmann::json ScalarToJson(const YAML::Node& scalar);

struct YamlToJsonOptions {
  // valijson reads every integer as int64_t; an unsigned one above INT64_MAX would wrap to a
  // negative number there. Clamping it to INT64_MAX keeps every verdict of a schema whose bounds
  // lie within int64 (ours do), so validation documents set this.
  bool clamp_to_int64 = false;
};

// Converts `root` (at dotted `path`) into *out and, when `index` is set, records every node.
// Map keys that are not scalars are left out, and so are repeated keys after the first (the
// typed parser reports both). Returns false with *error (and *error_path, the deepest path
// reached) when the tree is deeper than kMaxYamlDepth or larger than kMaxYamlNodes.
bool YamlToJson(const YAML::Node& root, const std::string& path, const YamlToJsonOptions& options,
                nlohmann::json* out, YamlIndex* index, std::string* error, std::string* error_path);

}  // namespace callsim::harness
