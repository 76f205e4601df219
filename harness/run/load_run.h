// One part of a run (run_parts.h): the calls of its slice arrive on the schedule of load.h, each
// runs the scenario its mix pick names, all share the part's provider capacity limiters and
// circuit breakers, and every call runs to its end on the engine's clock. Each finished call is
// stored as it ends, through a CallSink (several parts of one run may share a store); what the
// part measured comes back as a RunPart. runner.h says the bounds and what an abort keeps.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/postcall/call_report.h"
#include "agent/runtime/sim_scheduler.h"
#include "agent/tools/circuit_breaker.h"
#include "fakes/capacity/capacity_limiter.h"
#include "harness/run/merge_state.h"
#include "harness/run/recordings.h"
#include "harness/run/run_engine.h"
#include "harness/run/run_metrics.h"
#include "harness/run/run_parts.h"
#include "harness/run/runner.h"

namespace callsim::harness {

// SimCalls in virtual time: the default engine.
//
// Lanes (UseLanes): each call runs on a SimScheduler of its own, started at its arrival, and the
// run advances all of them a window of virtual time at a time (LoadRun::kLaneWindowUs), one call
// after another. A call's tasks run in the same (time, order) sequence as on the run's one
// scheduler, so its rows are the same; what changes is that a call's state stays in the cache for
// a whole window instead of going cold while a thousand other calls take their 20 ms tick. Only
// calls that share nothing may run this way (LoadRun decides).
class VirtualEngine final : public RunEngine {
 public:
  VirtualEngine() = default;
  ~VirtualEngine() override;
  VirtualEngine(const VirtualEngine&) = delete;
  VirtualEngine& operator=(const VirtualEngine&) = delete;

  agent::Scheduler& scheduler() override { return scheduler_; }
  const char* mode() const override { return "virtual"; }
  nlohmann::json Describe() const override { return nullptr; }
  std::unique_ptr<RunCall> MakeCall(const PlannedScenario& planned, int call_id,
                                    const agent::Rng& run_rng, const CallServices& services,
                                    RunCall::FinishedFn on_finished) override;
  bool RunOne() override { return scheduler_.RunOne(); }
  void Settle() override;
  bool builds_reports() const override { return true; }
  const Histogram* lateness() const override { return nullptr; }
  bool UseLanes() override;
  bool RunLanes(int64_t until_us, const std::atomic<bool>* abort) override;

 private:
  class LaneCall;
  struct Lane {
    explicit Lane(int64_t start_us) : scheduler(start_us) {}
    agent::SimScheduler scheduler;
    bool released = false;  // its call is gone: the lane is dropped once no task of it runs
  };
  // Drops released lanes (not while one runs: a call ends from inside its own task).
  void DropReleased();

  agent::SimScheduler scheduler_;
  bool lanes_ = false;
  bool running_ = false;
  std::vector<std::unique_ptr<Lane>> lane_list_;  // in arrival order
};

// Where a part's finished calls and reports go: a store, and the lock that parts sharing it hold
// around each write (null: the part has the store to itself).
struct CallSink {
  Store& store;
  std::mutex* lock = nullptr;
};

// The run's config_json (runs.config_json).
std::string ConfigJson(const Scenario& main, const RunOptions& options, const RunEngine& engine);

// Members are declared so that the calls go first (they hold tickets of the limiters).
class LoadRun {
 public:
  LoadRun(const RunPlan& plan, const RunOptions& options, CallSink sink, int64_t run_id,
          RunEngine& engine);

  // Runs the part to its end (or an abort, or a time bound) and flushes its calls. Throws what
  // the store or a call throws.
  RunPart Execute();
  // After an exception out of Execute: marks the run failed with `reason` (see runner.h).
  void MarkFailed(const std::string& reason);

  // How far every call runs on its lane before the next one takes its turn (VirtualEngine).
  static constexpr int64_t kLaneWindowUs = 1'000'000;

