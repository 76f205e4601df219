// Typed parsing of a scenario's `turns`: what the caller does in each (say words, play a file,
// press keys, stay silent, ask for a repeat, hang up, or just wait), when it barges in, and the
// expectations judged on each turn. Internal to harness/scenario.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// The turns in `field`, a list of 1 to limits::kMaxTurns. Relative play.file paths resolve
// against `base_dir`. Reports, besides type and range errors: more than one action in a turn, a
// turn with neither an action nor expect, a bad pause marker, a missing audio file, DTMF keys
// outside 0-9 * # A-D, barge_in without user / play / repeat, and turns after a hangup.
std::vector<Turn> ParseTurns(ParseContext& ctx, const Field& field, const std::string& base_dir);

}  // namespace callsim::harness
