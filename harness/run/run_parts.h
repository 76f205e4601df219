// A run is made of parts: one (a run on one worker), a worker's slice of it (`--workers`), or a
// shard's database (`callsim merge`). Each part stores its calls' rows; what it measured comes
// back as a RunPart, and FinishParts turns the parts into the run's aggregates, verdict and hash,
// exactly as one part holding every call would have (merge_state.h says what makes that exact).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/observability/agent_metrics.h"
#include "harness/measure/histogram.h"
#include "harness/run/load.h"
#include "harness/run/merge_state.h"
#include "harness/run/run_metrics.h"
#include "harness/scenario/scenario.h"
#include "harness/store/store.h"

namespace callsim::harness {

struct RunPart {
  MergeState state;
  RunMetrics metrics;
  std::vector<uint64_t> call_hashes;  // by call id over the whole run; 0 for ids not in the part
  // The calls whose report the part stored: (end time in microseconds, call id).
  std::vector<std::pair<int64_t, int64_t>> reported_calls;
  // The part's own post-call admission (a part that is the whole run: !state.all_reports).
  int64_t reports_written = 0;
  int64_t reports_dropped = 0;
  // Real time: the harness lateness and its bound (no value in virtual time).
  std::optional<Histogram> lateness;
  double lateness_bound_ms = 0;
  bool aborted = false;
};

// Which of the parts' stored reports the run keeps: the run's post-call queue (ReportAdmission)
// takes every reported call in (end time, call id) order; a run that is itself a slice (a shard)
// keeps them all. One part that admitted its own keeps what it kept.
struct ReportVerdict {
  std::vector<std::vector<int64_t>> kept;     // per part, by call id
  std::vector<std::vector<int64_t>> dropped;  // per part, by call id
  int64_t written = 0;
  int64_t dropped_count = 0;
};
ReportVerdict AdmitPartReports(const std::vector<RunPart>& parts, const Shard& output);
// Counts the verdict's written and dropped reports into the agent's metrics (null: none). A run
// counts them once its reports are decided, however many parts it had.
void CountReports(agent::AgentMetrics* metrics, const ReportVerdict& reports);

// Whether any part was aborted.
bool AnyAborted(const std::vector<RunPart>& parts);

struct FinishedRun {
  std::string status;  // completed or aborted
  std::string event_log_hash;
  int64_t calls = 0;
  int64_t calls_passed = 0;
  int64_t calls_not_started = 0;
  std::vector<ThresholdResult> thresholds;
  bool saturated = false;
  double lateness_p99_ms = 0;
  int exit_code = 0;
};

// Writes run `run_id`'s aggregates from `parts` (metrics, histograms, thresholds evaluated on
// them, provider capacity, post-call counts from `reports`, summed metrics, lateness), its merge
// state, and finishes it (status, hash, exit code). The calls' rows are already stored. Throws
// StoreError.
FinishedRun FinishParts(Store& out, int64_t run_id, const std::vector<RunPart>& parts,
                        const Shard& output, const std::vector<Threshold>& thresholds,
                        const ReportVerdict& reports);

// The run's exit code: 1 aborted, else 0 when it passed (its thresholds if it has any, else
// every call) and was not saturated, else 99.
int RunExitCode(bool aborted, bool no_thresholds, int64_t calls_passed, int64_t calls,
                const std::vector<ThresholdResult>& gates, bool saturated);

// The harness lateness of a real-time run, stored like a trend metric (harness_lateness_p50_ms,
// _p99_ms, _max_ms, _avg_ms, _count, the histogram harness_lateness_us) with its bound and whether
// the run was saturated: p99 over the bound, so the load generator limited the results.
struct LatenessVerdict {
  double p99_ms = 0;
  bool saturated = false;
  std::string reason;  // the run's end_reason when saturated
};
LatenessVerdict StoreLateness(Store& store, int64_t run_id, const Histogram& lateness,
                              double bound_ms);

}  // namespace callsim::harness
