#include "agent/observability/metrics_event_sink.h"

namespace callsim::agent {
namespace {

using nlohmann::json;

constexpr double kMsPerSecond = 1000;

// The string at `key`, or nullptr when the detail is not an object or the field is not a string.
const std::string* StringField(const json& detail, const char* key) {
  if (!detail.is_object()) return nullptr;
  const auto it = detail.find(key);
  if (it == detail.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

// The number at `key` in milliseconds, as seconds; false when absent, null or not a number.
bool SecondsField(const json& detail, const char* key, double* seconds) {
  const auto it = detail.find(key);
  if (it == detail.end() || !it->is_number()) return false;
  // Divided, not multiplied by 1e-3: 300 ms is then exactly the double nearest 0.3, and lands
  // in the le="0.3" bucket.
  *seconds = it->get<double>() / kMsPerSecond;
  return true;
}

}  // namespace

MetricsEventSink::MetricsEventSink(EventSink& inner, AgentMetrics& metrics)
    : inner_(inner), metrics_(metrics) {}

MetricsEventSink::~MetricsEventSink() {
  if (call_active_) metrics_.CallEnded(CallOutcome::kOther);
}

void MetricsEventSink::Emit(int64_t t_us, std::string_view source, std::string_view kind,
                            const json& detail) {
  inner_.Emit(t_us, source, kind, detail);
  if (source == "agent") Record(kind, detail);
}

void MetricsEventSink::Record(std::string_view kind, const json& detail) {
  if (kind == "call_start") {
    if (call_active_) return;
    call_active_ = true;
    metrics_.CallStarted();
  } else if (kind == "state") {
    OnState(detail);
  } else if (kind == "turn_spans") {
    OnTurnSpans(detail);
  } else if (kind == "barge_in") {
    metrics_.CountBargeIn();
  } else if (kind == "false_interruption") {
    metrics_.CountFalseInterruption();
  } else if (kind == "provider_error") {
    OnProviderError(detail);
  } else if (kind == "tool_audit") {
    OnToolAudit(detail);
  } else if (kind == "post_call_report") {
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
  if (!detail.is_object()) return;
  static constexpr struct {
    const char* key;
    LatencyStage stage;
  } kStages[] = {{"endpointing_ms", LatencyStage::kEndpointing},
                 {"stt_final_ms", LatencyStage::kSttFinal},
                 {"llm_ttft_ms", LatencyStage::kLlmTtft},
                 {"tts_ttfb_ms", LatencyStage::kTtsTtfb}};
  double seconds = 0;
  for (const auto& entry : kStages) {
    if (SecondsField(detail, entry.key, &seconds)) {
      metrics_.ObserveStageLatency(entry.stage, seconds);
    }
  }
  if (SecondsField(detail, "response_ms", &seconds)) metrics_.ObserveTurnLatency(seconds);
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
  const std::string* decision_text = StringField(detail, "decision");
  ToolAuditDecision decision;
  if (decision_text == nullptr || !ParseToolAuditDecision(*decision_text, &decision)) return;
  // A proposal without a usable name is still a proposal: it counts, as an undeclared tool.
  const std::string* name = StringField(detail, "name");
  metrics_.CountToolCall(name == nullptr ? std::string_view(AgentMetrics::kUndeclaredTool)
                                         : std::string_view(*name),
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
