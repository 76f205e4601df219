#include "harness/run/run_parts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace callsim::harness {
namespace {

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

// The merge state of the run the parts make up (so a merged run merges again).
MergeState CombinedState(const std::vector<RunPart>& parts,
                         const std::vector<const MergeState*>& states, const Shard& output,
                         const RunMetrics& metrics) {
  const MergeState& first = parts.front().state;
  MergeState s;
  s.arrivals = first.arrivals;
  s.shard = output;
  s.counters = metrics.CountersJson();
  for (const char* provider : kProviderNames) {
    const std::vector<const ProviderUse*> uses = ProviderUses(states, provider);
    if (uses.empty()) continue;
    ProviderUse combined = *uses.front();
    for (size_t i = 1; i < uses.size(); ++i) {
      combined.stats += uses[i]->stats;
      MergeSortedInto(combined.log.requests_us, uses[i]->log.requests_us);
      MergeSortedInto(combined.log.grants_us, uses[i]->log.grants_us);
      MergeSortedInto(combined.log.releases_us, uses[i]->log.releases_us);
    }
    s.providers.push_back(std::move(combined));
  }
  s.breaker_threshold = first.breaker_threshold;
  s.max_active_calls = first.max_active_calls;
  s.builds_reports = first.builds_reports;
  s.post_call_capacity = first.post_call_capacity;
  s.post_call_processing_us = first.post_call_processing_us;
  s.all_reports = !output.whole();
  for (const RunPart& part : parts) {
    for (const auto& [name, n] : part.state.breaker_failures) s.breaker_failures[name] += n;
    for (const auto& [name, n] : part.state.summed_metrics) s.summed_metrics[name] += n;
    s.peak_active_calls += part.state.peak_active_calls;
    s.calls_not_started += part.state.calls_not_started;
  }
  return s;
}

}  // namespace

ReportVerdict AdmitPartReports(const std::vector<RunPart>& parts, const Shard& output) {
  ReportVerdict v;
  v.kept.resize(parts.size());
  v.dropped.resize(parts.size());
  if (parts.size() == 1 && !parts.front().state.all_reports) {
    for (const auto& [ended_us, call_id] : parts.front().reported_calls) {
      v.kept.front().push_back(call_id);
    }
    v.written = parts.front().reports_written;
    v.dropped_count = parts.front().reports_dropped;
    return v;
  }
  struct Ended {
    int64_t ended_us;
    int64_t call_id;
    size_t part;
  };
  std::vector<Ended> ended;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (const auto& [ended_us, call_id] : parts[i].reported_calls) {
      ended.push_back(Ended{ended_us, call_id, i});
    }
  }
  std::sort(ended.begin(), ended.end(), [](const Ended& a, const Ended& b) {
    return a.ended_us != b.ended_us ? a.ended_us < b.ended_us : a.call_id < b.call_id;
  });
  const MergeState& state = parts.front().state;
  ReportAdmission admission(state.post_call_capacity, state.post_call_processing_us);
  for (const Ended& e : ended) {
    const bool kept = !output.whole() || admission.Offer(e.ended_us);
    (kept ? v.kept : v.dropped)[e.part].push_back(e.call_id);
    ++(kept ? v.written : v.dropped_count);
  }
  for (std::vector<int64_t>& ids : v.kept) std::sort(ids.begin(), ids.end());
  for (std::vector<int64_t>& ids : v.dropped) std::sort(ids.begin(), ids.end());
  return v;
}

