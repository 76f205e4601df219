#include "harness/run/sim_call.h"

#include <algorithm>
#include <set>
#include <string>

namespace callsim::harness {
namespace {

// A bound on events kept per call; the event-log hash still covers every event.
constexpr size_t kMaxEventsPerCall = 20000;

std::string Key(int call_id, const char* what) {
  return "call/" + std::to_string(call_id) + "/" + what;
}

// Wraps `inner` in fault injection when the spec asks for any; returns what the next layer uses.
template <typename Faulty, typename Provider>
Provider* WithFaults(agent::Scheduler& scheduler, const agent::Rng& rng, const FaultsSpec& spec,
                     Provider* inner, std::vector<std::unique_ptr<Provider>>* layers) {
  if (!spec.any()) return inner;
  layers->push_back(std::make_unique<Faulty>(scheduler, rng, MakeFaultSpec(spec), *inner));
  return layers->back().get();
}

// Executed calls that break the policy, judged from the audit rows and the declared tools alone.
int CountUnsafe(const std::vector<ToolCallRow>& rows, const std::vector<agent::ToolSpec>* tools,
                const std::vector<std::string>& allow) {
  int unsafe = 0;
  for (const ToolCallRow& row : rows) {
    if (row.decision != "executed" || row.reason == "call_control") continue;
    const agent::ToolSpec* spec = nullptr;
    if (tools) {
      for (const agent::ToolSpec& t : *tools) {
        if (t.name == row.name) spec = &t;
      }
    }
    const bool allowed =
        allow.empty() || std::find(allow.begin(), allow.end(), row.name) != allow.end();
    if (spec == nullptr || !allowed || (spec->destructive && !row.confirmed)) ++unsafe;
  }
  return unsafe;
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
      log_(kMaxEventsPerCall),
      hypotheses_(scenario.turns.size()),
      services_(services),
      stt_(scheduler, run_rng.Fork(Key(call_id, "stt")),
           MakeSttConfig(scenario.fakes.stt, services.limiters.stt)),
      llm_(scheduler, run_rng.Fork(Key(call_id, "llm")),
           MakeLlmConfig(scenario.fakes.llm, services.limiters.llm), script),
      tts_(scheduler, run_rng.Fork(Key(call_id, "tts")),
           MakeTtsConfig(scenario.fakes.tts, services.limiters.tts)),
      uplink_(scheduler, run_rng.Fork(Key(call_id, "uplink")), MakeLinkConfig(scenario.uplink)),
      downlink_(scheduler, run_rng.Fork(Key(call_id, "downlink")),
                MakeLinkConfig(scenario.downlink)),
      caller_(scheduler, scenario, run_rng.Fork(Key(call_id, "caller")), log_,
              [this](const std::string& reason) {
                EndWith(reason, CallStatus::kCompleted, CallEndedBy::kCaller);
              }) {
  if (services.metrics) metrics_sink_ = std::make_unique<agent::MetricsEventSink>(log_, *services.metrics);
  BuildProviders(script, run_rng);
  static const std::vector<agent::ToolSpec> kNoTools;
  agent_ = std::make_unique<agent::VoiceAgent>(
      scheduler, MakeAgentConfig(scenario.agent, services.tools ? *services.tools : kNoTools),
      *agent_stt_, *agent_llm_, *agent_tts_, AgentSink());
  tool_backends_ = fakes::MakeFakeToolBackends(scheduler, run_rng.Fork(Key(call_id, "tools")),
                                               MakeToolBackendSpecs(scenario.fakes.tools));
  tool_view_ = fakes::ToolBackendsView(tool_backends_);
  agent_->EnableTools(tool_view_, services.breakers ? *services.breakers : own_breakers_);
  log_.AddObserver([this](int64_t t_us, std::string_view source, std::string_view kind,
                          const nlohmann::json& detail) {
    if (source == agent::event_sources::kAgent && kind == agent::agent_events::kToolAudit) {
      OnToolAudit(t_us, detail);
    }
    OnLogEvent(source, kind, detail);
  });
  agent_->set_on_call_end([this](const std::string& how) { OnAgentEndedCall(how); });
  const uint32_t ssrc_base = static_cast<uint32_t>(call_id) * 2 + 1;
  caller_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, uplink_, MakeMediaConfig(scenario, ssrc_base),
      [this](agent::Frame* out) { caller_.NextOutputFrame(out); },
      [this](const agent::Frame& f, int64_t t) { caller_.OnEarFrame(f, t); });
  agent_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, downlink_, MakeMediaConfig(scenario, ssrc_base + 1),
      [this](agent::Frame* out) { agent_->NextOutputFrame(out); },
      [this](const agent::Frame& f, int64_t t) { agent_->OnCallerFrame(f, t); });
  caller_.set_dtmf_sender([this](char key, int ms) { caller_media_->SendDtmf(key, ms); });
  agent_media_->set_dtmf_sink([this](char key, int64_t t_us) { agent_->OnDtmf(key, t_us); });
  uplink_.SetReceiver([this](agent::Packet p) { agent_media_->OnPacket(std::move(p)); });
  downlink_.SetReceiver([this](agent::Packet p) { caller_media_->OnPacket(std::move(p)); });
}

agent::EventSink& SimCall::AgentSink() {
  if (metrics_sink_) return *metrics_sink_;
  return log_;
}

// Fakes -> fault injection -> (secondary) -> retry and failover -> the agent.
void SimCall::BuildProviders(const fakes::LlmScript& script, const agent::Rng& run_rng) {
  const FakesSpec& f = scenario_.fakes;
  auto fork = [&](const char* what) { return run_rng.Fork(Key(call_id_, what)); };
  agent::SttProvider* stt = WithFaults<fakes::FaultyStt, agent::SttProvider>(
      scheduler_, fork("stt_faults"), f.stt.faults, &stt_, &stt_layers_);
  agent::LlmProvider* llm = WithFaults<fakes::FaultyLlm, agent::LlmProvider>(
      scheduler_, fork("llm_faults"), f.llm.faults, &llm_, &llm_layers_);
  agent::TtsProvider* tts = WithFaults<fakes::FaultyTts, agent::TtsProvider>(
      scheduler_, fork("tts_faults"), f.tts.faults, &tts_, &tts_layers_);
  agent::SttProvider* stt2 = nullptr;
  agent::LlmProvider* llm2 = nullptr;
  agent::TtsProvider* tts2 = nullptr;
  // A secondary is another vendor: it does not share the primary's capacity.
  if (f.stt.secondary.present) {
    stt2_ = std::make_unique<fakes::ModemStt>(scheduler_, fork("stt2"), MakeSttConfig(f.stt, nullptr));
    stt2 = WithFaults<fakes::FaultyStt, agent::SttProvider>(
        scheduler_, fork("stt2_faults"), f.stt.secondary.faults, stt2_.get(), &stt_layers_);
  }
  if (f.llm.secondary.present) {
    llm2_ = std::make_unique<fakes::RuleLlm>(scheduler_, fork("llm2"), MakeLlmConfig(f.llm, nullptr),
                                             script);
    llm2 = WithFaults<fakes::FaultyLlm, agent::LlmProvider>(
        scheduler_, fork("llm2_faults"), f.llm.secondary.faults, llm2_.get(), &llm_layers_);
  }
  if (f.tts.secondary.present) {
    tts2_ = std::make_unique<fakes::ModemTts>(scheduler_, fork("tts2"), MakeTtsConfig(f.tts, nullptr));
    tts2 = WithFaults<fakes::FaultyTts, agent::TtsProvider>(
        scheduler_, fork("tts2_faults"), f.tts.secondary.faults, tts2_.get(), &tts_layers_);
  }
  if (scenario_.agent.fallback.enabled) {
    const agent::RetryPolicy policy = MakeRetryPolicy(scenario_.agent.fallback);
    // The caller audio kept for a replay after an STT failure: a turn longer than this loses
    // its start on a failure; 3 s (96 KB) keeps the per-call memory budget of 1 MiB.
    constexpr double kSttReplayMs = 3000;
    stt_layers_.push_back(std::make_unique<agent::ResilientStt>(scheduler_, AgentSink(), policy,
                                                                *stt, stt2, kSttReplayMs));
    llm_layers_.push_back(
        std::make_unique<agent::ResilientLlm>(scheduler_, AgentSink(), policy, *llm, llm2));
    tts_layers_.push_back(
        std::make_unique<agent::ResilientTts>(scheduler_, AgentSink(), policy, *tts, tts2));
    stt = stt_layers_.back().get();
    llm = llm_layers_.back().get();
    tts = tts_layers_.back().get();
  }
  agent_stt_ = stt;
  agent_llm_ = llm;
  agent_tts_ = tts;
}

// The audit record, and the harness's own judgement of whether an executed call was safe.
void SimCall::OnToolAudit(int64_t t_us, const nlohmann::json& detail) {
  agent::ToolAuditEvent audit;
  agent::FromJson(detail, &audit);
  ToolCallRow row;
  row.t_ms = static_cast<double>(t_us) / 1000.0;
  row.tool_call_id = std::move(audit.tool_call_id);
  row.name = std::move(audit.name);
  row.arguments_json = std::move(audit.arguments_json);
  row.decision = std::move(audit.decision);
  row.reason = std::move(audit.reason);
  row.result_json = std::move(audit.result_json);
  row.duration_ms = audit.duration_ms;
  row.confirmed = audit.confirmed;
  tool_calls_.push_back(std::move(row));
}

SimCall::~SimCall() = default;

// The agent's events the caller needs: every final transcript of a caller turn joins that turn's
// hypothesis (a turn the caller resumed arrives in pieces), and tool events go to the caller.
void SimCall::OnLogEvent(std::string_view source, std::string_view kind,
                         const nlohmann::json& detail) {
  if (source != agent::event_sources::kAgent) return;
  if (kind == agent::agent_events::kFalseInterruption) ++false_interruptions_;
  if (kind == agent::agent_events::kUsage) agent::FromJson(detail, &usage_);
  if (kind != agent::agent_events::kSttFinal) {
    caller_.OnAgentEvent(kind, detail);
    return;
  }
  const int turn = caller_.current_user_turn();
  const auto text = detail.find("text");
  if (turn < 0 || text == detail.end() || !text->is_string() ||
      text->get_ref<const std::string&>().empty()) {
    return;
  }
  CALLSIM_CHECK(static_cast<size_t>(turn) < hypotheses_.size());
  std::string& hyp = hypotheses_[static_cast<size_t>(turn)];
  if (!hyp.empty()) hyp.push_back(' ');
  hyp += text->get_ref<const std::string&>();
}

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
  agent_media_->Start();
  caller_media_->Start();
  agent_->Start();
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
  agent_->Hangup();
  caller_media_->Stop();
  agent_media_->Stop();
  log_.Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kEnd,
            {{"reason", reason}, {"status", status}, {"by", CallEndedByName(by)}});
  CallRecord record = BuildRecord(reason, call_status, by);
  // Hand the record over from a fresh task that holds its own copy of the callback: the owner may
  // destroy this call from inside it.
  scheduler_.After(0, [fn = on_finished_, r = std::move(record)]() mutable { fn(std::move(r)); });
}

