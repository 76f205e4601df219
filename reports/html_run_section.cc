#include "reports/html_run_section.h"

#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "reports/html_latency_section.h"
#include "reports/html_table.h"
#include "reports/html_text.h"
#include "reports/stats.h"
#include "reports/summary.h"
#include "reports/threshold_lines.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::RunInfo;
using harness::TurnRow;

struct CallCounts {
  size_t total = 0, passed = 0, failed = 0, dropped = 0, aborted = 0;
};

CallCounts Count(const std::vector<CallRow>& calls) {
  CallCounts n;
  for (const CallRow& c : calls) {
    ++n.total;
    if (c.status == "dropped") {
      ++n.dropped;
    } else if (c.status == "aborted") {
      ++n.aborted;
    } else if (c.task_completed) {
      ++n.passed;
    } else {
      ++n.failed;
    }
  }
  return n;
}

std::string Fact(const std::string& name, const std::string& value_html) {
  return "<dt>" + HtmlEscape(name) + "</dt><dd>" + value_html + "</dd>";
}

// "0 passed", "99 failed", "1 error"; "none (not finished)" while the run reads running.
std::string ExitCodeHtml(std::optional<int> exit_code) {
  if (!exit_code) return "none (not finished)";
  const int code = *exit_code;
  const char* meaning = code == 0 ? "passed" : code == 99 ? "failed" : code == 2 ? "invalid input" : "error";
  return std::to_string(code) + " <span class=\"badge " + (code == 0 ? "pass" : "fail") + "\">" +
         meaning + "</span>";
}

std::string HeaderHtml(const RunInfo& run, const std::vector<CallRow>& calls,
                       const std::vector<TurnRow>& turns) {
  const CallCounts n = Count(calls);
  std::string out = "<dl class=\"facts\">" + Fact("scenario", HtmlText(run.scenario)) +
                    Fact("seed", std::to_string(run.seed)) + Fact("mode", HtmlText(run.mode, 32)) +
                    Fact("status", "<span class=\"badge " + HtmlEscape(run.status) + "\">" +
                                       HtmlText(run.status, 32) + "</span>") +
                    Fact("exit code", ExitCodeHtml(run.exit_code));
  if (!run.end_reason.empty()) out += Fact("ended", HtmlText(run.end_reason));
  if (!run.started_at.empty()) out += Fact("started", HtmlText(run.started_at, 64));
  out += Fact("calls", std::to_string(n.total) + " total, " + std::to_string(n.passed) +
                           " passed, " + std::to_string(n.failed) + " failed, " +
                           std::to_string(n.dropped) + " dropped" +
                           (n.aborted ? ", " + std::to_string(n.aborted) + " aborted" : ""));
  if (run.calls_not_started > 0) {
    out += Fact("calls not started", std::to_string(run.calls_not_started));
  }
  out += Fact("task completion",
              Percent(n.total ? static_cast<double>(n.passed) / static_cast<double>(n.total) : NAN));
  out += Fact("WER", Percent(CorpusWer(turns)));
  return out + "</dl><p class=\"replay\">replay: <code>" + HtmlText(ReplayCommand(run), 4000) +
         "</code></p>";
}

std::string ThresholdsHtml(const std::vector<harness::ThresholdRow>& thresholds) {
  if (thresholds.empty()) return "";
  std::vector<HtmlRow> rows;
  size_t passed = 0;
  for (const harness::ThresholdRow& t : thresholds) {
    passed += t.passed ? 1 : 0;
    rows.push_back({{t.passed ? "\u2713 pass" : "\u2717 fail", HtmlText(t.metric, 100),
                     HtmlText(t.expression, 200),
                     HtmlEscape(FormatObserved(t.observed_metric, t.observed))},
                    t.passed ? "pass" : "fail"});
  }
  return "<h3>Thresholds</h3><p class=\"note\">" + std::to_string(passed) + " of " +
         std::to_string(thresholds.size()) + " passed.</p>" +
         HtmlTable({"verdict", "metric", "threshold", "observed"}, rows, "thresholds", {3});
}

}  // namespace

std::string ScenarioMixHtml(const std::vector<CallRow>& calls, const std::vector<TurnRow>& turns) {
  std::map<std::string, std::vector<CallRow>> calls_by;
  std::map<int64_t, const std::string*> scenario_of;
  for (const CallRow& c : calls) calls_by[c.scenario].push_back(c);
  if (calls_by.size() < 2) return "";
  for (const auto& [scenario, list] : calls_by) {
    for (const CallRow& c : list) scenario_of[c.call_id] = &scenario;
  }
  std::map<std::string, std::vector<TurnRow>> turns_by;
  for (const TurnRow& t : turns) {
    if (auto it = scenario_of.find(t.call_id); it != scenario_of.end()) turns_by[*it->second].push_back(t);
  }
  std::vector<HtmlRow> rows;
  for (const auto& [scenario, list] : calls_by) {
    if (rows.size() == kMaxMixRows) break;
    const CallCounts n = Count(list);
    rows.push_back({{HtmlText(scenario, 200), std::to_string(n.total), std::to_string(n.passed),
                     Percent(static_cast<double>(n.passed) / static_cast<double>(n.total)),
                     Percent(CorpusWer(turns_by[scenario]))}, ""});
  }
  return "<h3>By scenario</h3>" +
         HtmlTable({"scenario", "calls", "passed", "task completion", "WER"}, rows, "mix",
                   {1, 2, 3, 4}) +
         (calls_by.size() > kMaxMixRows
              ? "<p class=\"more\">" + std::to_string(calls_by.size() - kMaxMixRows) +
                    " more scenarios not shown.</p>"
              : "");
}

std::string RunSectionHtml(const harness::Store& store, int64_t run_id, const std::string& label,
                           const std::string& anchor, const FailedCallsOptions& options) {
  const std::string open = "<section class=\"run\" id=\"" + HtmlEscape(anchor) +
                           "\" data-run-id=\"" + std::to_string(run_id) + "\">";
  const std::optional<RunInfo> run = store.LoadRun(run_id);
  if (!run) {
    return open + "<h2>" + HtmlText(label) + "</h2><p>No run " + std::to_string(run_id) +
           " in this database.</p></section>";
  }
  const std::vector<CallRow> calls = store.LoadCalls(run_id);
  const std::vector<TurnRow> turns = store.LoadTurns(run_id);
  return open + "<h2>Run " + std::to_string(run_id) + ": " + HtmlText(run->scenario, 200) +
         " <small>" + HtmlText(label) + "</small></h2>" + HeaderHtml(*run, calls, turns) +
         ThresholdsHtml(store.LoadThresholds(run_id)) + TurnLatencyHtml(turns) +
         WaterfallHtml(store, run_id, turns) + BargeInHtml(turns) + ScenarioMixHtml(calls, turns) +
         FailedCallsHtml(store, run_id, calls, turns, options) + "</section>";
}

}  // namespace callsim::reports
