// Real time over the wire: the run's calls are WireCalls (harness/wire/wire_call.h) spread over
// `workers` threads, each with its own io_context, RealtimeScheduler and token thread; a call
// stays on the worker it was given (in turn), so nothing on its per-frame path locks. The run
// itself (arrivals, progress, the end bound) runs on the calling thread's own io_context and
// scheduler; every scheduler shares one epoch (time 0: when the engine was made), so call times
// compare. A call's start, end and record cross between the threads by posting.
//
// The harness-lateness histogram is kept per worker and merged when the run asks for it.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/runtime/realtime_scheduler.h"
#include "harness/run/run_engine.h"
#include "harness/wire/token_thread.h"
#include "harness/wire/wire_call.h"

namespace callsim::harness {

class WireEngine final : public RunEngine {
 public:
  // `url_text` is the target as the user wrote it (stored with its credentials redacted);
  // `workers` 0: one per core.
  WireEngine(WireTarget target, std::string url_text, int workers = 0);
  ~WireEngine() override;

  agent::Scheduler& scheduler() override { return *scheduler_; }
  const char* mode() const override { return "realtime"; }
  nlohmann::json Describe() const override;
  std::unique_ptr<RunCall> MakeCall(const PlannedScenario& planned, int call_id,
                                    const agent::Rng& run_rng, const CallServices& services,
                                    RunCall::FinishedFn on_finished) override;
  bool RunOne() override;
  void Settle() override;
  bool builds_reports() const override { return false; }
  // Merged from the workers (each hands its histogram over on its own thread).
  const Histogram* lateness() const override;

  size_t workers() const { return workers_.size(); }

 private:
  struct Worker;
  class CallHandle;

  boost::asio::io_context io_;  // the run's thread
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  agent::RealtimeScheduler::Clock::time_point epoch_;
  std::unique_ptr<agent::RealtimeScheduler> scheduler_;
  WireTarget target_;
  std::string url_text_;
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;
  int ending_ = 0;  // calls told to end whose records have not come back yet
  mutable Histogram lateness_;
};

}  // namespace callsim::harness
