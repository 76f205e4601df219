#include "agent/postcall/call_record.h"

#include "agent/runtime/json_fields.h"

namespace callsim::agent {

nlohmann::json ToJson(const ToolAuditRecord& record) {
  return {{"tool_call_id", record.tool_call_id},
          {"name", record.name},
          {"arguments", record.arguments_json},
          {"decision", record.decision},
          {"reason", record.reason},
          {"result", record.result_json},
          {"duration_ms", record.duration_ms},
          {"confirmed", record.confirmed}};
}

void FromJson(const nlohmann::json& detail, ToolAuditRecord* record) {
  record->tool_call_id = JsonString(detail, "tool_call_id");
  record->name = JsonString(detail, "name");
  record->arguments_json = JsonString(detail, "arguments");
  record->decision = JsonString(detail, "decision");
  record->reason = JsonString(detail, "reason");
  record->result_json = JsonString(detail, "result");
  record->duration_ms = JsonNumber(detail, "duration_ms").value_or(0.0);
  record->confirmed = JsonBool(detail, "confirmed");
}

}  // namespace callsim::agent
