// Typed parsing of a scenario's `turns`: what the caller says, when it barges in or hangs up, and
// the expectations judged on each turn. Internal to harness/scenario.
#pragma once

#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// A bound: a scenario longer than this is almost certainly a mistake (or an attack on memory).
inline constexpr size_t kMaxTurns = 10000;
inline constexpr size_t kMaxExpectationsPerTurn = 100;

// The turns in `field` (a non-empty list). Reports, besides type and range errors: an empty turn,
// barge_in without user speech, agent_stops without barge_in, and turns after a hangup.
std::vector<Turn> ParseTurns(ParseContext& ctx, const Field& field);

}  // namespace callsim::harness
