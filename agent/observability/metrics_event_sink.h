// Feeds AgentMetrics from the agent's structured events: wrap the sink a call's agent already
// gets, and every event still reaches it unchanged, in order. One MetricsEventSink per call (it
// remembers whether its call is active); one AgentMetrics for all of them. Only events with
// source "agent" count; details are untrusted JSON, and a field that is missing or of the wrong
// type is simply not recorded.
//
// Events read:
//   call_start                     active_calls +1
//   state {to: "ended", reason}    active_calls -1, calls_total{outcome = CallOutcomeForEndReason}
//   turn_spans {endpointing_ms, stt_final_ms, llm_ttft_ms, tts_ttfb_ms, response_ms}
//                                  stage latencies and turn latency (response_ms); null skipped
//   barge_in                       barge_ins_total
//   false_interruption             false_interruptions_total
//   preemptive_start               preemptive_requests_total
//   preemptive_wasted {tokens}     wasted_llm_requests_total, wasted_llm_tokens_total
//   provider_error {stage}         errors_total{stage} for stt, llm, tts (others ignored)
//   tool_audit {name, decision}    tool_calls_total{tool, outcome}; decision "failed" also
//                                  counts errors_total{stage="tool"}
//   post_call_report {result}      post_call_reports_total{result} ("written" or "dropped")
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/observability/agent_metrics.h"
#include "agent/runtime/events.h"

namespace callsim::agent {

class MetricsEventSink final : public EventSink {
 public:
  // `inner` and `metrics` must outlive this sink.
  MetricsEventSink(EventSink& inner, AgentMetrics& metrics);
  // A call that started and never ended (the harness dropped it) is ended here as "other", so
  // active_calls returns to zero and calls_total still adds up to the calls started.
  ~MetricsEventSink() override;
  MetricsEventSink(const MetricsEventSink&) = delete;
  MetricsEventSink& operator=(const MetricsEventSink&) = delete;

  // Forwards to `inner`, then records. A second call_start while the call is active, and an end
  // without a start, change nothing: the gauge only counts calls that started.
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override;

  bool call_active() const { return call_active_; }

 private:
  void Record(std::string_view kind, const nlohmann::json& detail);
  void OnState(const nlohmann::json& detail);
  void OnTurnSpans(const nlohmann::json& detail);
  void OnProviderError(const nlohmann::json& detail);
  void OnToolAudit(const nlohmann::json& detail);
  void OnPostCallReport(const nlohmann::json& detail);

  EventSink& inner_;
  AgentMetrics& metrics_;
  bool call_active_ = false;
};

}  // namespace callsim::agent
