#include "reports/compare_samples.h"

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "harness/measure/compared_metrics.h"

namespace callsim::reports {
namespace {

// The latency families the turns table holds; every other one is a "turn_spans" field.
bool FromTurnsTable(const std::string& family) {
  return family == "turn_latency" || family == "barge_in_stop";
}

std::optional<int64_t> Count(const std::map<std::string, double>& metrics,
                             const std::string& name) {
  const auto it = metrics.find(name);
  if (it == metrics.end() || std::isnan(it->second) || it->second < 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(it->second));
}

// x/n from two counters in the metrics table, when both are there and n > 0.
void AddMetricRate(const std::map<std::string, double>& metrics, const std::string& family,
                   const std::string& x_name, const std::string& n_name, RunSamples* out) {
  const std::optional<int64_t> x = Count(metrics, x_name);
  const std::optional<int64_t> n = Count(metrics, n_name);
  if (x && n && *n > 0) out->rates[family] = RateCount{*x, *n};
}

void AddTurnSamples(const std::vector<harness::TurnRow>& turns, RunSamples* out) {
  RateCount wer;
  for (const harness::TurnRow& t : turns) {
    if (t.turn_latency_ms && std::isfinite(*t.turn_latency_ms)) {
      out->latency["turn_latency"].push_back(*t.turn_latency_ms);
    }
    if (t.barge_in_stop_ms && std::isfinite(*t.barge_in_stop_ms)) {
      out->latency["barge_in_stop"].push_back(*t.barge_in_stop_ms);
    }
    wer.x += t.substitutions + t.deletions + t.insertions;
    wer.n += t.ref_words;
  }
  if (wer.n > 0) out->rates["wer"] = wer;
}

// The stage spans of each answered turn; a field that is missing or null was skipped.
void AddSpanSamples(const std::vector<harness::EventRow>& events, RunSamples* out) {
  for (const harness::EventRow& e : events) {
    const nlohmann::json detail = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!detail.is_object()) continue;
    for (const harness::ComparedFamily& f : harness::ComparedFamilies()) {
      if (!f.latency || FromTurnsTable(f.name)) continue;
      const auto it = detail.find(f.name + "_ms");
      if (it != detail.end() && it->is_number() && std::isfinite(it->get<double>())) {
        out->latency[f.name].push_back(it->get<double>());
      }
    }
  }
}

void AddToolRates(const std::vector<harness::ToolCallRow>& calls, RunSamples* out) {
  if (calls.empty()) return;
  const int64_t n = static_cast<int64_t>(calls.size());
  RateCount failed{0, n}, blocked{0, n}, executed{0, n};
  for (const harness::ToolCallRow& c : calls) {
    if (c.decision == "failed") ++failed.x;
    if (c.decision == "blocked") ++blocked.x;
    if (c.decision == "executed" || c.decision == "reused") ++executed.x;
  }
  out->rates["tool_failed"] = failed;
  out->rates["tool_blocked"] = blocked;
  out->rates["tool_executed"] = executed;
}

}  // namespace

RunSamples LoadRunSamples(const harness::Store& store, int64_t run_id) {
  RunSamples out;
  AddTurnSamples(store.LoadTurns(run_id), &out);
  AddSpanSamples(store.LoadEventsOfKind(run_id, "turn_spans"), &out);
  AddToolRates(store.LoadToolCalls(run_id), &out);
  const std::map<std::string, double> metrics = store.LoadMetrics(run_id);
  if (const auto rate = metrics.find("task_completion_rate"); rate != metrics.end()) {
    const std::optional<int64_t> calls = Count(metrics, "calls_total");
    if (calls && *calls > 0 && !std::isnan(rate->second)) {
      out.rates["task_completion"] = RateCount{
          static_cast<int64_t>(std::llround(rate->second * static_cast<double>(*calls))), *calls};
    }
  }
  AddMetricRate(metrics, "false_barge_ins", "false_barge_ins_count", "agent_replies", &out);
  AddMetricRate(metrics, "agent_cut_ins", "agent_cut_ins_count", "user_utterances", &out);
  AddMetricRate(metrics, "call_errors", "call_errors_count", "calls_total", &out);
  AddMetricRate(metrics, "dropped_calls", "dropped_calls_count", "calls_total", &out);
  return out;
}

}  // namespace callsim::reports