CallRecord SimCall::BuildRecord(const std::string& reason, CallStatus status, CallEndedBy by) {
  CallRecord r;
  r.ended_by = by;
  r.call_id = call_id_;
  r.scenario = scenario_.name;
  r.started_us = started_us_;
  r.ended_us = scheduler_.NowUs();
  r.status = status;
  r.outcomes = caller_.outcomes();
  r.hypotheses = hypotheses_;
  r.expectations = caller_.expectations();
  bool all_passed = status == CallStatus::kCompleted;
  for (const ExpectationResult& e : r.expectations) {
    if (e.passed) continue;
    if (all_passed) {
      r.failure_reason = "turn " + std::to_string(e.turn_index) + " " + e.kind + ": " + e.detail;
    }
    all_passed = false;
  }
  if (status != CallStatus::kCompleted && r.failure_reason.empty()) r.failure_reason = reason;
  r.task_completed = all_passed;
  r.caller_media = caller_media_->stats();
  r.agent_media = agent_media_->stats();
  r.event_hash = log_.hash();
  r.events = log_.TakeEntries();
  r.tool_calls = std::move(tool_calls_);
  r.unsafe_tool_executions = CountUnsafe(r.tool_calls, services_.tools.get(),
                                         scenario_.agent.tools.allow);
  r.tool_side_effects = fakes::TotalExecutedActions(tool_backends_);
  r.usage = usage_;
  r.transcript = agent_->history();
  r.false_interruptions = false_interruptions_;
  return r;
}

}  // namespace callsim::harness
