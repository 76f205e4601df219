// Before a run starts: about how much memory it will need at its peak, from its plan alone, so a
// load that cannot fit is refused at once instead of growing until the OS kills it. The figure is
// the typical peak, not a bound: calls slowed by queueing under load last longer than the pilot.
//
// peak_bytes = kBaseBytes + peak_active_calls * bytes_per_call + callers * kBytesPerCaller
//              + recorded_calls * recording_bytes_per_call, where
// peak_active_calls is the most arrivals that fall within one call length of each other (capped
// by the run's max_active_calls), and the call length is that of a pilot: one call of each
// scenario the run may run, simulated alone before the run (a few milliseconds of CPU each).
// With `--record`, each active call that is taped holds its recording until it ends: the pilot's
// length (at most the tape's bound) of stereo 16-bit samples, plus one storage chunk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/run/runner.h"

namespace callsim::harness {

// Per active call: bench/RESULTS.md measured 109 KB on the 1,000-caller load (L16, full agent,
// reply audio and caller speech made as they play); rounded up to 128 KiB. Opus adds libopus's
// encoder and decoder and, at 48 kHz, libsoxr's resamplers on both ends: 507 KB measured for
// 400 calls of scenarios/opus_48k.yaml at once, rounded up to 768 KiB.
inline constexpr int64_t kActiveCallBytes = int64_t{128} << 10;
inline constexpr int64_t kOpusActiveCallBytes = int64_t{768} << 10;
// Per caller of the whole run, active or not: its arrival time, event-log hash and slot, plus the
// call and turn rows the summary reads back from the store.
inline constexpr int64_t kBytesPerCaller = 2048;
// The process before any call: code, scripts, SQLite's page cache, the run's histograms.
inline constexpr int64_t kBaseBytes = int64_t{64} << 20;

struct MemoryEstimate {
  int64_t callers = 0;             // calls the run will start
  double call_s = 0;               // the longest pilot call, in virtual seconds
  int64_t peak_active_calls = 0;
  int64_t bytes_per_call = 0;      // for the plan's codecs (the largest)
  int64_t recorded_calls = 0;      // active calls holding a tape at the peak (0: not recording)
  int64_t recording_bytes_per_call = 0;
  int64_t peak_bytes = 0;
};

// The estimate for `plan` run with `seed`, at most `max_active_calls` at once, recording the
// calls `record` tapes (each at most `record_max_seconds` long), holding the callers of `shard`
// (all of them by default).
MemoryEstimate EstimateRunMemory(const RunPlan& plan, uint64_t seed, int max_active_calls,
                                 const RecordOptions& record = {}, const Shard& shard = {});

// The most values of `arrivals_us` (non-decreasing) within any window [t - window_us, t], at most
// `cap`: the calls active at once if each lasts window_us.
int64_t PeakOverlap(const std::vector<int64_t>& arrivals_us, int64_t window_us, int64_t cap);

// One line for people: "97.7 GiB (100000 calls active at once x 1.0 MiB, 1000000 callers x 2 KiB,
// 64 MiB base; calls last about 36 s)", with ", 20 recordings x 2.3 MiB" when recording.
std::string DescribeEstimate(const MemoryEstimate& estimate);
std::string FormatBytes(int64_t bytes);  // "1.0 MiB", "20.2 GiB"

}  // namespace callsim::harness
