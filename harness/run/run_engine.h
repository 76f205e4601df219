// How a run's calls run. The runner (runner.h) owns the load: arrivals, the active-call bound,
// metrics, thresholds and the store; an engine owns the clock and the calls. The default engine
// runs SimCalls in virtual time on a SimScheduler; WireEngine (harness/wire/wire_engine.h) runs
// WireCalls in real time against an agent at a WebSocket URL.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "harness/measure/histogram.h"
#include "harness/run/call_record.h"
#include "harness/run/run_call.h"

namespace callsim::harness {

struct PlannedScenario;

class RunEngine {
 public:
  virtual ~RunEngine() = default;
  virtual agent::Scheduler& scheduler() = 0;
  // The runs.mode the run is stored with: "virtual" or "realtime".
  virtual const char* mode() const = 0;
  // What the run's config_json records about the engine (the target, without credentials);
  // null when there is nothing to add.
  virtual nlohmann::json Describe() const = 0;
  virtual std::unique_ptr<RunCall> MakeCall(const PlannedScenario& planned, int call_id,
                                            const agent::Rng& run_rng,
                                            const CallServices& services,
                                            RunCall::FinishedFn on_finished) = 0;
  // Runs the next task, or waits a bounded time for one (real time). False when nothing will
  // ever run again.
  virtual bool RunOne() = 0;
  // Runs every task due now (the records of calls just ended are handed over this way).
  virtual void Settle() = 0;
  // Whether the agent's history reaches the run, so the runner builds post-call reports (over
  // the wire the agent builds its own).
  virtual bool builds_reports() const = 0;
  // The harness lateness of every media tick, in microseconds; null in virtual time.
  virtual const Histogram* lateness() const = 0;

  // Call lanes (virtual time only; see VirtualEngine). UseLanes() asks that the calls made from
  // now on run each on a clock of its own; false when this engine cannot. RunLanes(until_us)
  // then runs the engine's own tasks due before `until_us` (arrivals), then every lane's, and
  // leaves each clock there; it stops between two lanes when `abort` is set (and returns false).
  // Settle() settles every lane.
  virtual bool UseLanes() { return false; }
  virtual bool RunLanes(int64_t until_us, const std::atomic<bool>* abort) {
    (void)until_us;
    (void)abort;
    return true;
  }
};

}  // namespace callsim::harness
