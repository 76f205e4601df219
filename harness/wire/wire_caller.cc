#include "harness/wire/wire_caller.h"

#include <cinttypes>
#include <cstdio>

#include "agent/runtime/events.h"
#include "harness/run/call_config.h"

namespace callsim::harness {

std::string WireSid(const char* prefix, const agent::Rng& run_rng, int call_id, const char* what) {
  agent::Rng rng = run_rng.Fork(CallKey(call_id, what));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%016" PRIx64 "%016" PRIx64, prefix, rng.NextU64(),
                rng.NextU64());
  return buf;
}

WireCaller::WireCaller(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
                       const Scenario& scenario, int call_id, const agent::Rng& run_rng,
                       const CallServices& services, EventRelay* relay, EndFn end)
    : io_(io),
      scheduler_(scheduler),
      scenario_(scenario),
      call_id_(call_id),
      relay_(relay),
      end_(std::move(end)),
      services_(services),
      log_(kMaxEventsPerCall),
      recorder_(scenario, log_, services_),
      uplink_(scheduler, run_rng.Fork(CallKey(call_id, "uplink")), MakeLinkConfig(scenario.uplink)),
      downlink_(scheduler, run_rng.Fork(CallKey(call_id, "downlink")),
                MakeLinkConfig(scenario.downlink)),
      caller_(scheduler, scenario, run_rng.Fork(CallKey(call_id, "caller")), log_,
              [this](const std::string& reason) {
                end_(reason, CallStatus::kCompleted, CallEndedBy::kCaller);
              }),
      call_sid_(WireSid("CA", run_rng, call_id, "call_sid")) {
  recorder_.Attach(&caller_);
  caller_.RecogniseOffThread();  // the media clock must not wait for a decode
}

WireCaller::~WireCaller() {
  alive_.reset();
  Unsubscribe();
}

void WireCaller::Unsubscribe() {
  if (!subscribed_) return;
  relay_->Unsubscribe(call_sid_);
  subscribed_ = false;
}

bool WireCaller::Begin() {
  started_us_ = scheduler_.NowUs();
  log_.Emit(started_us_, agent::event_sources::kCall, call_events::kStart,
            {{"call_id", call_id_}, {"call_sid", call_sid_}});
  if (!caller_.setup_error().empty()) {
    end_(caller_.setup_error(), CallStatus::kFailed, CallEndedBy::kOther);
    return false;
  }
  if (record_max_samples_ > 0) {
    tape_ = std::make_shared<AudioTape>(started_us_, record_max_samples_);
    caller_.set_audio_tape(tape_.get());
  }
  const int64_t max_us =
      static_cast<int64_t>(scenario_.agent.max_call_ms * 1000.0) + 60 * agent::kMicrosPerSecond;
  max_duration_task_.After(max_us, [this] {
    end_("maximum call duration reached", CallStatus::kFailed, CallEndedBy::kOther);
  });
  if (relay_) {
    std::weak_ptr<bool> alive = alive_;
    subscribed_ = relay_->Subscribe(
        call_sid_, io_,
        [this, alive](EventRelay::Clock::time_point when, const std::string& kind,
                      const nlohmann::json& detail) {
          if (!alive.expired()) OnAgentEvent(when, kind, detail);
        });
  }
  return true;
}

void WireCaller::OnAgentEvent(EventRelay::Clock::time_point when, const std::string& kind,
                              const nlohmann::json& detail) {
  if (finished_) return;
  const int64_t t_us =
      std::chrono::duration_cast<std::chrono::microseconds>(when - scheduler_.epoch()).count();
  log_.Emit(t_us, agent::event_sources::kAgent, kind, detail);
}

CallRecord WireCaller::Finish(const std::string& reason, CallStatus status, CallEndedBy by) {
  finished_ = true;
  max_duration_task_.Cancel();
  caller_.Finish(reason, by);
  Unsubscribe();
  const std::string status_name(kCallStatusNames.Name(status));
  log_.Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kEnd,
            {{"reason", reason}, {"status", status_name}, {"by", CallEndedByName(by)}});
  CallRecord record = recorder_.Build(call_id_, started_us_, scheduler_.NowUs(), reason, status, by);
  record.agent_transcripts = relay_ != nullptr;
  if (tape_) {
    caller_.set_audio_tape(nullptr);
    tape_->Close(scheduler_.NowUs());
    record.audio = std::move(tape_);
  }
  return record;
}

}  // namespace callsim::harness
