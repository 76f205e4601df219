// Typed parsing of a turn's `expect` list: what must hold for the turn (what the agent says, how
// fast, that it stops on a barge-in, which tool it calls, ...). Internal to harness/scenario.
#pragma once

#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {

// The expectations in `field` (a list of single-key maps) of a turn with `action`, with or
// without barge_in. Reports, besides type and range errors: agent_says without exactly one of
// contains / matches, a regex that does not compile, tool_call args that are not a map,
// agent_stops on a turn without barge_in and agent_repeats on a turn that is not a repeat.
std::vector<Expectation> ParseExpectations(ParseContext& ctx, const Field& field,
                                           Turn::Action action, bool has_barge_in);

}  // namespace callsim::harness
