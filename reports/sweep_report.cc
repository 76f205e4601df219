#include "reports/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/run/sweep_plan.h"
#include "reports/threshold_lines.h"

namespace callsim::reports {
namespace {

using harness::SweepLevelRow;
using harness::SweepRow;
using Row = std::vector<std::string>;

const Row kHeader = {"level",  "calls",   "p50 ms",          "p95 ms", "p99 ms",
                     "errors", "dropped", "task completion", "SLO"};

std::optional<double> Metric(const std::map<std::string, double>& m, const char* name) {
  auto it = m.find(name);
  if (it == m.end() || std::isnan(it->second)) return std::nullopt;
  return it->second;
}

std::string Number(std::optional<double> v, const char* format) {
  if (!v) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

std::string Percent(std::optional<double> fraction) {
  return fraction ? Number(100.0 * *fraction, "%.1f") + "%" : "n/a";
}

Row LevelRow(const harness::Store& store, const SweepLevelRow& level, bool is_knee) {
  const std::map<std::string, double> m = store.LoadMetrics(level.run_id);
  std::string slo = level.slo_met ? "met" : "missed";
  if (Metric(m, "saturated").value_or(0) > 0) {
    slo += " (saturated: harness lateness p99 " +
           Number(Metric(m, "harness_lateness_p99_ms"), "%.1f") + " ms)";
  }
  if (is_knee) slo += "  <- knee";
  return {harness::FormatLevel(level.level),
          Number(Metric(m, "calls_total"), "%.0f"),
          Number(Metric(m, "turn_latency_p50_ms"), "%.0f"),
          Number(Metric(m, "turn_latency_p95_ms"), "%.0f"),
          Number(Metric(m, "turn_latency_p99_ms"), "%.0f"),
          Percent(Metric(m, "call_errors_rate")),
          Percent(Metric(m, "dropped_calls_rate")),
          Percent(Metric(m, "task_completion_rate")),
          slo};
}

// Columns right-aligned (numbers) except the last (the verdict), joined by " | ".
std::string Table(const std::vector<Row>& rows) {
  std::vector<size_t> width(kHeader.size(), 0);
  for (const Row& r : rows) {
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const Row& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c) {
      const bool last = c + 1 == r.size();
      if (c > 0) out += " | ";
      out += last ? r[c] : std::string(width[c] - r[c].size(), ' ') + r[c];
    }
    return out + "\n";
  };
  std::string out = line(rows[0]);
  for (size_t c = 0; c < width.size(); ++c) {
    out += (c > 0 ? "-+-" : "") + std::string(width[c], '-');
  }
  out += "\n";
  for (size_t i = 1; i < rows.size(); ++i) out += line(rows[i]);
  return out;
}

}  // namespace

std::string LevelMissReasons(const harness::Store& store, const SweepLevelRow& level) {
  const nlohmann::json results = nlohmann::json::parse(level.slo_json, nullptr, false);
  std::string reasons;
  if (results.is_array()) {
    for (const nlohmann::json& r : results) {
      if (!r.is_object() || r.value("passed", true)) continue;
      const nlohmann::json observed = r.value("observed", nlohmann::json(nullptr));
      const double value = observed.is_number() ? observed.get<double>() : std::nan("");
      if (!reasons.empty()) reasons += "; ";
      reasons += r.value("metric", std::string()) + " " + r.value("expression", std::string()) +
                 " observed " + FormatObserved(r.value("observed_metric", std::string()), value);
    }
  }
  if (reasons.empty()) {
    // No SLO failed: the run was saturated (real time) or did not complete.
    const std::map<std::string, double> m = store.LoadMetrics(level.run_id);
    const std::optional<double> p99 = Metric(m, "harness_lateness_p99_ms");
    reasons = Metric(m, "saturated").value_or(0) > 0
                  ? "saturated (harness lateness p99 " + Number(p99, "%.1f") +
                        " ms over its bound: the load generator, not the agent, limited it)"
                  : "the level's run did not complete";
  }
  return reasons;
}

std::string KneeSentence(const SweepRow& sweep, const std::vector<SweepLevelRow>& levels) {
  if (levels.empty()) return "knee: none (no level has run)";
  std::string out;
  if (!sweep.knee) {
    out = "knee: none (the lowest level, " + harness::FormatLevel(levels.front().level) +
          ", already missed the SLO)";
  } else if (*sweep.knee == levels.back().level && sweep.status == "completed") {
    out = "knee: " + harness::FormatLevel(*sweep.knee) +
          " or above (every level met the SLO; the limit lies beyond the range tried)";
  } else {
    out = "knee: " + harness::FormatLevel(*sweep.knee) + " (the highest " + sweep.parameter +
          " at which it and every lower level met the SLO)";
  }
  if (sweep.status == "aborted" || sweep.status == "failed" || sweep.status == "running") {
    out += "; the sweep did not finish (" + sweep.status + "), so higher levels are untried";
  }
  return out;
}

std::string RenderSweepTable(const harness::Store& store, int64_t sweep_id) {
  const std::optional<SweepRow> sweep = store.LoadSweep(sweep_id);
  if (!sweep) return "no sweep " + std::to_string(sweep_id) + " in " + store.path() + "\n";
  const std::vector<SweepLevelRow> levels = store.LoadSweepLevels(sweep_id);
  std::string out = "sweep " + std::to_string(sweep->sweep_id) + ": " + sweep->name +
                    "  scenario " + sweep->scenario + "  parameter " + sweep->parameter +
                    "  seed " + std::to_string(sweep->seed) + "\nstatus " + sweep->status + "\n";
  std::vector<Row> rows = {kHeader};
  for (const SweepLevelRow& l : levels) {
    rows.push_back(LevelRow(store, l, sweep->knee && *sweep->knee == l.level));
  }
  out += Table(rows);
  for (const SweepLevelRow& l : levels) {
    if (!l.slo_met) {
      out += "level " + harness::FormatLevel(l.level) + " missed: " + LevelMissReasons(store, l) + "\n";
    }
  }
  return out + KneeSentence(*sweep, levels) + "\n";
}

}  // namespace callsim::reports
