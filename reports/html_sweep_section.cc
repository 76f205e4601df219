#include "reports/html_sweep_section.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "harness/run/sweep_plan.h"
#include "reports/html_table.h"
#include "reports/html_text.h"
#include "reports/svg_chart.h"
#include "reports/sweep_report.h"

namespace callsim::reports {
namespace {

using harness::SweepLevelRow;
using harness::SweepRow;

// One level with the run metrics the section shows (NaN where the run has none).
struct LevelFigures {
  SweepLevelRow level;
  double calls = NAN, p50_ms = NAN, p95_ms = NAN, p99_ms = NAN;
  double errors = NAN, dropped = NAN, completion = NAN;
};

double Get(const std::map<std::string, double>& m, const char* name) {
  const auto it = m.find(name);
  return it == m.end() ? NAN : it->second;
}

std::vector<LevelFigures> ReadLevels(const harness::Store& store, int64_t sweep_id) {
  std::vector<LevelFigures> out;
  for (const SweepLevelRow& l : store.LoadSweepLevels(sweep_id)) {
    const std::map<std::string, double> m = store.LoadMetrics(l.run_id);
    out.push_back({l, Get(m, "calls_total"), Get(m, "turn_latency_p50_ms"),
                   Get(m, "turn_latency_p95_ms"), Get(m, "turn_latency_p99_ms"),
                   Get(m, "call_errors_rate"), Get(m, "dropped_calls_rate"),
                   Get(m, "task_completion_rate")});
  }
  return out;
}

std::string ChartsHtml(const SweepRow& sweep, std::vector<LevelFigures> levels) {
  std::sort(levels.begin(), levels.end(), [](const LevelFigures& a, const LevelFigures& b) {
    return a.level.level < b.level.level;
  });
  std::vector<double> x;
  LineSeries p50{"p50", "s0", {}}, p95{"p95", "s1", {}}, p99{"p99", "s2", {}};
  LineSeries completion{"task completion", "s3", {}};
  for (const LevelFigures& l : levels) {
    x.push_back(l.level.level);
    p50.y.push_back(l.p50_ms);
    p95.y.push_back(l.p95_ms);
    p99.y.push_back(l.p99_ms);
    completion.y.push_back(100 * l.completion);
  }
  std::vector<ChartMarker> knee;
  if (sweep.knee) knee.push_back({"knee", *sweep.knee});
  return "<div class=\"charts\">" +
         SvgLineChart(x, {p50, p95, p99}, knee,
                      {"turn latency by " + sweep.parameter, sweep.parameter, "turn latency (ms)"}) +
         SvgLineChart(x, {completion}, knee,
                      {"task completion by " + sweep.parameter, sweep.parameter,
                       "task completion (%)"}) +
         "</div>";
}

std::string LevelsTable(const harness::Store& store, const SweepRow& sweep,
                        const std::vector<LevelFigures>& levels) {
  std::vector<HtmlRow> rows;
  for (const LevelFigures& l : levels) {
    const bool is_knee = sweep.knee && *sweep.knee == l.level.level;
    const std::string slo = l.level.slo_met ? "met" : "missed: " + LevelMissReasons(store, l.level);
    rows.push_back({{HtmlEscape(harness::FormatLevel(l.level.level)) + (is_knee ? " \u2190 knee" : ""),
                     std::to_string(l.level.run_id), FormatFixed(l.calls, 0),
                     FormatFixed(l.p50_ms, 0), FormatFixed(l.p95_ms, 0), FormatFixed(l.p99_ms, 0),
                     Percent(l.errors), Percent(l.dropped), Percent(l.completion),
                     HtmlText(slo, 600)},
                    std::string(l.level.slo_met ? "pass" : "fail") + (is_knee ? " knee" : "")});
  }
  return HtmlTable({"level", "run", "calls", "p50 ms", "p95 ms", "p99 ms", "errors", "dropped",
                    "task completion", "SLO"},
                   rows, "levels", {1, 2, 3, 4, 5, 6, 7, 8});
}

}  // namespace

std::string SweepSectionHtml(const harness::Store& store, int64_t sweep_id,
                             const std::string& label, const std::string& anchor) {
  const std::string open = "<section class=\"sweep\" id=\"" + HtmlEscape(anchor) +
                           "\" data-sweep-id=\"" + std::to_string(sweep_id) + "\">";
  const std::optional<SweepRow> sweep = store.LoadSweep(sweep_id);
  if (!sweep) {
    return open + "<h2>" + HtmlText(label) + "</h2><p>No sweep " + std::to_string(sweep_id) +
           " in this database.</p></section>";
  }
  const std::vector<LevelFigures> levels = ReadLevels(store, sweep_id);
  std::vector<SweepLevelRow> rows;
  for (const LevelFigures& l : levels) rows.push_back(l.level);
  return open + "<h2>Sweep " + std::to_string(sweep_id) + ": " + HtmlText(sweep->name, 200) +
         " <small>" + HtmlText(label) + "</small></h2><dl class=\"facts\"><dt>scenario</dt><dd>" +
         HtmlText(sweep->scenario) + "</dd><dt>parameter</dt><dd>" + HtmlText(sweep->parameter, 200) +
         "</dd><dt>seed</dt><dd>" + std::to_string(sweep->seed) + "</dd><dt>status</dt><dd>" +
         HtmlText(sweep->status, 32) + "</dd></dl><p class=\"knee\">" +
         HtmlText(KneeSentence(*sweep, rows), 600) + "</p>" + ChartsHtml(*sweep, levels) +
         LevelsTable(store, *sweep, levels) + "</section>";
}

}  // namespace callsim::reports
