#include "harness/wire/wire_engine.h"

#include <chrono>
#include <future>

#include <boost/asio/post.hpp>

#include "harness/run/runner.h"
#include "harness/wire/sip_call.h"

namespace callsim::harness {

// One caller thread: its io_context, scheduler (made and destroyed on the thread), token thread
// and lateness histogram.
struct WireEngine::Worker {
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
      boost::asio::make_work_guard(io)};
  std::unique_ptr<agent::RealtimeScheduler> scheduler;
  std::unique_ptr<TokenThread> tokens;
  WireTarget target;  // the engine's, with this worker's token thread
  Histogram lateness;
  std::thread thread;
};

// The run's handle on a call that lives on a worker. The WireCall is made, started, ended and
// destroyed on its worker; its record comes back to the run's thread.
class WireEngine::CallHandle final : public RunCall {
 public:
  struct State {
    std::unique_ptr<RunCall> call;  // on the worker: a WireCall or a SipCall
    CallHandle* handle = nullptr;    // on the run's thread; null once the handle is gone
  };

  CallHandle(WireEngine& engine, Worker& worker, const PlannedScenario& planned, int call_id,
             const agent::Rng& run_rng, const CallServices& services, FinishedFn on_finished)
      : engine_(engine), worker_(worker), on_finished_(std::move(on_finished)),
        state_(std::make_shared<State>()) {
    state_->handle = this;
    std::shared_ptr<State> state = state_;
    boost::asio::io_context* run_io = &engine.io_;
    const Scenario* scenario = planned.scenario;
    boost::asio::post(worker.io, [state, run_io, &worker, scenario, call_id, &run_rng, services] {
      RunCall::FinishedFn finished = [state, run_io](CallRecord record) {
        boost::asio::post(*run_io, [state, r = std::move(record)]() mutable {
          if (state->handle) state->handle->Deliver(std::move(r));
        });
      };
      if (worker.target.sip) {
        state->call = std::make_unique<SipCall>(worker.io, *worker.scheduler, *scenario, call_id,
                                                run_rng, services, worker.target,
                                                &worker.lateness, std::move(finished));
      } else {
        state->call = std::make_unique<WireCall>(worker.io, *worker.scheduler, *scenario, call_id,
                                                 run_rng, services, worker.target,
                                                 &worker.lateness, std::move(finished));
      }
    });
  }

  ~CallHandle() override {
    state_->handle = nullptr;
    if (end_pending_) --engine_.ending_;
    // The call goes on its own thread.
    boost::asio::post(worker_.io, [state = state_] { state->call.reset(); });
  }

  void RecordAudio(int64_t max_samples) override {
    boost::asio::post(worker_.io, [state = state_, max_samples] {
      if (state->call) state->call->RecordAudio(max_samples);
    });
  }

  void Start() override {
    boost::asio::post(worker_.io, [state = state_] {
      if (state->call) state->call->Start();
    });
  }

  void End(const std::string& reason, CallStatus status) override {
    if (ended_) return;
    ended_ = true;
    end_pending_ = true;
    ++engine_.ending_;
    boost::asio::post(worker_.io, [state = state_, reason, status] {
      if (state->call && !state->call->ended()) state->call->End(reason, status);
    });
  }

  bool ended() const override { return ended_; }

 private:
  void Deliver(CallRecord record) {
    ended_ = true;
    if (end_pending_) {
      end_pending_ = false;
      --engine_.ending_;
    }
    on_finished_(std::move(record));  // may destroy this handle
  }

  WireEngine& engine_;
  Worker& worker_;
  FinishedFn on_finished_;
  std::shared_ptr<State> state_;
  bool ended_ = false;
  bool end_pending_ = false;
};

WireEngine::WireEngine(WireTarget target, std::string url_text, int workers)
    : work_(boost::asio::make_work_guard(io_)),
      epoch_(agent::RealtimeScheduler::Clock::now()),
      scheduler_(std::make_unique<agent::RealtimeScheduler>(io_, epoch_)),
      target_(std::move(target)),
      url_text_(std::move(url_text)) {
  const int n = workers > 0 ? workers
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->target = target_;
    if (target_.token) {
      w->tokens = std::make_unique<TokenThread>(w->io, target_.token);
      w->target.tokens = w->tokens.get();
    }
    Worker* raw = w.get();
    std::promise<void> ready;
    std::future<void> made = ready.get_future();
    const auto epoch = epoch_;
    w->thread = std::thread([raw, epoch, &ready] {
      raw->scheduler = std::make_unique<agent::RealtimeScheduler>(raw->io, epoch);
      ready.set_value();
      raw->io.run();
    });
    made.wait();
    workers_.push_back(std::move(w));
  }
}

// Each worker: what is queued runs (the calls' destruction), then its scheduler goes and its
// loop stops; then the threads are joined, the token threads stopped.
WireEngine::~WireEngine() {
  for (auto& w : workers_) {
    Worker* raw = w.get();
    boost::asio::post(w->io, [raw] {
      raw->scheduler.reset();
      raw->work.reset();
      raw->io.stop();
    });
  }
  for (auto& w : workers_) {
    w->thread.join();
    w->tokens.reset();
  }
  scheduler_.reset();  // before the run's io_context, on this thread
}

nlohmann::json WireEngine::Describe() const {
  nlohmann::json headers = nlohmann::json::array();
  for (const Header& h : target_.headers) headers.push_back(h.first);  // names only
  if (target_.sip) {
    return {{"protocol", "sip"},
            {"target", target_.sip->request_uri},
            {"srtp", target_.sip->srtp},
            {"digest", target_.sip->credentials.has_value()},
            {"self", target_.relay != nullptr},
            {"workers", workers_.size()}};
  }
  return {{"protocol", "twilio"},
          {"target", RedactUrl(url_text_)},
          {"headers", headers},
          {"token", static_cast<bool>(target_.token)},
          {"self", target_.relay != nullptr},
          {"workers", workers_.size()}};
}

std::unique_ptr<RunCall> WireEngine::MakeCall(const PlannedScenario& planned, int call_id,
                                              const agent::Rng& run_rng,
                                              const CallServices& services,
                                              RunCall::FinishedFn on_finished) {
  Worker& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  // Only what a caller reads crosses to the worker: the declared tools (shared, read-only). The
  // run's limiters and breakers belong to the run's thread and to the agent, not to a caller.
  CallServices caller_services;
  caller_services.tools = services.tools;
  return std::make_unique<CallHandle>(*this, worker, planned, call_id, run_rng, caller_services,
                                      std::move(on_finished));
}

// At most 100 ms per wait, so an abort flag is read that often even when nothing happens.
bool WireEngine::RunOne() {
  io_.run_one_for(std::chrono::milliseconds(100));
  return !io_.stopped();
}

// Until every call told to end has handed its record back, for at most 5 s.
void WireEngine::Settle() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    const size_t ran = io_.run_one_for(std::chrono::milliseconds(10));
    if (ending_ == 0 && ran == 0) break;
  }
}

const Histogram* WireEngine::lateness() const {
  lateness_.Reset();
  for (const auto& w : workers_) {
    auto copy = std::make_shared<std::promise<Histogram>>();
    std::future<Histogram> got = copy->get_future();
    Worker* raw = w.get();
    boost::asio::post(w->io, [raw, copy] { copy->set_value(raw->lateness); });
    if (got.wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
      lateness_.Merge(got.get());
    }
  }
  return &lateness_;
}

}  // namespace callsim::harness
