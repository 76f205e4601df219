// Typed parsing of a scenario's `caller` section: background noise, echo, speaking rate and
// variation, the repeat phrase and how the caller waits for replies. Internal to harness/scenario.
#pragma once

#include <string>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// Reports, besides type and range errors: noise.file missing with type file or given with
// another type (it must exist and be .wav or .flac; relative to `base_dir`), talkers with a
// type other than babble. echo, when present, is enabled.
void ParseCaller(ParseContext& ctx, const Field& f, const std::string& base_dir, CallerSpec* out);

}  // namespace callsim::harness
