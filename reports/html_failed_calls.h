// The failed calls of a run in the HTML report, for finding out why: per call (at most
// max_calls, then how many more), its status and reason, each failed expectation's detail (what
// was expected and what was heard), the call's turns (what the caller said, what the agent
// transcribed, what the caller heard, the latency) and its timeline (reports/call_timeline_svg.h).
// A failed call is one whose task was not completed (failed, dropped or aborted). A call with a
// recording (calls.recording) gets an <audio controls preload="none"> player and a link to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::reports {

struct FailedCallsOptions {
  size_t max_calls = 50;                 // calls shown in full
  size_t max_expectations_per_call = 10;
  size_t max_turns_per_call = 20;
  size_t max_text_bytes = 300;           // per transcript or detail
  // Prepended to calls.recording (a path relative to the database's folder) for the players'
  // src: the database's folder as seen from the report's ("" when they are the same).
  std::string recordings_url_prefix;
};

// "" when every call completed its task. Reads the calls' failed expectations, events and tool
// calls from `store`; throws harness::StoreError if it cannot. Each call is an
// <article class="failed-call" data-call=ID> holding one timeline.
std::string FailedCallsHtml(const harness::Store& store, int64_t run_id,
                            const std::vector<harness::CallRow>& calls,
                            const std::vector<harness::TurnRow>& turns,
                            const FailedCallsOptions& options = {});

}  // namespace callsim::reports
