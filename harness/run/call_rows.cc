#include "harness/run/call_rows.h"

#include "harness/run/merge_state.h"

#include "agent/postcall/pii_redaction.h"
#include "harness/measure/wer.h"

namespace callsim::harness {
namespace {

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

std::vector<TurnRow> MakeTurnRows(const CallRecord& r) {
  std::vector<TurnRow> rows;
  for (const TurnOutcome& o : r.outcomes) {
    if (!o.has_user) continue;
    TurnRow t;
    t.turn_index = o.turn_index;
    // Scored on the words as spoken; stored with PII redacted (nothing unredacted is stored).
    const std::string& hypothesis = TurnHypothesis(r, o.turn_index);
    // Without the agent's transcripts a turn is not scored: no words, no errors.
    const WerCounts w = r.agent_transcripts ? ComputeWer(o.reference_text, hypothesis) : WerCounts{};
    t.reference_text = agent::RedactPii(o.reference_text);
    t.hypothesis_text = agent::RedactPii(hypothesis);
    t.ref_words = w.ref_words;
    t.substitutions = w.substitutions;
    t.deletions = w.deletions;
    t.insertions = w.insertions;
    t.turn_latency_ms = o.turn_latency_ms;
    t.barge_in = o.barge_in;
    t.barge_in_stop_ms = o.barge_in_stop_ms;
    rows.push_back(std::move(t));
  }
  return rows;
}

// An event's detail with PII redacted in every string (and in integers that look like cards).
std::string RedactEventDetail(const std::string& detail_json) {
  const nlohmann::json detail = nlohmann::json::parse(detail_json, nullptr, false);
  if (detail.is_discarded()) return agent::RedactPii(detail_json);
  return agent::RedactPiiJson(detail).dump();
}

}  // namespace

// Turns a finished call into its rows, counts it, and hands the rows to the store's batch.
void StoreCall(CallRecord r, int64_t run_id, Store& store, std::mutex* lock) {
  CallRow call;
  call.run_id = run_id;
  call.call_id = r.call_id;
  call.scenario = r.scenario;
  call.started_ms = UsToMs(r.started_us);
  call.ended_ms = UsToMs(r.ended_us);
  call.status = kCallStatusNames.Name(r.status);
  call.task_completed = r.task_completed;
  call.failure_reason = agent::RedactPii(r.failure_reason);
  call.recording = r.recording;
  call.event_hash = HashHex(r.event_hash);

  std::vector<TurnRow> turns = MakeTurnRows(r);
  std::vector<ExpectationRow> expectations;
  for (const ExpectationResult& e : r.expectations) {
    ExpectationRow row;
    row.turn_index = e.turn_index;
    row.kind = e.kind;
    row.passed = e.passed;
    row.detail = agent::RedactPii(e.detail);
    expectations.push_back(std::move(row));
  }
  std::vector<EventRow> events;
  events.reserve(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i) {
    EventEntry& e = r.events[i];
    events.push_back(EventRow{run_id, r.call_id, static_cast<int64_t>(i), UsToMs(e.t_us),
                              std::move(e.source), std::move(e.kind),
                              RedactEventDetail(e.detail_json)});
  }
  for (ToolCallRow& t : r.tool_calls) {
    t.arguments_json = agent::RedactPii(t.arguments_json);
    t.result_json = agent::RedactPii(t.result_json);
    t.reason = agent::RedactPii(t.reason);
  }
  std::unique_lock<std::mutex> held;
  if (lock) held = std::unique_lock<std::mutex>(*lock);
  store.AddCall(std::move(call), std::move(turns), std::move(expectations), std::move(events),
                std::move(r.tool_calls), std::move(r.media));
}

agent::CallReportInput ReportInput(const CallRecord& r) {
  agent::CallReportInput input;
  for (const agent::ChatMessage& m : r.transcript) {
    const bool spoken = (m.role == "user" || m.role == "assistant") && m.tool_name.empty();
    if (spoken) input.transcript.push_back({m.role, m.content, 0});
  }
  for (const ToolCallRow& t : r.tool_calls) {
    input.tools.push_back({t.name, t.decision, t.reason, t.arguments_json, t.result_json,
                           t.tool_call_id, t.duration_ms, t.confirmed});
  }
  input.usage = r.usage;
  input.outcome.ended_by = kCallEndedByNames.Name(r.ended_by);
  input.outcome.duration_ms = (r.ended_us - r.started_us) / agent::kMicrosPerMs;
  return input;
}

CallReportRow ReportRow(int64_t run_id, int64_t call_id, const agent::CallReport& report) {
  CallReportRow row;
  row.run_id = run_id;
  row.call_id = call_id;
  row.transcript_json = report.transcript.dump();
  row.summary = report.summary;
  nlohmann::json items = report.action_items;
  for (const std::string& line : report.not_done) items.push_back(line);
  row.action_items_json = items.dump();
  nlohmann::json cost = agent::ToJson(report.cost);
  cost["usage"] = agent::ToJson(report.usage);
  row.cost_json = cost.dump();
  row.total_cost_usd = report.cost.total_usd;
  row.redactions = report.redactions.total();
  return row;
}

}  // namespace callsim::harness
