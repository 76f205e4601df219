// Typed parsing of a scenario's `turns`: what the caller says, when it barges in or hangs up, and
// the expectations judged on each turn. Internal to harness/scenario.
#pragma once

#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// The turns in `field`, a list of 1 to limits::kMaxTurns. Reports, besides type and range errors:
// an empty turn, barge_in without user speech, agent_stops without barge_in, and turns after a
// hangup.
std::vector<Turn> ParseTurns(ParseContext& ctx, const Field& field);

}  // namespace callsim::harness
