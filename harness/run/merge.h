// Combines the parts of one run (shards from `callsim run --shard I/N`, each in its own database,
// or the workers of `--workers N`) into one run, as `callsim merge OUT.db IN.db...` does.
//
// The merged run holds every part's calls with all their rows, copied bit for bit, and the
// aggregates recomputed from the parts' merge states (merge_state.h): histograms added, counters
// summed, post-call reports admitted through one queue, provider capacity from the logs together;
// then its thresholds (the parts' own, as stored) are evaluated and its event-log hash built from
// the calls' hashes. For calls that share nothing the result equals the run one process gives,
// row for row and bit for bit (except the wall-clock started_at/finished_at). Where calls share a
// resource (provider capacity, a circuit breaker, the active-call bound), the parts each had the
// whole resource; the merge checks whether one shared resource would ever have made a call wait
// or fail, and when it would have, says so (MergePlan::coupling) and records it in the merged
// run's config_json ("merged": {"coupled": "..."}).
//
// Bad input (a part that is not from the same run, a missing or repeated shard, a run that failed
// or has no merge state, an older database) throws MergeError naming the file and what differs,
// before anything is written.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness/run/load.h"
#include "harness/run/merge_state.h"
#include "harness/run/run_metrics.h"
#include "harness/run/run_parts.h"
#include "harness/store/rows.h"
#include "harness/store/store.h"

namespace callsim::harness {

class MergeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One part: a database file and the run in it (its latest).
struct MergePart {
  std::string path;
  int64_t run_id = 0;
  RunInfo info;
  MergeState state;
};

// The checked parts, ready to write.
struct MergePlan {
  std::vector<MergePart> parts;  // ordered by shard index
  Shard output;                   // the slice the merged run holds (whole for `callsim merge`)
  std::string coupling;           // "" when the merged run is what one process would have run
};

// Reads and checks the parts (each database's latest run) for a merged run holding `output`.
// Throws MergeError (bad input) or StoreError.
MergePlan PlanMerge(const std::vector<std::string>& paths, const Shard& output);

struct MergeResult : FinishedRun {
  int64_t run_id = 0;
  std::string coupling;
};

// Writes the merged run into `out` (a new run). Throws MergeError or StoreError.
MergeResult WriteMerge(const MergePlan& plan, Store& out);

}  // namespace callsim::harness
