// What the harness learns about one call from its event log, whichever way the call runs (a
// SimCall in virtual time, a WireCall over a socket): the agent's final transcript of each caller
// turn (for WER; a turn the caller resumed arrives in pieces), the tool audit rows, the usage
// event, the false interruptions; the agent's other events go on to the caller (tool events for
// its expectations). At the end it builds the call's record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/pipeline/agent_events.h"
#include "agent/postcall/call_cost.h"
#include "harness/caller/caller.h"
#include "harness/run/call_log.h"
#include "harness/run/call_record.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// The store row of an agent "tool_audit" event at `t_us`.
ToolCallRow ToolCallRowFromAudit(int64_t t_us, const nlohmann::json& detail);

class CallRecorder {
 public:
  // Observes `log`; `scenario`, `log` and `services` must outlive this.
  CallRecorder(const Scenario& scenario, CallLog& log, const CallServices& services);
  CallRecorder(const CallRecorder&) = delete;
  CallRecorder& operator=(const CallRecorder&) = delete;

  // The caller the agent's events go to; set before the call starts. Without one (the agent's
  // side of a served call) the record has no turns or expectations.
  void Attach(Caller* caller) { caller_ = caller; }

  // The finished call: the caller's outcomes and verdicts, the agent's transcripts, the events
  // (taken out of the log) and the tool audit with the harness's own safety judgement. A call
  // whose status is not completed, or with an expectation that failed, is not task_completed;
  // its failure_reason names the first failed expectation, else `reason`. The media statistics,
  // side effects and transcript are the owner's to fill in.
  CallRecord Build(int call_id, int64_t started_us, int64_t ended_us, const std::string& reason,
                   CallStatus status, CallEndedBy by);

 private:
  void OnEvent(int64_t t_us, std::string_view source, std::string_view kind,
               const nlohmann::json& detail);
  void OnFinal(const nlohmann::json& detail);

  const Scenario& scenario_;
  CallLog& log_;
  const CallServices& services_;
  Caller* caller_ = nullptr;
  std::vector<std::string> hypotheses_;  // by scenario turn
  std::vector<ToolCallRow> tool_calls_;
  int false_interruptions_ = 0;
  agent::UsageEvent usage_;
};

}  // namespace callsim::harness
