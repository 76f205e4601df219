// Real time over the wire: the run's calls are WireCalls on one io_context, run on the thread
// that runs the run, each against the target's WebSocket URL (harness/wire/wire_call.h). The
// engine owns the io_context and its RealtimeScheduler (time 0 is when the engine was made) and
// the harness-lateness histogram every call records into.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <memory>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/runtime/realtime_scheduler.h"
#include "harness/run/run_engine.h"
#include "harness/wire/token_thread.h"
#include "harness/wire/wire_call.h"

namespace callsim::harness {

class WireEngine final : public RunEngine {
 public:
  // `url_text` is the target as the user wrote it (stored with its credentials redacted).
  WireEngine(WireTarget target, std::string url_text);
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
  const Histogram* lateness() const override { return &lateness_; }

  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<agent::RealtimeScheduler> scheduler_;
  WireTarget target_;
  std::unique_ptr<TokenThread> tokens_;  // before io_ goes: its results are posted there
  std::string url_text_;
  Histogram lateness_;
};

}  // namespace callsim::harness
