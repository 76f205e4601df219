#include "harness/run/sim_call.h"

#include <string>

namespace callsim::harness {
namespace {

std::unique_ptr<agent::MetricsEventSink> MetricsSink(CallLog& log, agent::AgentMetrics* metrics) {
  if (metrics == nullptr) return nullptr;
  return std::make_unique<agent::MetricsEventSink>(log, *metrics);
}

}  // namespace

SimCall::SimCall(agent::Scheduler& scheduler, const Scenario& scenario,
                 const fakes::LlmScript& script, int call_id, const agent::Rng& run_rng,
                 FinishedFn on_finished)
    : SimCall(scheduler, scenario, script, call_id, run_rng, CallServices{},
              std::move(on_finished)) {}

SimCall::SimCall(agent::Scheduler& scheduler, const Scenario& scenario,
                 const fakes::LlmScript& script, int call_id, const agent::Rng& run_rng,
                 const CallServices& services, FinishedFn on_finished)
    : scheduler_(scheduler),
      scenario_(scenario),
      call_id_(call_id),
      on_finished_(std::move(on_finished)),
      services_(services),
      log_(kMaxEventsPerCall),
      metrics_sink_(MetricsSink(log_, services.metrics)),
      recorder_(scenario, log_, services_),
      agent_side_(scheduler, scenario, script, run_rng, CallKey(call_id, ""), services_,
                  metrics_sink_ ? static_cast<agent::EventSink&>(*metrics_sink_) : log_),
      uplink_(scheduler, run_rng.Fork(CallKey(call_id, "uplink")), MakeLinkConfig(scenario.uplink)),
      downlink_(scheduler, run_rng.Fork(CallKey(call_id, "downlink")),
                MakeLinkConfig(scenario.downlink)),
      caller_(scheduler, scenario, run_rng.Fork(CallKey(call_id, "caller")), log_,
              [this](const std::string& reason) {
                EndWith(reason, CallStatus::kCompleted, CallEndedBy::kCaller);
              }) {
  recorder_.Attach(&caller_);
  agent::VoiceAgent& agent = agent_side_.agent();
  agent.set_on_call_end([this](const std::string& how) { OnAgentEndedCall(how); });
  const uint32_t ssrc_base = static_cast<uint32_t>(call_id) * 2 + 1;
  caller_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, uplink_, MakeMediaConfig(scenario, ssrc_base),
      [this](agent::Frame* out) { caller_.NextOutputFrame(out); },
      [this](const agent::Frame& f, int64_t t) { caller_.OnEarFrame(f, t); });
  agent_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, downlink_, MakeMediaConfig(scenario, ssrc_base + 1),
      [&agent](agent::Frame* out) { agent.NextOutputFrame(out); },
      [&agent](const agent::Frame& f, int64_t t) { agent.OnCallerFrame(f, t); });
  caller_.set_dtmf_sender([this](char key, int ms) { caller_media_->SendDtmf(key, ms); });
  agent_media_->set_dtmf_sink([&agent](char key, int64_t t_us) { agent.OnDtmf(key, t_us); });
  uplink_.SetReceiver([this](agent::Packet p) { agent_media_->OnPacket(std::move(p)); });
  downlink_.SetReceiver([this](agent::Packet p) { caller_media_->OnPacket(std::move(p)); });
}

SimCall::~SimCall() = default;

// The agent hung up or transferred after its last reply: the signal travels the downlink like
// the media, so the caller still hears what was already on its way (network and jitter buffer).
void SimCall::OnAgentEndedCall(const std::string& how) {
  if (ended_ || agent_end_task_.pending()) return;
  const bool transfer = how == "transfer";
  const double drain_ms = scenario_.downlink.delay_ms +
                          fakes::MaxJitterMs(MakeLinkConfig(scenario_.downlink).jitter_distribution,
                                             scenario_.downlink.jitter_ms) +
                          (scenario_.agent.jitter_buffer.adaptive
                               ? scenario_.agent.jitter_buffer.max_ms
                               : scenario_.agent.jitter_buffer.target_ms) +
                          agent::kFrameMs;
  agent_end_task_.After(static_cast<int64_t>(drain_ms * 1000.0), [this, transfer] {
    EndWith(transfer ? "agent transferred the call" : "agent hung up", CallStatus::kCompleted,
            transfer ? CallEndedBy::kTransfer : CallEndedBy::kAgent);
  });
}

void SimCall::Start() {
  started_us_ = scheduler_.NowUs();
  log_.Emit(started_us_, agent::event_sources::kCall, call_events::kStart, {{"call_id", call_id_}});
  if (!caller_.setup_error().empty()) {
    EndWith(caller_.setup_error(), CallStatus::kFailed, CallEndedBy::kOther);
    return;
  }
  if (record_max_samples_ > 0) {
    tape_ = std::make_shared<AudioTape>(started_us_, record_max_samples_);
    caller_.set_audio_tape(tape_.get());
  }
  agent_media_->Start();
  caller_media_->Start();
  agent_side_.agent().Start();
  caller_.Start();
  const int64_t max_us =
      static_cast<int64_t>(scenario_.agent.max_call_ms * 1000.0) + 60 * agent::kMicrosPerSecond;
  max_duration_task_.After(max_us, [this] {
    End("maximum call duration reached", CallStatus::kFailed);
  });
}

void SimCall::End(const std::string& reason, CallStatus status) {
  EndWith(reason, status, CallEndedBy::kOther);
}

void SimCall::EndWith(const std::string& reason, CallStatus call_status, CallEndedBy by) {
  if (ended_) return;
  ended_ = true;
  const std::string status(kCallStatusNames.Name(call_status));  // as the end event names it
  max_duration_task_.Cancel();
  agent_end_task_.Cancel();
  caller_.Finish(reason, by);
  agent_side_.agent().Hangup();
  caller_media_->Stop();
  agent_media_->Stop();
  log_.Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kEnd,
            {{"reason", reason}, {"status", status}, {"by", CallEndedByName(by)}});
  CallRecord record =
      recorder_.Build(call_id_, started_us_, scheduler_.NowUs(), reason, call_status, by);
  record.caller_media = caller_media_->stats();
  record.agent_media = agent_media_->stats();
  record.tool_side_effects = agent_side_.tool_side_effects();
  record.transcript = agent_side_.agent().history();
  if (tape_) {
    caller_.set_audio_tape(nullptr);
    tape_->Close(scheduler_.NowUs());
    record.audio = std::move(tape_);
  }
  // Hand the record over from a fresh task that holds its own copy of the callback: the owner may
  // destroy this call from inside it.
  scheduler_.After(0, [fn = on_finished_, r = std::move(record)]() mutable { fn(std::move(r)); });
}

}  // namespace callsim::harness
