// Comparing two runs, as a CI gate does: is the new build worse than the last good one, beyond
// noise? Every metric both runs have gets base, new, change and a verdict.
//
// Latency (turn_latency, barge_in_stop and the agent's stage spans endpointing, stt_final,
// llm_ttft, first_sentence, tts_ttfb; p50, p95 and p99 of each) is judged on the stored per-turn
// samples (the turns table; the "turn_spans" events), never on the two percentiles alone: a
// percentile bootstrap of the change in each percentile (both runs resampled with replacement,
// nearest-rank percentiles, `resamples` times, from a generator seeded with `seed`, so a verdict
// replays exactly) gives a confidence interval of the change, and the metric regressed only when
// the whole interval lies above the noise tolerance (improved: below minus it). The tolerance is
// the larger of tolerance_pct of the base value and tolerance_ms, so a change must beat both to
// count, as criterion.rs's noise threshold and benchstat's significance do together.
//
// Rates (WER over reference words, task completion over calls, false barge-ins over agent
// replies, cut-ins over caller utterances, call errors and drops over calls, tool outcomes over
// tool calls) use a two-proportion z-test at the same confidence: a change is a verdict only when
// the test rejects "same rate" and the change exceeds tolerance_pct of the base rate.
//
// A metric with fewer than min_samples samples on either side, or no data, is "no significant
// change" with a note saying why; it never fails the gate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::reports {

enum class Verdict { kNoChange, kRegressed, kImproved };

// "regressed", "improved", "no significant change".
const char* VerdictName(Verdict v);

struct CompareOptions {
  double tolerance_pct = 5;   // relative noise tolerance, percent of the base value
  double tolerance_ms = 20;   // absolute noise tolerance for latency, milliseconds
  double confidence = 0.95;   // of the bootstrap interval and of the two-proportion test
  int resamples = 2000;       // bootstrap resamples per percentile
  uint64_t seed = 1;          // the bootstrap's generator
  size_t min_samples = 10;    // fewer on either side: no verdict
  // Families (or family.stat names) that can fail the gate; empty: all of them.
  std::vector<std::string> gate;
};

struct CompareRow {
  std::string metric;  // "turn_latency.p95", "llm_ttft.p50", "wer", "task_completion"
  std::string family;  // "turn_latency", "wer": what --gate names
  std::string unit;    // "ms" or "%"
  double base = 0;     // in `unit` (a rate as a percentage)
  double now = 0;
  double change = 0;      // now - base, in `unit`
  double change_pct = 0;  // change relative to base, percent; NaN when base is 0
  // The confidence interval of `change` (latency: bootstrap; rates: normal approximation).
  double ci_low = 0, ci_high = 0;
  double tolerance = 0;   // what the interval had to clear, in `unit`
  size_t base_n = 0, new_n = 0;  // samples (turns, calls, words, replies...)
  bool higher_is_worse = true;
  Verdict verdict = Verdict::kNoChange;
  bool gated = true;      // whether a regression here fails the gate
  std::string note;       // why there is no verdict ("3 samples in base, need 10"); empty otherwise
};

// One side of a comparison: a database and one of its runs.
struct RunRef {
  std::string path;               // the database file
  std::optional<int64_t> run_id;  // nullopt: its last run
  std::string ToString() const;   // "base.db#3"
};

// "FILE.db" or "FILE.db#RUN_ID"; false (with *error) for an empty path or a run id that is not
// a positive whole number.
bool ParseRunRef(const std::string& text, RunRef* ref, std::string* error);

struct CompareResult {
  harness::RunInfo base, now;
  // Where each run came from, as people named it ("base.db#3"); empty: "run N".
  std::string base_label, new_label;
  CompareOptions options;
  std::vector<CompareRow> rows;  // families in a fixed order, then p50, p95, p99
  bool regressed() const;        // a gated row regressed
};

// Compares two runs (possibly from two stores). Throws harness::StoreError if a store cannot be
// read. `options.gate` names are checked by CheckGateNames first.
CompareResult CompareRuns(const harness::Store& base_store, int64_t base_run,
                          const harness::Store& new_store, int64_t new_run,
                          const CompareOptions& options);

// False (with *error naming it and listing the known ones) when a gate name is not a family or
// FAMILY.p50/.p95/.p99 of a latency family (harness/measure/compared_metrics.h).
bool CheckGateNames(const std::vector<std::string>& gate, std::string* error);

// The terminal table:
//   compare base.db#1 (seed 1) -> new.db#2 (seed 1): 95% confidence, noise 5% / 20 ms
//   metric              base      new    change   95% CI             verdict
//   turn_latency.p95  1716.7   1868.2   +151.5    [+120.3, +181.0]   regressed
// ending with "verdict: regressed (turn_latency.p95, ...)" or "verdict: no regression".
std::string RenderCompareText(const CompareResult& result);

}  // namespace callsim::reports
