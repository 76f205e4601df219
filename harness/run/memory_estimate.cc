#include "harness/run/memory_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "harness/run/load.h"
#include "harness/run/sim_call.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::harness {
namespace {

// How long one call of `planned` lasts alone (virtual seconds): call 0 of the run, with unlimited
// providers, on its own scheduler. It ends by itself at the latest at its maximum duration.
// Providers over the wire (real time only) are stood in for by the in-process fakes.
double PilotCallSeconds(const PlannedScenario& planned, const agent::Rng& run_rng) {
  Scenario pilot = *planned.scenario;
  for (std::optional<WireProviderSpec>* wire :
       {&pilot.fakes.stt.wire, &pilot.fakes.llm.wire, &pilot.fakes.tts.wire,
        &pilot.fakes.stt.secondary.wire, &pilot.fakes.llm.secondary.wire,
        &pilot.fakes.tts.secondary.wire}) {
    wire->reset();
  }
  agent::SimScheduler scheduler;
  CallServices services;
  services.tools = planned.tools;
  bool finished = false;
  int64_t length_us = 0;
  SimCall call(scheduler, pilot, *planned.script, 0, run_rng, services,
               [&](CallRecord r) {
                 finished = true;
                 length_us = r.ended_us - r.started_us;
               });
  call.Start();
  while (!finished && scheduler.RunOne()) {
  }
  return static_cast<double>(length_us) / 1e6;
}

int64_t BytesPerCall(const Scenario& s) {
  return s.codec == agent::CodecKind::kOpus ? kOpusActiveCallBytes : kActiveCallBytes;
}

// A tape of a call lasting `call_s` (at most `max_s`): whole one-second chunks of stereo 16-bit
// samples, and the chunk a frame may open past the end.
int64_t RecordingBytes(double call_s, double max_s) {
  const double seconds = std::ceil(std::clamp(call_s, 0.0, std::max(0.0, max_s))) + 1;
  return static_cast<int64_t>(seconds) * AudioTape::kChunkSamples * AudioTape::kChannels *
         static_cast<int64_t>(sizeof(int16_t));
}

// Of `active` calls at once, how many hold a tape: every one, or the first N at most.
int64_t RecordedCalls(const RecordPolicy& policy, int64_t active) {
  if (!policy.on()) return 0;
  if (policy.mode == RecordPolicy::Mode::kFirst) return std::min(active, policy.first_calls);
  return active;
}

}  // namespace

int64_t PeakOverlap(const std::vector<int64_t>& arrivals_us, int64_t window_us, int64_t cap) {
  int64_t peak = 0;
  size_t first = 0;
  for (size_t i = 0; i < arrivals_us.size() && peak < cap; ++i) {
    while (arrivals_us[first] < arrivals_us[i] - window_us) ++first;
    peak = std::max<int64_t>(peak, static_cast<int64_t>(i - first + 1));
  }
  return std::min(peak, cap);
}

MemoryEstimate EstimateRunMemory(const RunPlan& plan, uint64_t seed, int max_active_calls,
                                 const RecordOptions& record, const Shard& shard) {
  const agent::Rng run_rng(seed);
  MemoryEstimate e;
  for (const PlannedScenario& p : plan.scenarios) {
    e.call_s = std::max(e.call_s, PilotCallSeconds(p, run_rng));
    e.bytes_per_call = std::max(e.bytes_per_call, BytesPerCall(*p.scenario));
  }
  std::vector<int64_t> arrivals_us;  // the shard's, in time order
  const std::vector<int64_t> all_arrivals_us = ArrivalTimesUs(plan.main->load, run_rng);
  for (size_t id = 0; id < all_arrivals_us.size(); ++id) {
    if (shard.Holds(static_cast<int>(id))) arrivals_us.push_back(all_arrivals_us[id]);
  }
  e.callers = static_cast<int64_t>(arrivals_us.size());
  e.peak_active_calls =
      PeakOverlap(arrivals_us, std::llround(e.call_s * 1e6), std::max(1, max_active_calls));
  e.recorded_calls = RecordedCalls(record.policy, e.peak_active_calls);
  e.recording_bytes_per_call =
      e.recorded_calls > 0 ? RecordingBytes(e.call_s, record.max_seconds) : 0;
  e.peak_bytes = kBaseBytes + e.peak_active_calls * e.bytes_per_call + e.callers * kBytesPerCaller +
                 e.recorded_calls * e.recording_bytes_per_call;
  return e;
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buf;
}

std::string DescribeEstimate(const MemoryEstimate& e) {
  char call_s[32];
  std::snprintf(call_s, sizeof call_s, "%.0f", e.call_s);
  return FormatBytes(e.peak_bytes) + " (" + std::to_string(e.peak_active_calls) +
         " calls active at once x " + FormatBytes(e.bytes_per_call) + ", " +
         std::to_string(e.callers) + " callers x " + FormatBytes(kBytesPerCaller) + ", " +
         FormatBytes(kBaseBytes) + " base" +
         (e.recorded_calls > 0 ? ", " + std::to_string(e.recorded_calls) + " recordings x " +
                                     FormatBytes(e.recording_bytes_per_call)
                               : "") +
         "; calls last about " + call_s + " s)";
}

}  // namespace callsim::harness
