#include "harness/wire/agent_service.h"

#include "agent/observability/metrics_event_sink.h"
#include "agent/pipeline/agent_events.h"
#include "agent/postcall/call_report.h"
#include "agent/runtime/check.h"
#include "harness/run/agent_side.h"
#include "harness/run/call_log.h"
#include "harness/run/call_recorder.h"
#include "harness/run/call_rows.h"

namespace callsim::harness {
namespace {

// How the stream's end reason reads as a stored call.
CallStatus StatusFor(const std::string& reason, CallEndedBy* by) {
  if (reason == "caller hung up (stop)" || reason == "caller hung up (BYE)") {
    *by = CallEndedBy::kCaller;
    return CallStatus::kCompleted;
  }
  if (reason == "agent hangup" || reason == "transfer") {
    *by = reason == "transfer" ? CallEndedBy::kTransfer : CallEndedBy::kAgent;
    return CallStatus::kCompleted;
  }
  *by = CallEndedBy::kOther;
  return reason == "connection closed: server shutdown" ? CallStatus::kAborted : CallStatus::kFailed;
}

}  // namespace

// One served call: its log (with the agent metrics in front), the agent with its fakes, and the
// relay to an in-process caller. Lives on its stream's worker.
class AgentService::HostedCall final : public agent::ServedCall, private agent::EventSink {
 public:
  HostedCall(AgentService& service, const std::string& call_sid, agent::Scheduler& scheduler,
             agent::EventSink& agent_events, int call_id, const CallServices& services,
             MediaRowsFn media)
      : service_(service),
        scheduler_(scheduler),
        call_id_(call_id),
        call_sid_(call_sid),
        media_(std::move(media)),
        services_(services),
        log_(kMaxEventsPerCall),
        metrics_sink_(log_, service.metrics_),
        recorder_(*service.planned_.scenario, log_, services_),
        agent_side_(scheduler, *service.planned_.scenario, *service.planned_.script,
                    agent::Rng(service.options_.seed), "call/" + call_sid + "/", services_,
                    agent_events) {
    started_us_ = scheduler.NowUs();
    log_.Emit(started_us_, agent::event_sources::kCall, call_events::kStart,
              {{"call_id", call_id_}, {"call_sid", call_sid_}});
  }

  agent::VoiceAgent& agent() override { return agent_side_.agent(); }
  agent::EventSink& events() override { return *this; }

  void Finish(const std::string& reason) override {
    CallEndedBy by = CallEndedBy::kOther;
    const CallStatus status = StatusFor(reason, &by);
    log_.Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kEnd,
              {{"reason", reason}, {"status", std::string(kCallStatusNames.Name(status))},
               {"by", CallEndedByName(by)}});
    CallRecord r = recorder_.Build(call_id_, started_us_, scheduler_.NowUs(), reason, status, by);
    r.tool_side_effects = agent_side_.tool_side_effects();
    r.transcript = agent_side_.agent().history();
    if (media_) r.media = media_();
    service_.OnFinished(std::move(r));
  }

 private:
  // The agent's events, after the stream read them: the log (through the metrics) and the relay.
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override {
    metrics_sink_.Emit(t_us, source, kind, detail);
    if (service_.options_.relay) service_.options_.relay->Publish(call_sid_, kind, detail);
  }

  AgentService& service_;
  agent::Scheduler& scheduler_;
  int call_id_;
  std::string call_sid_;
  MediaRowsFn media_;
  CallServices services_;
  CallLog log_;
  agent::MetricsEventSink metrics_sink_;
  CallRecorder recorder_;  // tool audit rows, usage, the record
  int64_t started_us_ = 0;
  AgentSide agent_side_;
};

