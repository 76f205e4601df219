#include "reports/summary.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/measure/percentile.h"
#include "reports/threshold_lines.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::NearestRankPercentile;
using harness::RunInfo;
using harness::TurnRow;

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string PercentTwoDecimals(double fraction) {
  return std::isnan(fraction) ? "n/a" : Fixed(100.0 * fraction, 2) + "%";
}

// Quotes a word for a POSIX shell only when it needs it, so the common case stays readable.
std::string ShellWord(const std::string& word) {
  bool plain = !word.empty();
  for (char c : word) {
    constexpr std::string_view kSafe = "_./:=@%+,-";
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || kSafe.find(c) != kSafe.npos);
  }
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string RunLines(const RunInfo& run) {
  std::string out = "run " + std::to_string(run.run_id) + ": " + run.scenario + "\n";
  out += "  seed " + std::to_string(run.seed) + "  mode " + run.mode + "  status " + run.status;
  if (run.exit_code) out += "  exit " + std::to_string(*run.exit_code);
  if (run.status == "running") out += "  (not finished: interrupted or still going)";
  out += "\n";
  if (!run.end_reason.empty()) out += "  ended: " + run.end_reason + "\n";
  if (run.calls_not_started > 0) {
    out += "  calls not started: " + std::to_string(run.calls_not_started) + "\n";
  }
  return out;
}

std::string CallLines(const std::vector<CallRow>& calls) {
  size_t passed = 0, dropped = 0, aborted = 0;
  for (const CallRow& c : calls) {
    if (c.status == "dropped") {
      ++dropped;
    } else if (c.status == "aborted") {
      ++aborted;
    } else if (c.task_completed) {
      ++passed;
    }
  }
  const size_t failed = calls.size() - passed - dropped - aborted;
  std::string out = "calls: " + std::to_string(calls.size()) + " total, " +
                    std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " +
                    std::to_string(dropped) + " dropped";
  if (aborted > 0) out += ", " + std::to_string(aborted) + " aborted";
  out += "\n";
  double rate = calls.empty() ? std::nan("") : static_cast<double>(passed) / calls.size();
  std::string shown = std::isnan(rate) ? "n/a" : Fixed(100.0 * rate, 1) + "%";
  return out + "task completion: " + shown + "\n";
}

std::string LatencyLine(const std::map<std::string, double>& metrics,
                        const std::vector<TurnRow>& turns) {
  std::vector<double> latencies_ms;
  for (const TurnRow& t : turns) {
    if (t.turn_latency_ms) latencies_ms.push_back(*t.turn_latency_ms);
  }
  struct Quantile {
    const char* label;
    const char* metric;
    double q_percent;
  };
  static const Quantile kQuantiles[] = {{"p50", "turn_latency_p50_ms", 50},
                                        {"p95", "turn_latency_p95_ms", 95},
                                        {"p99", "turn_latency_p99_ms", 99},
                                        {"max", "turn_latency_max_ms", 100}};
  std::string out = "turn latency ms:";
  bool from_metrics = false;
  for (const Quantile& k : kQuantiles) {
    auto it = metrics.find(k.metric);
    double v = NearestRankPercentile(latencies_ms, k.q_percent);
    if (it != metrics.end()) {
      v = it->second;
      from_metrics = true;
    }
    out += std::string(" ") + k.label + " " + Fixed(v, 1);
  }
  out += from_metrics ? "  (run metrics)" : "  (" + std::to_string(latencies_ms.size()) + " turns)";
  return out + "\n";
}

std::string WerLine(const std::vector<TurnRow>& turns) {
  int64_t s = 0, d = 0, i = 0, n = 0;
  for (const TurnRow& t : turns) {
    s += t.substitutions;
    d += t.deletions;
    i += t.insertions;
    n += t.ref_words;
  }
  return "WER: " + PercentTwoDecimals(CorpusWer(turns)) + "  (S " + std::to_string(s) + " D " +
         std::to_string(d) + " I " + std::to_string(i) + " N " + std::to_string(n) + ")\n";
}

std::string BargeInLine(const std::vector<TurnRow>& turns) {
  size_t count = 0;
  std::vector<double> stop_ms;
  for (const TurnRow& t : turns) {
    if (!t.barge_in) continue;
    ++count;
    if (t.barge_in_stop_ms) stop_ms.push_back(*t.barge_in_stop_ms);
  }
  std::string out = "barge-in: " + std::to_string(count);
  if (count > 0) {
    out += "  stop latency ms: p50 " + Fixed(NearestRankPercentile(stop_ms, 50), 1) + " max " +
           Fixed(NearestRankPercentile(stop_ms, 100), 1);
  }
  return out + "\n";
}

// Tool calls by decision, and what the post-call stage wrote; nothing when the run had no tools.
std::string ToolLine(const harness::Store& store, int64_t run_id) {
  const std::vector<harness::ToolCallRow> rows = store.LoadToolCalls(run_id);
  if (rows.empty()) return "";
  std::map<std::string, size_t> by_decision;
  for (const harness::ToolCallRow& t : rows) ++by_decision[t.decision];
  std::string out = "tool calls: " + std::to_string(rows.size()) + " proposed";
  for (const auto& [decision, n] : by_decision) out += ", " + std::to_string(n) + " " + decision;
  const std::map<std::string, double> metrics = store.LoadMetrics(run_id);
  if (auto it = metrics.find("unsafe_tool_executions_count"); it != metrics.end()) {
    out += "; unsafe executions " + Fixed(it->second, 0);
  }
  return out + "  (tool_calls table)\n";
}

