// Typed parsing of a scenario's `fakes` section: the fake STT, LLM and TTS behind the reference
// agent, their latency models and their shared capacity. Internal to harness/scenario.
#pragma once

#include <string>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// Reports, besides type and range errors: a latency model with p50 > p95 or p95 > max, a capacity
// with queue > 0 but max_concurrent 0, and an LLM script that does not exist (relative to
// `base_dir`).
void ParseFakes(ParseContext& ctx, const Field& f, const std::string& base_dir, FakesSpec* out);

// `[ { start_ms, duration_ms } ]`: link outages, provider outages and tool back-end outages.
void ParseOutages(ParseContext& ctx, const Field& f, std::vector<OutageSpec>* out);

}  // namespace callsim::harness