AgentService::AgentService(const PlannedScenario& planned, AgentServiceOptions options,
                           Store* store)
    : planned_(planned),
      options_(std::move(options)),
      store_(store),
      metrics_(DeclaredToolNames({planned})) {
  if (store_) {
    RunInfo info;
    info.seed = options_.seed;
    info.mode = "realtime";
    info.scenario = options_.agent_arg;
    info.config_json = nlohmann::json{{"serve", options_.agent_arg},
                                      {"name", planned.scenario->name},
                                      {"send_rate", options_.stream.send_rate}}
                           .dump();
    run_id_ = store_->BeginRun(info);
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

AgentService::~AgentService() { Finish(false); }

void AgentService::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

std::unique_ptr<agent::StreamSession> AgentService::MakeSession(
    agent::StreamIo io, agent::ServerMetrics* server_metrics) {
  return std::make_unique<agent::TwilioAgentStream>(
      std::move(io), options_.stream,
      [this](const agent::twilio::Start& start, agent::Scheduler& scheduler,
             agent::EventSink& events) { return StartCall(start, scheduler, events); },
      server_metrics, options_.log);
}

std::unique_ptr<agent::ServedCall> AgentService::StartCall(const agent::twilio::Start& start,
                                                           agent::Scheduler& scheduler,
                                                           agent::EventSink& agent_events) {
  return StartCall(start.call_sid, scheduler, agent_events, nullptr);
}

std::unique_ptr<agent::ServedCall> AgentService::StartCall(const std::string& call_sid,
                                                           agent::Scheduler& scheduler,
                                                           agent::EventSink& agent_events,
                                                           MediaRowsFn media) {
  CallServices services;
  services.breakers = &BreakersFor(scheduler);
  services.metrics = &metrics_;
  services.tools = planned_.tools;
  return std::make_unique<HostedCall>(*this, call_sid, scheduler, agent_events, next_call_id_++,
                                      services, std::move(media));
}

// One set of circuit breakers per worker: the calls on a worker share them, with no lock on the
// per-call path (a breaker is touched only from its worker's thread).
agent::CircuitBreakers& AgentService::BreakersFor(agent::Scheduler& scheduler) {
  std::lock_guard<std::mutex> lock(breakers_mutex_);
  std::unique_ptr<agent::CircuitBreakers>& b = breakers_[&scheduler];
  if (!b) {
    const AgentSpec& a = planned_.scenario->agent;
    b = std::make_unique<agent::CircuitBreakers>(
        agent::CircuitBreakerConfig{a.tools.breaker_failures, a.tools.breaker_open_ms});
  }
  return *b;
}

void AgentService::OnFinished(CallRecord record) {
  ++calls_finished_;
  std::lock_guard<std::mutex> lock(queue_mutex_);
  if (store_ == nullptr || finished_) return;
  if (queue_.size() >= options_.max_pending_stores) {
    ++calls_not_stored_;
    Log("call " + std::to_string(record.call_id) + " not stored: the store queue is full");
    return;
  }
  queue_.push_back(std::move(record));
  queue_cv_.notify_one();
}

// The writer: each call's rows and its post-call report, in the order the calls finished.
void AgentService::WriterLoop() {
  for (;;) {
    CallRecord record;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      record = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      const agent::CallReport report = agent::BuildCallReport(ReportInput(record));
      const int64_t call_id = record.call_id;
      StoreCall(std::move(record), run_id_, *store_);
      store_->AddCallReport(ReportRow(run_id_, call_id, report));
      metrics_.CountPostCallReport(true);
    } catch (const std::exception& e) {
      ++calls_not_stored_;
      Log(std::string("store error: ") + e.what());
    }
  }
}

void AgentService::Finish(bool aborted) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (finished_) return;
    stopping_ = true;
  }
  queue_cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(queue_mutex_);
  finished_ = true;
  if (!store_) return;
  store_->SetMetric(run_id_, "calls_total", static_cast<double>(calls_finished_.load()));
  store_->SetMetric(run_id_, "calls_not_stored", static_cast<double>(calls_not_stored_.load()));
  store_->FinishRun(run_id_, RunOutcome{aborted ? "aborted" : "completed", "", 0,
                                        aborted ? "server stopped at once (second signal)" : "",
                                        0});
}

}  // namespace callsim::harness
