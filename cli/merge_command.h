// `callsim merge OUT.db IN.db...`: combines the shards of one run (`callsim run --shard I/N`, each
// in its own database; each input's latest run) into one new run in OUT.db, whose rows and
// aggregates are those of the run one process would have stored (harness/run/merge.h), and
// evaluates the run's thresholds on it. Prints the merged run's summary.
#pragma once

#include <string>
#include <vector>

namespace callsim::cli {

struct MergeFlags {
  std::string out;                  // the database the merged run is appended to
  std::vector<std::string> inputs;  // the shards' databases
};

// Exit 0 when the merged run passed (its thresholds, else every call), 99 when it failed, 1 when
// a shard was aborted; 2 after a one-line error ("callsim: merge: ...") for inputs that are not
// the complete shards of one run (different scenario, seed or --set values, a shard missing or
// given twice, a run that failed or is still running), or OUT among the inputs; nothing is
// written then. Throws harness::StoreError if a database cannot be read or written.
int Merge(const MergeFlags& flags);

}  // namespace callsim::cli
