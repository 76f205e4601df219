// The plain-words parts of a call report, built from parts that are already redacted: one line
// per tool call ("cancel_order order_id=4567 -> cancelled", "not done: refund_order
// order_id=4567 (blocked: not_allowed)") and a short extractive summary (what the caller said
// first, what the agent did, how the call ended). Deterministic: the same input gives the same
// words. Every text is bounded in length (long values end in "...").
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/postcall/call_record.h"

namespace callsim::agent {

// A tool call as the report shows it: every field already redacted.
struct ReportedTool {
  std::string name;
  std::string decision;
  std::string reason;
  nlohmann::json arguments;  // parsed; a string when the model's text was not JSON; null if none
  nlohmann::json result;     // likewise
};

// Executed calls are done; duplicates ("reused") repeat a call already listed; anything else
// (blocked, declined, failed, cancelled, unknown) was not done.
bool IsDone(const ReportedTool& tool);
bool IsDuplicate(const ReportedTool& tool);

// "<name> k=v k=v -> <result>": object arguments as key=value in key order, strings unquoted; the
// result as its "status" (else "result", else "message", else its fields); parts that are empty
// are left out.
std::string ActionItemText(const ReportedTool& tool);
// "not done: <name> k=v (<decision>: <reason>)", or "(<decision>)" without a reason.
std::string NotDoneText(const ReportedTool& tool);

// `turns` and `tools` already redacted.
std::string SummarizeCall(const std::vector<TranscriptTurn>& turns,
                          const std::vector<ReportedTool>& tools, const CallEnding& outcome);

}  // namespace callsim::agent
