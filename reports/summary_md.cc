#include "reports/summary_md.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include <sys/stat.h>

#include "reports/summary.h"
#include "reports/threshold_lines.h"

namespace callsim::reports {
namespace {

constexpr size_t kMaxExpectationsPerCall = 5;
constexpr size_t kMaxCellBytes = 300;

// Text for one table cell: no line breaks, pipes escaped, HTML's specials as entities, bounded.
std::string Cell(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < kMaxCellBytes; ++i) {
    const char c = text[i];
    switch (c) {
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\n': case '\r': case '\t': out += ' '; break;
      default: out += c;
    }
  }
  return text.size() > kMaxCellBytes ? out + "…" : out;
}

// A fenced code block whose fence is longer than any run of backticks inside it.
std::string Fenced(const std::string& text) {
  size_t longest = 0, run = 0;
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + "\n" + text + (text.empty() || text.back() == '\n' ? "" : "\n") + fence + "\n";
}

std::string Fixed(double v, int decimals, bool sign = false) {
  if (std::isnan(v)) return "n/a";
  char buf[48];
  std::snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", decimals, v);
  return buf;
}

std::string ThresholdTable(const std::vector<harness::ThresholdRow>& rows) {
  if (rows.empty()) return "";
  std::string out = "\n| | metric | threshold | observed |\n|---|---|---|---:|\n";
  for (const harness::ThresholdRow& t : rows) {
    out += std::string("| ") + (t.passed ? "✅" : "❌") + " | " + Cell(t.metric) + " | `" +
           Cell(t.expression) + "` | " + FormatObserved(t.observed_metric, t.observed) + " |\n";
  }
  return out;
}

std::string FailedCalls(const harness::Store& store, const harness::RunInfo& run) {
  std::map<int64_t, std::vector<harness::ExpectationRow>> by_call;
  for (harness::ExpectationRow& e : store.LoadFailedExpectations(run.run_id, 2000)) {
    by_call[e.call_id].push_back(std::move(e));
  }
  std::vector<harness::CallRow> failed;
  for (harness::CallRow& c : store.LoadCalls(run.run_id)) {
    if (!c.task_completed) failed.push_back(std::move(c));
  }
  if (failed.empty()) return "";
  std::string out = "\n**Failed calls** (" + std::to_string(failed.size()) + ")\n\n" +
                    "| call | scenario | outcome | what failed |\n|---:|---|---|---|\n";
  for (size_t i = 0; i < failed.size() && i < kMaxSummaryFailedCalls; ++i) {
    const harness::CallRow& c = failed[i];
    std::string what;
    const std::vector<harness::ExpectationRow>& exps = by_call[c.call_id];
    for (size_t k = 0; k < exps.size() && k < kMaxExpectationsPerCall; ++k) {
      what += (k ? "<br>" : "") + Cell("turn " + std::to_string(exps[k].turn_index) + " " +
                                       exps[k].kind + ": " + exps[k].detail);
    }
    if (exps.size() > kMaxExpectationsPerCall) what += "<br>…";
    if (what.empty()) what = Cell(c.failure_reason.empty() ? c.status : c.failure_reason);
    // A call that ran to its end is "completed" in the calls table even when it failed a check.
    const std::string outcome = c.status == "completed" ? "expectations failed" : c.status;
    out += "| " + std::to_string(c.call_id) + " | " + Cell(c.scenario) + " | " + Cell(outcome) +
           " | " + what + " |\n";
  }
  if (failed.size() > kMaxSummaryFailedCalls) {
    out += "\n" + std::to_string(failed.size() - kMaxSummaryFailedCalls) +
           " more failed calls are in the calls table.\n";
  }
  return out + "\nEvery call replays exactly with:\n\n" + Fenced(ReplayCommand(run));
}

const char* Arrow(const CompareRow& row) {
  if (row.change == 0 || std::isnan(row.change)) return "→";
  return row.change > 0 ? "↑" : "↓";
}

const char* VerdictMark(const CompareRow& row) {
  switch (row.verdict) {
    case Verdict::kRegressed: return row.gated ? "🔴 regressed" : "🟠 regressed (not gated)";
    case Verdict::kImproved: return "🟢 improved";
    case Verdict::kNoChange: break;
  }
  return "⚪ no significant change";
}

std::string Label(const harness::RunInfo& run, const std::string& label) {
  return label.empty() ? "run " + std::to_string(run.run_id) : label;
}

}  // namespace

std::string RunSummaryMarkdown(const harness::Store& store, int64_t run_id) {
  const std::optional<harness::RunInfo> run = store.LoadRun(run_id);
  if (!run) return "callsim: run " + std::to_string(run_id) + " is not in " + store.path() + "\n\n";
  const bool ok = run->exit_code.value_or(1) == 0;
  std::string out = std::string("### ") + (ok ? "✅" : "❌") + " callsim run " +
                    std::to_string(run_id) + ": " + Cell(run->scenario) + "\n\n";
  out += Fenced(RenderSummary(store, run_id));
  out += ThresholdTable(store.LoadThresholds(run_id));
  out += FailedCalls(store, *run);
  return out + "\n";
}