std::string ThresholdLines(const harness::Store& store, int64_t run_id) {
  const std::vector<harness::ThresholdRow> rows = store.LoadThresholds(run_id);
  if (rows.empty()) return "";
  size_t passed = 0;
  for (const harness::ThresholdRow& t : rows) passed += t.passed ? 1 : 0;
  std::string out = "thresholds: " + std::to_string(passed) + " of " + std::to_string(rows.size()) +
                    " passed\n";
  for (const harness::ThresholdRow& t : rows) out += "  " + ThresholdLine(t) + "\n";
  return out;
}

std::string FailureLines(const harness::Store& store, const RunInfo& run, size_t limit) {
  if (limit == 0) return "";
  // One more than shown tells whether there are more.
  auto failed = store.LoadFailedExpectations(run.run_id, limit + 1);
  if (failed.empty()) return "";
  std::string out = "failed expectations (seed " + std::to_string(run.seed) + "):\n";
  for (size_t k = 0; k < failed.size() && k < limit; ++k) {
    const harness::ExpectationRow& e = failed[k];
    out += "  call " + std::to_string(e.call_id) + " turn " + std::to_string(e.turn_index) + " " +
           e.kind + ": " + e.detail + "\n";
  }
  if (failed.size() > limit) out += "  ... more in the expectations table\n";
  return out;
}

// Over the wire: the target, and how closely the harness kept its media clock.
std::string WireLines(const RunInfo& run, const std::map<std::string, double>& metrics) {
  if (run.mode != "realtime") return "";
  const nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  std::string out;
  if (config.is_object() && config.contains("wire") && config["wire"].is_object()) {
    const nlohmann::json& wire = config["wire"];
    out += "target: " + wire.value("target", std::string("?")) + " (" +
           wire.value("protocol", std::string("?")) + ")" +
           (wire.value("self", false) ? "" : "; the agent's events are not seen: no WER") +
           "\n";
  }
  const auto p99 = metrics.find("harness_lateness_p99_ms");
  if (p99 != metrics.end()) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "harness lateness ms: p50 %.2f p99 %.2f max %.2f (bound %.1f)%s\n",
                  metrics.count("harness_lateness_p50_ms") ? metrics.at("harness_lateness_p50_ms") : 0.0,
                  p99->second,
                  metrics.count("harness_lateness_max_ms") ? metrics.at("harness_lateness_max_ms") : 0.0,
                  metrics.count("harness_lateness_bound_ms") ? metrics.at("harness_lateness_bound_ms") : 0.0,
                  metrics.count("saturated") && metrics.at("saturated") > 0
                      ? "  SATURATED: the load generator, not the agent, limited these results"
                      : "");
    out += buf;
  }
  return out;
}

}  // namespace

std::string ReplayCommand(const RunInfo& run) {
  std::string out = "callsim run " + ShellWord(run.scenario) + " --seed " +
                    std::to_string(run.seed);
  // Overrides are part of what ran; without them the replay would be a different run.
  nlohmann::json config = nlohmann::json::parse(run.config_json, nullptr, false);
  if (config.is_object() && config.contains("wire") && config["wire"].is_object()) {
    // The agent served in the process is "self" again (its port was ephemeral); a foreign
    // target's credentials are not stored, so its --token-url or --header must be added back.
    const nlohmann::json& wire = config["wire"];
    out += " --target " + (wire.value("self", false) ? std::string("self")
                                                     : ShellWord(wire.value("target", std::string())));
    // Over SIP: the protocol (for self) and SRTP are part of what ran; digest credentials are
    // not stored, so --sip-auth-env must be added back.
    if (wire.value("protocol", std::string()) == "sip") {
      if (wire.value("self", false)) out += " --protocol sip";
      if (wire.value("srtp", false)) out += " --srtp";
    }
  }
  if (config.is_object() && config.contains("shard") && config["shard"].is_string()) {
    out += " --shard " + ShellWord(config["shard"].get<std::string>());  // which slice of the callers
  }
  if (config.is_object() && config.contains("set") && config["set"].is_array()) {
    for (const nlohmann::json& item : config["set"]) {
      if (item.is_string()) out += " --set " + ShellWord(item.get<std::string>());
    }
  }
  return out;
}

std::string RenderSummary(const harness::Store& store, int64_t run_id,
                          const SummaryOptions& options) {
  std::optional<RunInfo> run = store.LoadRun(run_id);
  if (!run) return "no run " + std::to_string(run_id) + " in " + store.path() + "\n";
  const std::vector<CallRow> calls = store.LoadCalls(run_id);
  const std::vector<TurnRow> turns = store.LoadTurns(run_id);
  const std::map<std::string, double> metrics = store.LoadMetrics(run_id);

  std::string out = RunLines(*run);
  out += CallLines(calls);
  out += WireLines(*run, metrics);
  out += LatencyLine(metrics, turns);
  out += WerLine(turns);
  out += BargeInLine(turns);
  out += ToolLine(store, run_id);
  out += ThresholdLines(store, run_id);
  out += FailureLines(store, *run, options.max_failed_expectations);
  out += "replay: " + ReplayCommand(*run) + "\n";
  return out;
}

}  // namespace callsim::reports
