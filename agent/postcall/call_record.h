// What the agent buffers during a call for post-call processing: the transcript, the audit record
// of every tool proposal, what the providers were used for, and how the call ended. Plain data,
// not yet redacted: BuildCallReport (call_report.h) redacts everything before it leaves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/postcall/call_cost.h"

namespace callsim::agent {

struct TranscriptTurn {
  std::string role;  // "user" or "assistant"
  std::string text;
  int64_t t_ms = 0;  // when the turn started, virtual ms since the call began
};

// One tool proposal and what became of it: the agent's "tool_audit" event (ToolAuditEvent).
struct ToolAuditRecord {
  std::string name;
  // "executed", "failed", "blocked", "declined", "cancelled" or "reused" (a duplicate answered with
  // the first run's result).
  std::string decision;
  std::string reason;          // why it was blocked, declined or failed; may be empty
  std::string arguments_json;  // as the model wrote them: untrusted, may not be JSON
  std::string result_json;     // the back end's result; empty when nothing ran
  std::string tool_call_id{};  // the model's id for the call
  double duration_ms = 0;      // how long it ran; 0 when it did not
  bool confirmed = false;      // the caller said yes first (destructive tools)

  bool operator==(const ToolAuditRecord&) const = default;
};

// The "tool_audit" detail: {"tool_call_id", "name", "arguments", "decision", "reason", "result",
// "duration_ms", "confirmed"}.
nlohmann::json ToJson(const ToolAuditRecord& record);
// Untrusted JSON: a field that is missing or of the wrong type gets its default.
void FromJson(const nlohmann::json& detail, ToolAuditRecord* record);

struct CallEnding {
  // The agent's end reason: "hangup" (the caller), "agent_hangup", "transfer", "max_call",
  // "silence_timeout", an error such as "stt_failed", or anything else.
  std::string ended_by;
  int64_t duration_ms = 0;
};

struct CallReportInput {
  std::vector<TranscriptTurn> transcript;  // in order
  std::vector<ToolAuditRecord> tools;      // in order
  CallUsage usage;
  CallEnding outcome;
};

}  // namespace callsim::agent
