#include "harness/measure/compared_metrics.h"

namespace callsim::harness {

const std::vector<ComparedFamily>& ComparedFamilies() {
  static const std::vector<ComparedFamily> families = {
      {"turn_latency", true, true, "caller stops speaking to agent audio at the ear"},
      {"barge_in_stop", true, true, "caller barges in to agent audio stopping at the ear"},
      {"endpointing", true, true, "agent stage span"},
      {"stt_final", true, true, "agent stage span"},
      {"llm_ttft", true, true, "agent stage span"},
      {"first_sentence", true, true, "agent stage span"},
      {"tts_ttfb", true, true, "agent stage span"},
      {"wer", false, true, "word errors over reference words"},
      {"task_completion", false, false, "calls whose expectations all held, over calls"},
      {"false_barge_ins", false, true, "barge-ins with no caller speech, over agent replies"},
      {"agent_cut_ins", false, true, "answers begun inside a caller utterance, over utterances"},
      {"tool_failed", false, true, "tool calls that failed, over tool calls"},
      {"tool_blocked", false, true, "tool calls the guardrails blocked, over tool calls"},
      {"tool_executed", false, false, "tool calls executed or reused, over tool calls"},
      {"call_errors", false, true, "calls dropped or with a provider error, over calls"},
      {"dropped_calls", false, true, "calls dropped, over calls"},
  };
  return families;
}

bool IsComparedMetricName(const std::string& name) {
  for (const ComparedFamily& f : ComparedFamilies()) {
    if (name == f.name) return true;
    if (!f.latency) continue;
    for (const double q : kComparedPercentiles) {
      if (name == f.name + ".p" + std::to_string(static_cast<int>(q))) return true;
    }
  }
  return false;
}

std::string ComparedMetricNamesHelp() {
  std::string list;
  for (const ComparedFamily& f : ComparedFamilies()) list += (list.empty() ? "" : ", ") + f.name;
  return list + " (a latency family also as FAMILY.p50, .p95 or .p99)";
}

}  // namespace callsim::harness
