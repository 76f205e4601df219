// One call drawn over its own time, for reading a failure: the caller's utterances, the agent's
// replies (an interrupted one marked), the agent's barge-ins as red lines, and the tool calls
// (from proposal to outcome, named, coloured by decision). Times are the events' own: the caller
// at the mouth, the agent at the agent, so one direction's transit separates the two lanes. Each
// lane draws at most kMaxTimelineItems items and says how many it left out.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "harness/store/rows.h"

namespace callsim::reports {

inline constexpr size_t kMaxTimelineItems = 150;

// <svg class="chart timeline" data-call=ID data-caller=N data-agent=N data-barge-ins=N
// data-tools=N> (the counts drawn). `events` are the call's in log order; `tool_calls` may hold
// other calls' rows, which are ignored.
std::string SvgCallTimeline(const harness::CallRow& call,
                            const std::vector<harness::EventRow>& events,
                            const std::vector<harness::ToolCallRow>& tool_calls);

}  // namespace callsim::reports
