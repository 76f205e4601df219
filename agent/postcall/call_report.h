// The call report stored after a call ends: the redacted transcript, an extractive summary, the
// action items (what the agent did through tools, and what it did not do and why), and what the
// call cost. Everything in it has passed through PII redaction (pii_redaction.h): no text, tool
// argument or tool result leaves here unredacted. Building is pure and deterministic; it never
// throws on bad input (tool arguments that are not JSON are kept as redacted text).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/postcall/call_cost.h"
#include "agent/postcall/call_record.h"
#include "agent/postcall/pii_redaction.h"

namespace callsim::agent {

// Bounds on what one report holds; the rest is counted in turns_omitted / tools_omitted. A call
// has a maximum duration, so real calls stay far below them.
inline constexpr size_t kMaxReportTurns = 2000;
inline constexpr size_t kMaxReportTools = 256;

struct CallReport {
  nlohmann::json transcript = nlohmann::json::array();  // [{"role", "text", "t_ms"}], in order
  // [{"name", "decision", "reason", "arguments", "result"}], in order; arguments and result are
  // the parsed JSON (or the text, when it was not JSON; null when empty).
  nlohmann::json tool_calls = nlohmann::json::array();
  std::string summary;
  std::vector<std::string> action_items;  // one per executed tool call, in order
  std::vector<std::string> not_done;      // blocked, declined, failed, cancelled; in order
  CallUsage usage;
  CallCost cost;
  CallEnding outcome;    // ended_by redacted
  PiiCounts redactions;  // what redaction replaced in the input
  size_t turns_omitted = 0;
  size_t tools_omitted = 0;
};

CallReport BuildCallReport(const CallReportInput& input, const PriceTable& prices = {});

// {"summary", "action_items", "not_done", "transcript", "tool_calls", "usage", "cost", "outcome":
// {"ended_by", "duration_ms"}, "redactions": {"card", "ssn", "phone", "email"}, "turns_omitted",
// "tools_omitted"}. Every string in it is valid UTF-8, so dump() never throws.
nlohmann::json ToJson(const CallReport& report);

}  // namespace callsim::agent