  // Whether the calls ran on lanes (VirtualEngine); decided when Execute() starts.
  bool lanes() const { return lanes_; }
  // What RunResult reports beyond the stored run.
  int peak_active() const { return peak_active_; }
  int calls_not_started() const { return NotStarted(); }
  int64_t virtual_end_us() const { return virtual_end_us_; }
  fakes::CapacityStats capacity(const char* provider) const;
  const Recordings& recordings() const { return recordings_; }

 private:
  void ScheduleArrival(size_t index);
  void Arrive(int id);
  void Reject(int id, const Scenario& scenario);
  void OnFinished(CallRecord record);
  void StoreRecord(CallRecord record);
  void EnqueueReport(const CallRecord& record);
  // Offers the reports of the calls that ended before `before_us` to the post-call queue, in
  // (end time, call id) order, and stores the accepted ones (a slice stores them all).
  void AdmitReports(int64_t before_us);
  MergeState State() const;
  bool RunLoop();
  bool LanesFit() const;
  bool RunLanes();
  int PeakOfSpans() const;
  void FoldLaneLimiters(size_t id);
  void FinishLaneUses();
  void EndRemaining(const std::string& reason, CallStatus status);
  int NotStarted() const { return static_cast<int>(arrivals_us_.size() - next_arrival_); }
  int64_t EndBoundUs() const;
  void Report(bool finished);

  const RunPlan& plan_;
  const LoadSpec& load_;
  const RunOptions& options_;
  CallSink sink_;
  const int64_t run_id_;
  RunEngine& engine_;
  agent::Scheduler& scheduler_;
  const agent::Rng run_rng_;
  Recordings recordings_;  // tapes are held by the calls until their verdict
  fakes::ProviderLimiters limiters_;
  agent::CircuitBreakers breakers_;  // one per tool back end, shared by every call
  // Post-call reports: each call's report is offered to the run's post-call queue once every call
  // that ended at the same instant is in (ReportAdmission), and built outside any live call's
  // task. A slice (a shard, a worker's part) stores every report and leaves admission to the run.
  struct EndedCall {
    int64_t ended_us = 0;
    int call_id = 0;
    agent::CallReportInput input;
  };
  std::vector<EndedCall> ended_;  // waiting for their instant to pass, in end-time order
  ReportAdmission admission_;
  int64_t reports_written_ = 0;
  int64_t reports_dropped_ = 0;
  std::vector<std::pair<int64_t, int64_t>> reported_calls_;  // (end, id) of the stored reports
  std::vector<int64_t> arrivals_us_;  // this part's arrivals, in time order
  std::vector<int> arrival_ids_;      // the call id of each
  int64_t last_arrival_us_ = 0;       // of the whole run (the end bound does not depend on parts)
  RunMetrics metrics_;
  std::vector<uint64_t> call_hashes_;  // by call id
  int64_t call_us_sum_ = 0;            // summed length of the calls done
  size_t next_arrival_ = 0;
  int active_ = 0;
  int peak_active_ = 0;
  int64_t end_us_ = 0;
  int64_t virtual_end_us_ = 0;
  bool stop_ = false;
  bool lanes_ = false;
  std::vector<std::pair<int64_t, int>> span_edges_;  // on lanes: (start, +1) and (end, -1) per call
  int64_t last_end_us_ = 0;                          // on lanes: when the last call ended
  int64_t next_progress_us_ = 0;
  std::vector<std::unique_ptr<RunCall>> calls_;  // by call id; reset once stored
  // On lanes each call has limiters of its own (by call id, until it ends; declared after the
  // calls, so they let go of them first), and what they saw is kept per provider (stt, llm,
  // tts) as the part's use of it. A provider has a use when limiters_ has its limiter.
  std::vector<fakes::ProviderLimiters> lane_limiters_;
  ProviderUse lane_uses_[3];
};

// What RunScenario returns for a run finished from `parts`, each run by the LoadRun of the same
// index: the stored outcome, with the parts' counts added up (a peak of active calls over several
// parts is their sum, an upper bound; a limiter's peak is the largest part's).
RunResult ResultOf(int64_t run_id, const FinishedRun& finished, const std::vector<RunPart>& parts,
                   const std::vector<const LoadRun*>& runs);

}  // namespace callsim::harness
