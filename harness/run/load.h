// The load of a run as pure functions of the scenario's LoadSpec and the run seed: when each call
// arrives, and which scenario of the mix it runs. Nothing here runs a call, so a schedule can be
// checked exactly; the same spec and seed always give the same arrivals and picks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/runtime/rng.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// The arrival times (virtual microseconds since the run started) of calls 0, 1, 2, ..., in
// non-decreasing order:
// - no rate and no phases: all load.callers calls at t = 0;
// - rate_per_s without phases: one constant phase that never ends;
// - phases, in order. The schedule walks the expected arrival count L(t) = integral of the rate:
//   in a constant or ramp phase each arrival comes one unit of L after the previous one (so a
//   constant phase spaces them 1/rate apart, and a ramp places them by integrating its linearly
//   changing rate); in a poisson phase the step is an Exp(1) draw from run_rng.Fork("arrivals"),
//   so gaps are exponential with mean 1/rate. The first call arrives at t = 0; a step that runs
//   past a phase's end continues at the next phase's rate. A phase with duration_s <= 0 never
//   ends (it makes sense only last; a ramp needs a duration and is skipped without one).
// Arrivals stop after load.callers calls, at the end of the last phase (an arrival exactly at a
// phase's end belongs to the next phase), and before load.duration_s when that is > 0 (the run
// ends then, so a call arriving later would never run).
std::vector<int64_t> ArrivalTimesUs(const LoadSpec& load, const agent::Rng& run_rng);

// Which mix entry call `call_id` runs: an index into `mix` picked by weight with one draw from
// run_rng.Fork("call/<id>/mix"), so adding callers never changes earlier calls' picks. Entries
// with weight <= 0 are never picked. Returns -1 (run the main scenario) when `mix` is empty or
// no weight is positive.
int PickMixEntry(const std::vector<MixEntry>& mix, const agent::Rng& run_rng, int call_id);

// A slice of a run's callers, for one of several processes or machines (`callsim run --shard
// I/N`), like k6's execution segments with equal shares: shard I of N (1-based) holds the calls
// whose id i has i % N == I - 1. The shards tile the callers exactly (each call in one shard, their
// sizes within one of each other), need no coordinator, and each carries 1/N of the arrivals at
// every moment of the run (a contiguous slice would give shard 1 all the early ones). A call's
// randomness is forked by its id, so a call runs in its shard as it runs in the whole run, as long
// as calls share nothing: provider capacity models, tool circuit breakers and max_active_calls
// couple them. A shard's event-log hash covers its own calls (the others count as never run).
struct Shard {
  static constexpr int kMaxCount = 10000;
  int index = 1;  // 1..count
  int count = 1;
  bool Holds(int call_id) const { return call_id % count == index - 1; }
  bool whole() const { return count == 1; }
};

// Parses "I/N" (1 <= I <= N <= Shard::kMaxCount). False with *error saying what is wrong.
bool ParseShard(std::string_view text, Shard* out, std::string* error);

}  // namespace callsim::harness