FinishedRun FinishParts(Store& out, int64_t run_id, const std::vector<RunPart>& parts,
                        const Shard& output, const std::vector<Threshold>& thresholds,
                        const ReportVerdict& reports) {
  FinishedRun r;
  RunMetrics metrics;
  std::vector<uint64_t> call_hashes(parts.front().call_hashes.size(), 0);
  for (const RunPart& part : parts) {
    metrics.Merge(part.metrics);
    for (size_t id = 0; id < part.call_hashes.size() && id < call_hashes.size(); ++id) {
      if (part.call_hashes[id] != 0) call_hashes[id] = part.call_hashes[id];
    }
  }
  metrics.Store(out, run_id);
  r.thresholds = metrics.Evaluate(thresholds);
  StoreThresholdResults(out, run_id, r.thresholds);
  std::vector<const MergeState*> states;
  for (const RunPart& part : parts) states.push_back(&part.state);
  for (const char* provider : kProviderNames) {
    const std::vector<const ProviderUse*> uses = ProviderUses(states, provider);
    if (!uses.empty()) out.SetMetrics(run_id, CapacityMetrics(uses));
  }
  out.SetMetric(run_id, "post_call_reports", static_cast<double>(reports.written));
  out.SetMetric(run_id, "post_call_reports_dropped", static_cast<double>(reports.dropped_count));
  const MergeState combined = CombinedState(parts, states, output, metrics);
  std::map<std::string, double> summed;
  for (const auto& [name, n] : combined.summed_metrics) summed[name] = static_cast<double>(n);
  if (!summed.empty()) out.SetMetrics(run_id, summed);
  r.calls_not_started = combined.calls_not_started;
  out.SetMetric(run_id, "calls_not_started", static_cast<double>(r.calls_not_started));
  r.calls = metrics.calls();
  r.calls_passed = metrics.calls_passed();

  std::string end_reason;
  if (parts.front().lateness) {
    Histogram lateness;
    for (const RunPart& part : parts) {
      if (part.lateness) lateness.Merge(*part.lateness);
    }
    const LatenessVerdict verdict =
        StoreLateness(out, run_id, lateness, parts.front().lateness_bound_ms);
    r.saturated = verdict.saturated;
    r.lateness_p99_ms = verdict.p99_ms;
    end_reason = verdict.reason;
  }
  const bool aborted = AnyAborted(parts);
  if (aborted) end_reason = "run aborted (SIGINT or SIGTERM)";
  r.exit_code = RunExitCode(aborted, thresholds.empty(), r.calls_passed, r.calls, r.thresholds,
                            r.saturated);
  r.status = aborted ? "aborted" : "completed";
  r.event_log_hash = RunHash(call_hashes);
  out.SetMergeState(run_id, MergeStateToJson(combined).dump());
  out.FinishRun(run_id, RunOutcome{r.status, r.event_log_hash, r.exit_code, end_reason,
                                   r.calls_not_started});
  return r;
}

bool AnyAborted(const std::vector<RunPart>& parts) {
  return std::any_of(parts.begin(), parts.end(), [](const RunPart& p) { return p.aborted; });
}

void CountReports(agent::AgentMetrics* metrics, const ReportVerdict& reports) {
  if (metrics == nullptr) return;
  for (int64_t i = 0; i < reports.written; ++i) metrics->CountPostCallReport(true);
  for (int64_t i = 0; i < reports.dropped_count; ++i) metrics->CountPostCallReport(false);
}

int RunExitCode(bool aborted, bool no_thresholds, int64_t calls_passed, int64_t calls,
                const std::vector<ThresholdResult>& gates, bool saturated) {
  // Like k6: when the scenario declares thresholds they alone gate the run (failed calls count
  // through task_completion); without thresholds every call must pass. A saturated run measured
  // the load generator, so it never passes.
  const bool passed = (no_thresholds ? calls_passed == calls : AllPassed(gates)) && !saturated;
  return aborted ? 1 : (passed ? 0 : 99);
}

LatenessVerdict StoreLateness(Store& store, int64_t run_id, const Histogram& lateness,
                              double bound_ms) {
  LatenessVerdict v;
  v.p99_ms = UsToMs(lateness.ValueAtPercentile(99));
  v.saturated = lateness.count() > 0 && v.p99_ms > bound_ms;
  std::map<std::string, double> m;
  m["harness_lateness_count"] = static_cast<double>(lateness.count());
  if (lateness.count() > 0) {
    m["harness_lateness_p50_ms"] = UsToMs(lateness.ValueAtPercentile(50));
    m["harness_lateness_p99_ms"] = v.p99_ms;
    m["harness_lateness_max_ms"] = UsToMs(lateness.max());
    m["harness_lateness_avg_ms"] = lateness.Mean() / 1000.0;
    store.SetHistogram(run_id, "harness_lateness_us", lateness.Serialize());
  }
  m["harness_lateness_bound_ms"] = bound_ms;
  m["saturated"] = v.saturated ? 1 : 0;
  store.SetMetrics(run_id, m);
  if (v.saturated) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "saturated: harness lateness p99 %.1f ms > %.1f ms (the load generator, not the "
                  "agent, limited the results)",
                  v.p99_ms, bound_ms);
    v.reason = buf;
  }
  return v;
}

}  // namespace callsim::harness
