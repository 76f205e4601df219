// Typed parsing of a scenario's `load` section (how many calls, arriving how, running which
// scenarios) and of its `thresholds` (the run's pass/fail criteria). Internal to harness/scenario.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// Reports, besides type and range errors: arrival with both or neither of rate_per_s and phases,
// a phase item without exactly one of constant / ramp / poisson, and mix files that do not exist
// (relative to `base_dir`). Mix entries get their resolved path and weight only: loading them
// is the loader's job.
void ParseLoad(ParseContext& ctx, const Field& f, const std::string& base_dir, LoadSpec* out);

// metric -> list of expressions. Reports an unknown metric at its key (listing the known ones)
// and an expression that does not parse or does not apply to its metric at the expression.
std::vector<Threshold> ParseThresholds(ParseContext& ctx, const Field& f);

}  // namespace callsim::harness