std::string SweepSummaryMarkdown(const harness::Store& store, int64_t sweep_id) {
  const std::optional<harness::SweepRow> sweep = store.LoadSweep(sweep_id);
  if (!sweep) return "callsim: sweep " + std::to_string(sweep_id) + " is not in the store\n\n";
  std::string out = "### callsim sweep " + std::to_string(sweep_id) + ": " + Cell(sweep->name) +
                    "\n\n" + Cell(sweep->scenario) + ", " + Cell(sweep->parameter) + ", seed " +
                    std::to_string(sweep->seed) + ", knee **" +
                    (sweep->knee ? Fixed(*sweep->knee, 0) : std::string("none")) + "**\n\n" +
                    "| level | run | turn p50 ms | turn p95 ms | turn p99 ms | task completion | SLO |\n"
                    "|---:|---:|---:|---:|---:|---:|---|\n";
  for (const harness::SweepLevelRow& l : store.LoadSweepLevels(sweep_id)) {
    const std::map<std::string, double> m = store.LoadMetrics(l.run_id);
    auto get = [&](const char* name) {
      const auto it = m.find(name);
      return it == m.end() ? std::nan("") : it->second;
    };
    const bool knee = sweep->knee && *sweep->knee == l.level;
    out += "| " + Fixed(l.level, 0) + (knee ? " ← knee" : "") + " | " + std::to_string(l.run_id) +
           " | " + Fixed(get("turn_latency_p50_ms"), 1) + " | " +
           Fixed(get("turn_latency_p95_ms"), 1) + " | " + Fixed(get("turn_latency_p99_ms"), 1) +
           " | " + Fixed(get("task_completion_rate") * 100, 1) + "% | " +
           (l.slo_met ? "✅ met" : "❌ missed") + " |\n";
  }
  return out + "\n";
}

std::string CompareSummaryMarkdown(const CompareResult& r) {
  const bool regressed = r.regressed();
  const CompareOptions& o = r.options;
  char opts[200];
  std::snprintf(opts, sizeof opts,
                "%g%% confidence, noise tolerance %g%% and %g ms, %d resamples, seed %llu",
                o.confidence * 100, o.tolerance_pct, o.tolerance_ms, o.resamples,
                static_cast<unsigned long long>(o.seed));
  std::string out = std::string("### ") + (regressed ? "🔴" : "✅") + " callsim compare: " +
                    (regressed ? "regressed" : "no regression") + "\n\nbase: " +
                    Cell(Label(r.base, r.base_label)) + " " + Cell(r.base.scenario) + " seed " +
                    std::to_string(r.base.seed) + " · new: " + Cell(Label(r.now, r.new_label)) +
                    " " + Cell(r.now.scenario) + " seed " + std::to_string(r.now.seed) + " · " +
                    opts + "\n\n| metric | base | new | change | interval | verdict |\n"
                           "|---|---:|---:|---:|---|---|\n";
  for (const CompareRow& row : r.rows) {
    const int d = row.unit == "ms" ? 1 : 2;
    const std::string unit = row.unit == "ms" ? " ms" : " %";
    out += "| " + row.metric + " | " + Fixed(row.base, d) + unit + " | " + Fixed(row.now, d) +
           unit + " | " + Arrow(row) + " " + Fixed(row.change, d, true) + " | [" +
           Fixed(row.ci_low, d, true) + ", " + Fixed(row.ci_high, d, true) + "] | " +
           VerdictMark(row) + (row.note.empty() ? "" : " (" + Cell(row.note) + ")") + " |\n";
  }
  if (r.rows.empty()) out += "| no metric is in both runs | | | | | |\n";
  return out + "\n";
}

bool AppendSummaryMarkdown(const std::string& path, const std::string& markdown,
                           std::string* error) {
  struct stat st {};
  const size_t existing =
      ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0;
  std::string text = markdown;
  const std::string note = "\n_(summary cut: GitHub accepts at most 1 MiB per step)_\n";
  if (existing + text.size() > kMaxSummaryBytes) {
    const size_t room = kMaxSummaryBytes > existing + note.size()
                            ? kMaxSummaryBytes - existing - note.size() : 0;
    const size_t cut = room == 0 ? 0 : text.rfind('\n', room);
    text = (cut == std::string::npos ? std::string() : text.substr(0, cut + (cut ? 1 : 0)));
    if (existing + text.size() + note.size() <= kMaxSummaryBytes) text += note;
  }
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace callsim::reports
