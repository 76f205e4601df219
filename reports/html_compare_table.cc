#include "reports/html_compare_table.h"

#include <cmath>

#include "reports/html_table.h"
#include "reports/html_text.h"

namespace callsim::reports {
namespace {

const char* VerdictClass(Verdict v) {
  switch (v) {
    case Verdict::kRegressed: return "regressed";
    case Verdict::kImproved: return "improved";
    case Verdict::kNoChange: return "no-change";
  }
  return "no-change";
}

// Two decimals for a rate in percent, one for milliseconds.
std::string Value(double v, const std::string& unit) {
  return FormatFixed(v, unit == "%" ? 2 : 1);
}

std::string Signed(double v, const std::string& unit) {
  std::string out = v > 0 ? "+" : "";
  return out.append(Value(v, unit));
}

std::string ChangeCell(const CompareRow& r) {
  const char* arrow = r.change > 0 ? "\u25B2" : r.change < 0 ? "\u25BC" : "=";
  std::string out = "<span class=\"arrow\">" + std::string(arrow) + "</span> " +
                    Signed(r.change, r.unit) + " " + HtmlEscape(r.unit);
  if (std::isfinite(r.change_pct)) out += " (" + Signed(r.change_pct, "%") + "%)";
  return out;
}

std::string Interval(const CompareRow& r) {
  std::string out = "[";
  return out.append(Signed(r.ci_low, r.unit)).append(", ").append(Signed(r.ci_high, r.unit)) + "]";
}

HtmlRow Row(const CompareRow& r) {
  std::string verdict = VerdictName(r.verdict);
  if (!r.gated && r.verdict == Verdict::kRegressed) verdict += " (not gated)";
  return {{HtmlText(r.metric, 100), Value(r.base, r.unit) + " " + HtmlEscape(r.unit),
           Value(r.now, r.unit) + " " + HtmlEscape(r.unit), ChangeCell(r),
           Interval(r),
           std::to_string(r.base_n) + " / " + std::to_string(r.new_n), HtmlEscape(verdict),
           HtmlText(r.note, 200)},
          VerdictClass(r.verdict)};
}

// "base.db#3 (scenario.yaml, seed 1)"; "run 3 (...)" without a label.
std::string RunName(const harness::RunInfo& run, const std::string& label) {
  return (label.empty() ? "run " + std::to_string(run.run_id) : label) + " (" + run.scenario +
         ", seed " + std::to_string(run.seed) + ")";
}

}  // namespace

std::string CompareSectionHtml(const CompareResult& result, const std::string& anchor) {
  std::vector<HtmlRow> rows;
  std::string regressed;  // the gated rows that regressed (result.regressed() names none else)
  for (const CompareRow& r : result.rows) {
    rows.push_back(Row(r));
    if (r.gated && r.verdict == Verdict::kRegressed) {
      regressed += (regressed.empty() ? "" : ", ") + r.metric;
    }
  }
  const CompareOptions& o = result.options;
  return "<section class=\"compare\" id=\"" + HtmlEscape(anchor) + "\"><h2>Comparison</h2><p>" +
         HtmlText(RunName(result.base, result.base_label)) + " \u2192 " +
         HtmlText(RunName(result.now, result.new_label)) + ": " +
         FormatFixed(100 * o.confidence, 0) + "% confidence, noise " +
         FormatFixed(o.tolerance_pct, 1) + "% / " + FormatFixed(o.tolerance_ms, 1) +
         " ms.</p><p class=\"verdict " + (result.regressed() ? "fail" : "pass") + "\">verdict: " +
         (result.regressed() ? "regressed (" + HtmlText(regressed, 2000) + ")" : "no regression") +
         "</p>" +
         HtmlTable({"metric", "base", "new", "change",
                    FormatFixed(100 * o.confidence, 0) + "% CI of the change", "samples",
                    "verdict", "note"},
                   rows, "compare", {1, 2, 3, 4, 5}) +
         "</section>";
}

}  // namespace callsim::reports
