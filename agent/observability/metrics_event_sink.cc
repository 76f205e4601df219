#include "agent/observability/metrics_event_sink.h"

#include <optional>
#include <utility>

#include "agent/pipeline/agent_events.h"
#include "agent/runtime/json_fields.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

constexpr double kMsPerSecond = 1000;

// The string at `key`, or nullptr when the detail is not an object or the field is not a string.
const std::string* StringField(const json& detail, const char* key) {
  const json* field = JsonField(detail, key);
  return field != nullptr && field->is_string() ? &field->get_ref<const std::string&>() : nullptr;
}

// Divided, not multiplied by 1e-3: 300 ms is then exactly the double nearest 0.3, and lands in
// the le="0.3" bucket.
double Seconds(double ms) { return ms / kMsPerSecond; }

}  // namespace

MetricsEventSink::MetricsEventSink(EventSink& inner, AgentMetrics& metrics)
    : inner_(inner), metrics_(metrics) {}

MetricsEventSink::~MetricsEventSink() {
  if (call_active_) metrics_.CallEnded(CallOutcome::kOther);
}

void MetricsEventSink::Emit(int64_t t_us, std::string_view source, std::string_view kind,
                            const json& detail) {
  inner_.Emit(t_us, source, kind, detail);
  if (source == event_sources::kAgent) Record(kind, detail);
}

void MetricsEventSink::Record(std::string_view kind, const json& detail) {
  if (kind == agent_events::kCallStart) {
    if (call_active_) return;
    call_active_ = true;
    metrics_.CallStarted();
  } else if (kind == agent_events::kState) {
    OnState(detail);
  } else if (kind == agent_events::kTurnSpans) {
    OnTurnSpans(detail);
  } else if (kind == agent_events::kBargeIn) {
    metrics_.CountBargeIn();
  } else if (kind == agent_events::kFalseInterruption) {
    metrics_.CountFalseInterruption();
  } else if (kind == agent_events::kPreemptiveStart) {
    metrics_.CountPreemptiveRequest();
  } else if (kind == agent_events::kPreemptiveWasted) {
    const auto tokens = detail.find("tokens");
    metrics_.CountWastedLlmRequest(
        tokens != detail.end() && tokens->is_number_integer() ? tokens->get<int64_t>() : 0);
  } else if (kind == agent_events::kProviderError) {
    OnProviderError(detail);
  } else if (kind == agent_events::kToolAudit) {
    OnToolAudit(detail);
  } else if (kind == agent_events::kPostCallReport) {
    OnPostCallReport(detail);
  }
}

void MetricsEventSink::OnState(const json& detail) {
  const std::string* to = StringField(detail, "to");
  if (to == nullptr || *to != "ended" || !call_active_) return;
  call_active_ = false;
  const std::string* reason = StringField(detail, "reason");
  metrics_.CallEnded(reason == nullptr ? CallOutcome::kOther : CallOutcomeForEndReason(*reason));
}

void MetricsEventSink::OnTurnSpans(const json& detail) {
  TurnSpansEvent spans;
  FromJson(detail, &spans);
  const std::pair<const std::optional<double>&, LatencyStage> stages[] = {
      {spans.endpointing_ms, LatencyStage::kEndpointing},
      {spans.stt_final_ms, LatencyStage::kSttFinal},
      {spans.llm_ttft_ms, LatencyStage::kLlmTtft},
      {spans.tts_ttfb_ms, LatencyStage::kTtsTtfb}};
  for (const auto& [ms, stage] : stages) {
    if (ms.has_value()) metrics_.ObserveStageLatency(stage, Seconds(*ms));
  }
  if (spans.response_ms.has_value()) metrics_.ObserveTurnLatency(Seconds(*spans.response_ms));
}

void MetricsEventSink::OnProviderError(const json& detail) {
  const std::string* stage_text = StringField(detail, "stage");
  ErrorStage stage;
  if (stage_text == nullptr || !ParseErrorStage(*stage_text, &stage)) return;
  // Tool failures are counted from their audit record, which every tool call has: counting a
  // provider_error for the same failure too would count it twice.
  if (stage != ErrorStage::kTool) metrics_.CountError(stage);
}

void MetricsEventSink::OnToolAudit(const json& detail) {
  ToolAuditEvent audit;
  FromJson(detail, &audit);
  ToolAuditDecision decision;
  if (!ParseToolAuditDecision(audit.decision, &decision)) return;
  // A proposal without a usable name is still a proposal: it counts, as an undeclared tool.
  metrics_.CountToolCall(audit.name.empty() ? std::string_view(AgentMetrics::kUndeclaredTool)
                                            : std::string_view(audit.name),
                         decision);
  if (decision == ToolAuditDecision::kFailed) metrics_.CountError(ErrorStage::kTool);
}

void MetricsEventSink::OnPostCallReport(const json& detail) {
  const std::string* result = StringField(detail, "result");
  if (result == nullptr) return;
  if (*result == "written") metrics_.CountPostCallReport(true);
  if (*result == "dropped") metrics_.CountPostCallReport(false);
}

}  // namespace callsim::agent
