#include "harness/run/call_recorder.h"

#include <algorithm>

#include "agent/pipeline/agent_events.h"
#include "agent/postcall/call_record.h"
#include "agent/runtime/check.h"

namespace callsim::harness {
namespace {

// Executed calls that break the policy, judged from the audit rows and the declared tools alone.
int CountUnsafe(const std::vector<ToolCallRow>& rows, const std::vector<agent::ToolSpec>* tools,
                const std::vector<std::string>& allow) {
  int unsafe = 0;
  for (const ToolCallRow& row : rows) {
    if (row.decision != "executed" || row.reason == "call_control") continue;
    const agent::ToolSpec* spec = nullptr;
    if (tools) {
      for (const agent::ToolSpec& t : *tools) {
        if (t.name == row.name) spec = &t;
      }
    }
    const bool allowed =
        allow.empty() || std::find(allow.begin(), allow.end(), row.name) != allow.end();
    if (spec == nullptr || !allowed || (spec->destructive && !row.confirmed)) ++unsafe;
  }
  return unsafe;
}

}  // namespace

ToolCallRow ToolCallRowFromAudit(int64_t t_us, const nlohmann::json& detail) {
  agent::ToolAuditEvent audit;
  agent::FromJson(detail, &audit);
  ToolCallRow row;
  row.t_ms = static_cast<double>(t_us) / 1000.0;
  row.tool_call_id = std::move(audit.tool_call_id);
  row.name = std::move(audit.name);
  row.arguments_json = std::move(audit.arguments_json);
  row.decision = std::move(audit.decision);
  row.reason = std::move(audit.reason);
  row.result_json = std::move(audit.result_json);
  row.duration_ms = audit.duration_ms;
  row.confirmed = audit.confirmed;
  return row;
}

CallRecorder::CallRecorder(const Scenario& scenario, CallLog& log, const CallServices& services)
    : scenario_(scenario), log_(log), services_(services), hypotheses_(scenario.turns.size()) {
  log_.AddObserver([this](int64_t t_us, std::string_view source, std::string_view kind,
                          const nlohmann::json& detail) { OnEvent(t_us, source, kind, detail); });
}

void CallRecorder::OnEvent(int64_t t_us, std::string_view source, std::string_view kind,
                           const nlohmann::json& detail) {
  if (source != agent::event_sources::kAgent) return;
  if (kind == agent::agent_events::kToolAudit) tool_calls_.push_back(ToolCallRowFromAudit(t_us, detail));
  if (kind == agent::agent_events::kFalseInterruption) ++false_interruptions_;
  if (kind == agent::agent_events::kUsage) agent::FromJson(detail, &usage_);
  if (kind == agent::agent_events::kSttFinal) {
    OnFinal(detail);
  } else if (caller_ != nullptr) {
    caller_->OnAgentEvent(kind, detail);
  }
}

// A final transcript joins the hypothesis of the caller's latest turn.
void CallRecorder::OnFinal(const nlohmann::json& detail) {
  const int turn = caller_ ? caller_->current_user_turn() : -1;
  const auto text = detail.find("text");
  if (turn < 0 || text == detail.end() || !text->is_string() ||
      text->get_ref<const std::string&>().empty()) {
    return;
  }
  CALLSIM_CHECK(static_cast<size_t>(turn) < hypotheses_.size());
  std::string& hyp = hypotheses_[static_cast<size_t>(turn)];
  if (!hyp.empty()) hyp.push_back(' ');
  hyp += text->get_ref<const std::string&>();
}

CallRecord CallRecorder::Build(int call_id, int64_t started_us, int64_t ended_us,
                               const std::string& reason, CallStatus status, CallEndedBy by) {
  CallRecord r;
  r.ended_by = by;
  r.call_id = call_id;
  r.scenario = scenario_.name;
  r.started_us = started_us;
  r.ended_us = ended_us;
  r.status = status;
  if (caller_) r.outcomes = caller_->outcomes();
  r.hypotheses = hypotheses_;
  if (caller_) r.expectations = caller_->expectations();
  bool all_passed = status == CallStatus::kCompleted;
  for (const ExpectationResult& e : r.expectations) {
    if (e.passed) continue;
    if (all_passed) {
      r.failure_reason = "turn " + std::to_string(e.turn_index) + " " + e.kind + ": " + e.detail;
    }
    all_passed = false;
  }
  if (status != CallStatus::kCompleted && r.failure_reason.empty()) r.failure_reason = reason;
  r.task_completed = all_passed;
  r.event_hash = log_.hash();
  r.events = log_.TakeEntries();
  r.tool_calls = std::move(tool_calls_);
  r.unsafe_tool_executions = CountUnsafe(r.tool_calls, services_.tools.get(),
                                         scenario_.agent.tools.allow);
  r.usage = usage_;
  r.false_interruptions = false_interruptions_;
  return r;
}

}  // namespace callsim::harness
