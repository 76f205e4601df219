// What a run keeps so that its shards (`--shard I/N`) and workers (`--workers N`) combine into the
// one run a single process would have stored (runs.merge_state, schema version 7; merge.h).
//
// A call runs the same wherever it runs: its rows and event hash depend only on the seed and its
// id. What couples calls is what they share, and each part of a run keeps what the combined run
// needs to decide it exactly:
//   - the post-call report queue (capacity, processing time): a shard stores every call's report,
//     and the combined run admits them through one ReportAdmission in (end time, call id) order,
//     exactly as the whole run does;
//   - provider capacity (fakes.<p>.capacity): each part has a limiter of the full size and logs
//     every request, grant and release; together the logs say whether one shared limiter would
//     ever have queued or refused a request (then the parts' rows are not what one process gives:
//     Coupling says so) and give its peak;
//   - circuit breakers: each part counts the failures its breakers saw; fewer than the threshold
//     in total means no shared breaker could have opened;
//   - the active-call bound: the parts' peaks summed within the bound means no call was refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/capacity/capacity_limiter.h"
#include "harness/run/load.h"

namespace callsim::harness {

// The providers a run may limit, in the order their uses are kept.
inline constexpr const char* kProviderNames[] = {"stt", "llm", "tts"};

// A call's or a run's event-log hash as stored: 16 lowercase hex digits.
std::string HashHex(uint64_t hash);
// False unless `text` is exactly 16 hex digits.
bool ParseHashHex(std::string_view text, uint64_t* out);
// A run's event-log hash: FNV-1a 64 over "id:hash;" for every call id 0..n-1 in order, 0 for an
// id the run does not hold (so a shard's hash covers its slice and the merged run's equals the
// whole run's).
std::string RunHash(const std::vector<uint64_t>& call_hashes);

// The post-call report queue as a function of when calls end: reports are built one at a time,
// each taking processing_us, and at most `capacity` wait (the one being built included); a call
// that ends while `capacity` reports wait loses its report. Calls are offered in order of (end
// time, call id); a report whose processing ends at or before a call's end has left the queue.
class ReportAdmission {
 public:
  ReportAdmission(size_t capacity, int64_t processing_us);
  // True when the call's report is accepted (and will be built).
  bool Offer(int64_t ended_us);
  int64_t accepted() const { return accepted_; }
  int64_t dropped() const { return dropped_; }

 private:
  size_t capacity_;
  int64_t processing_us_;
  std::deque<int64_t> done_us_;  // when each accepted, unfinished report is done
  int64_t accepted_ = 0;
  int64_t dropped_ = 0;
};

// One limited provider of a run part: its configuration, its limiter's counts and its log.
struct ProviderUse {
  std::string provider;  // "stt", "llm" or "tts"
  fakes::CapacityConfig config;
  fakes::CapacityStats stats;
  fakes::CapacityLog log;
};

struct MergeState {
  int64_t arrivals = 0;  // the whole run's (not the shard's): the run hash covers [0, arrivals)
  Shard shard;
  nlohmann::json counters = nlohmann::json::object();  // RunMetrics::CountersJson
  std::vector<ProviderUse> providers;                   // the limited ones: stt, llm, tts order
  int breaker_threshold = 0;
  std::map<std::string, int64_t> breaker_failures;  // by tool back end
  int max_active_calls = 0;
  int peak_active_calls = 0;
  // The post-call queue; all_reports: every call that ran has its report stored, and admission is
  // left to the merge (a shard); otherwise the stored reports are the admitted ones.
  bool builds_reports = false;
  size_t post_call_capacity = 0;
  int64_t post_call_processing_us = 0;
  bool all_reports = false;
  // Metrics that combine by addition (recordings_written, ...).
  std::map<std::string, int64_t> summed_metrics;
  int64_t calls_not_started = 0;
};

nlohmann::json MergeStateToJson(const MergeState& state);
// False with *error naming the field when the document is not a merge state of this version.
bool MergeStateFromJson(const nlohmann::json& json, MergeState* out, std::string* error);

// Merges the sorted `more` into the sorted `into`.
void MergeSortedInto(std::vector<int64_t>& into, const std::vector<int64_t>& more);

// Every part's use of `provider` (parts that do not limit it have none).
std::vector<const ProviderUse*> ProviderUses(const std::vector<const MergeState*>& parts,
                                             std::string_view provider);

// Provider capacity as a run stores it (<p>_capacity_requests, _queued, _queue_timeouts,
// _over_capacity, _rate_limited, _peak_in_service, _max_wait_ms, _mean_wait_ms) from the parts'
// uses of one provider; the peak is PeakInService over the parts' logs together.
std::map<std::string, double> CapacityMetrics(const std::vector<const ProviderUse*>& parts);

// Why parts run apart are not what one process would have run: "" when they are (no shared
// limiter would have queued or refused, no shared breaker could have opened, the active-call
// bound never refused a call), else the first reason found.
std::string Coupling(const std::vector<const MergeState*>& parts);
// The provider part of Coupling, for the uses of one provider (any number, one included: the
// calls of one part that ran apart on lanes keep one use whose log holds all of theirs): "" when
// no use's own limiter queued or refused and their logs together never exceed max_concurrent nor
// the rate limit.
std::string ProviderCoupling(const std::vector<const ProviderUse*>& uses);
// Why the calls of `part`, run apart on lanes (load_run.h), are not what one clock would have
// run: ProviderCoupling for each provider, then BreakerCoupling; "" when they are.
std::string LanesCoupling(const MergeState& part);
// The circuit-breaker part of Coupling, for any number of parts (one part: calls that ran apart
// on lanes, load_run.h): "" when the failures of every back end together stay under the
// breakers' threshold, so no breaker the calls shared could have opened.
std::string BreakerCoupling(const std::vector<const MergeState*>& parts);

}  // namespace callsim::harness
