#include "reports/compare.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "agent/runtime/rng.h"
#include "harness/measure/compared_metrics.h"
#include "reports/bootstrap.h"
#include "reports/compare_samples.h"
#include "reports/proportion_test.h"

namespace callsim::reports {
namespace {

using harness::ComparedFamilies;
using harness::kComparedPercentiles;
using FamilyInfo = harness::ComparedFamily;

std::string StatName(double q) { return "p" + std::to_string(static_cast<int>(q)); }

bool IsGated(const CompareOptions& o, const std::string& family, const std::string& metric) {
  if (o.gate.empty()) return true;
  return std::find(o.gate.begin(), o.gate.end(), family) != o.gate.end() ||
         std::find(o.gate.begin(), o.gate.end(), metric) != o.gate.end();
}

double RelativePct(double change, double base) {
  return base == 0 ? std::numeric_limits<double>::quiet_NaN() : change / base * 100;
}

Verdict Decide(bool beyond_up, bool beyond_down, bool higher_is_worse) {
  if (beyond_up) return higher_is_worse ? Verdict::kRegressed : Verdict::kImproved;
  if (beyond_down) return higher_is_worse ? Verdict::kImproved : Verdict::kRegressed;
  return Verdict::kNoChange;
}

std::string TooFew(size_t base_n, size_t new_n, size_t need) {
  return std::to_string(base_n) + " samples in base and " + std::to_string(new_n) +
         " in new, need " + std::to_string(need);
}

void AddLatencyRows(const FamilyInfo& f, const std::vector<double>& base,
                    const std::vector<double>& now, const CompareOptions& o,
                    std::vector<CompareRow>* rows) {
  // Each family draws from its own stream, so adding a family never moves another's verdict.
  agent::Rng rng = agent::Rng(o.seed).Fork("compare/" + f.name);
  const std::vector<double> qs(std::begin(kComparedPercentiles), std::end(kComparedPercentiles));
  const std::vector<PercentileChange> changes =
      BootstrapPercentileChange(base, now, qs, o.resamples, o.confidence, rng);
  for (const PercentileChange& c : changes) {
    CompareRow row;
    row.family = f.name;
    row.metric = f.name + "." + StatName(c.percentile);
    row.unit = "ms";
    row.base = c.base;
    row.now = c.now;
    row.change = c.now - c.base;
    row.change_pct = RelativePct(row.change, row.base);
    row.ci_low = c.ci_low;
    row.ci_high = c.ci_high;
    row.tolerance = std::max(o.tolerance_pct / 100 * std::fabs(c.base), o.tolerance_ms);
    row.base_n = base.size();
    row.new_n = now.size();
    row.higher_is_worse = f.higher_is_worse;
    row.gated = IsGated(o, f.name, row.metric);
    if (base.size() < o.min_samples || now.size() < o.min_samples) {
      row.note = TooFew(base.size(), now.size(), o.min_samples);
    } else {
      row.verdict =
          Decide(c.ci_low > row.tolerance, c.ci_high < -row.tolerance, f.higher_is_worse);
    }
    rows->push_back(std::move(row));
  }
}

void AddRateRow(const FamilyInfo& f, const RateCount& base, const RateCount& now,
                const CompareOptions& o, std::vector<CompareRow>* rows) {
  const ProportionChange t = TwoProportionTest(base.x, base.n, now.x, now.n, o.confidence);
  CompareRow row;
  row.family = f.name;
  row.metric = f.name;
  row.unit = "%";
  // WER counts insertions too, so its rate may exceed 100%: shown as is, tested clamped.
  row.base = static_cast<double>(base.x) / static_cast<double>(base.n) * 100;
  row.now = static_cast<double>(now.x) / static_cast<double>(now.n) * 100;
  row.change = row.now - row.base;
  row.change_pct = RelativePct(row.change, row.base);
  row.ci_low = t.ci_low * 100;
  row.ci_high = t.ci_high * 100;
  row.tolerance = o.tolerance_pct / 100 * std::fabs(row.base);
  row.base_n = static_cast<size_t>(base.n);
  row.new_n = static_cast<size_t>(now.n);
  row.higher_is_worse = f.higher_is_worse;
  row.gated = IsGated(o, f.name, row.metric);
  if (row.base_n < o.min_samples || row.new_n < o.min_samples) {
    row.note = TooFew(row.base_n, row.new_n, o.min_samples);
  } else if (t.significant && std::fabs(row.change) > row.tolerance) {
    row.verdict = Decide(row.change > 0, row.change < 0, f.higher_is_worse);
  }
  rows->push_back(std::move(row));
}

std::string Fixed(double v, int decimals, bool sign = false) {
  if (std::isnan(v)) return "n/a";
  char buf[48];
  std::snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", decimals, v);
  return buf;
}

std::string RunLabel(const harness::RunInfo& run, const std::string& label) {
  return (label.empty() ? "run " + std::to_string(run.run_id) : label) + " (" + run.scenario +
         ", seed " + std::to_string(run.seed) + ")";
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kRegressed: return "regressed";
    case Verdict::kImproved: return "improved";
    case Verdict::kNoChange: break;
  }
  return "no significant change";
}

std::string RunRef::ToString() const {
  return run_id ? path + "#" + std::to_string(*run_id) : path;
}

bool ParseRunRef(const std::string& text, RunRef* ref, std::string* error) {
  const size_t hash = text.rfind('#');
  RunRef out;
  out.path = text.substr(0, hash);
  if (out.path.empty()) {
    *error = "\"" + text + "\": expected FILE.db or FILE.db#RUN_ID";
    return false;
  }
  if (hash != std::string::npos) {
    const std::string id = text.substr(hash + 1);
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
    if (id.empty() || ec != std::errc() || ptr != id.data() + id.size() || v < 1) {
      *error = "\"" + text + "\": the run id after # must be a whole number of at least 1";
      return false;
    }
    out.run_id = v;
  }
  *ref = std::move(out);
  return true;
}

bool CheckGateNames(const std::vector<std::string>& gate, std::string* error) {
  for (const std::string& name : gate) {
    if (!harness::IsComparedMetricName(name)) {
      *error = "unknown metric \"" + name + "\"; known: " + harness::ComparedMetricNamesHelp();
      return false;
    }
  }
  return true;
}

bool CompareResult::regressed() const {
  return std::any_of(rows.begin(), rows.end(), [](const CompareRow& r) {
    return r.gated && r.verdict == Verdict::kRegressed;
  });
}

CompareResult CompareRuns(const harness::Store& base_store, int64_t base_run,
                          const harness::Store& new_store, int64_t new_run,
                          const CompareOptions& options) {
  CompareResult result;
  result.options = options;
  if (auto run = base_store.LoadRun(base_run)) result.base = *run;
  if (auto run = new_store.LoadRun(new_run)) result.now = *run;
  const RunSamples base = LoadRunSamples(base_store, base_run);
  const RunSamples now = LoadRunSamples(new_store, new_run);
  for (const FamilyInfo& f : ComparedFamilies()) {
    if (f.latency) {
      const auto b = base.latency.find(f.name), n = now.latency.find(f.name);
      if (b != base.latency.end() && n != now.latency.end()) {
        AddLatencyRows(f, b->second, n->second, options, &result.rows);
      }
    } else {
      const auto b = base.rates.find(f.name), n = now.rates.find(f.name);
      if (b != base.rates.end() && n != now.rates.end()) {
        AddRateRow(f, b->second, n->second, options, &result.rows);
      }
    }
  }
  return result;
}

std::string RenderCompareText(const CompareResult& r) {
  const CompareOptions& o = r.options;
  std::string out = "compare " + RunLabel(r.base, r.base_label) + "\n     -> " +
                    RunLabel(r.now, r.new_label) + "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%g%% confidence, noise tolerance %g%% and %g ms, %d resamples, seed %llu\n",
                o.confidence * 100, o.tolerance_pct, o.tolerance_ms, o.resamples,
                static_cast<unsigned long long>(o.seed));
  out += buf;
  if (r.base.scenario != r.now.scenario) {
    out += "note: the runs ran different scenarios\n";
  }
  std::snprintf(buf, sizeof buf, "%-22s %10s %10s %10s  %-22s %s\n", "metric", "base", "new",
                "change", "CI of change", "verdict");
  out += buf;
  std::vector<std::string> regressed;
  for (const CompareRow& row : r.rows) {
    const int d = row.unit == "ms" ? 1 : 2;
    const std::string ci = "[" + Fixed(row.ci_low, d, true) + ", " + Fixed(row.ci_high, d, true) + "]";
    std::string verdict = VerdictName(row.verdict);
    if (!row.note.empty()) verdict += " (" + row.note + ")";
    if (row.verdict == Verdict::kRegressed && !row.gated) verdict += " (not gated)";
    std::snprintf(buf, sizeof buf, "%-22s %10s %10s %10s  %-22s %s\n",
                  (row.metric + (row.unit == "%" ? " %" : " ms")).c_str(),
                  Fixed(row.base, d).c_str(), Fixed(row.now, d).c_str(),
                  Fixed(row.change, d, true).c_str(), ci.c_str(), verdict.c_str());
    out += buf;
    if (row.gated && row.verdict == Verdict::kRegressed) regressed.push_back(row.metric);
  }
  if (r.rows.empty()) out += "no metric is in both runs\n";
  std::string list;
  for (const std::string& m : regressed) list += (list.empty() ? "" : ", ") + m;
  out += regressed.empty() ? "verdict: no regression\n" : "verdict: regressed (" + list + ")\n";
  return out;
}

}  // namespace callsim::reports
