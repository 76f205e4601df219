#include "harness/run/sim_call.h"

#include <string>

namespace callsim::harness {
namespace {

// A bound on events kept per call; the event-log hash still covers every event.
constexpr size_t kMaxEventsPerCall = 20000;

std::string Key(int call_id, const char* what) {
  return "call/" + std::to_string(call_id) + "/" + what;
}

fakes::ModemSttConfig MakeSttConfig(const SttSpec& spec,
                                    std::shared_ptr<fakes::CapacityLimiter> capacity) {
  fakes::ModemSttConfig config;
  config.capacity = std::move(capacity);
  config.final_latency = spec.final_latency;
  config.profile = spec.profile == "perfect" ? fakes::SttRobustnessProfile::Perfect()
                                             : fakes::SttRobustnessProfile::Default();
  return config;
}

fakes::RuleLlmConfig MakeLlmConfig(const LlmSpec& spec,
                                   std::shared_ptr<fakes::CapacityLimiter> capacity) {
  fakes::RuleLlmConfig config;
  config.capacity = std::move(capacity);
  config.ttft = spec.ttft;
  config.tokens_per_s = spec.tokens_per_s;
  return config;
}

fakes::ModemTtsConfig MakeTtsConfig(const TtsSpec& spec,
                                    std::shared_ptr<fakes::CapacityLimiter> capacity) {
  fakes::ModemTtsConfig config;
  config.capacity = std::move(capacity);
  config.ttfb = spec.ttfb;
  return config;
}

agent::MediaEndpointConfig MakeMediaConfig(const Scenario& s, uint32_t ssrc) {
  agent::MediaEndpointConfig config;
  config.codec = s.codec;
  config.ssrc = ssrc;
  config.jitter.target_delay_ms = static_cast<int>(s.agent.jitter_target_ms);
  return config;
}

}  // namespace

agent::AgentConfig MakeAgentConfig(const AgentSpec& spec) {
  agent::AgentConfig config;
  config.vad.threshold_dbfs = spec.vad_threshold_dbfs;
  config.vad.start_ms = spec.vad_start_ms;
  config.vad.stop_ms = spec.vad_stop_ms;
  config.endpoint_delay_ms = spec.endpoint_delay_ms;
  config.barge_in_min_ms = spec.barge_in_min_ms;
  config.greeting = spec.greeting;
  if (!spec.system_prompt.empty()) config.system_prompt = spec.system_prompt;
  config.max_call_ms = spec.max_call_ms;
  return config;
}

fakes::SimLinkConfig MakeLinkConfig(const LinkSpec& spec) {
  fakes::SimLinkConfig config;
  config.delay_ms = spec.delay_ms;
  config.jitter_ms = spec.jitter_ms;
  // The loader accepts only the names ParseJitterDistribution knows.
  config.jitter_distribution =
      fakes::ParseJitterDistribution(spec.jitter_distribution).value_or(fakes::JitterDistribution::kNormal);
  config.reorder = spec.reorder;
  config.duplicate = spec.duplicate;
  switch (spec.loss.model) {
    case LossSpec::kNone: config.loss.model = fakes::LossConfig::Model::kNone; break;
    case LossSpec::kBernoulli: config.loss.model = fakes::LossConfig::Model::kBernoulli; break;
    case LossSpec::kGilbert: config.loss.model = fakes::LossConfig::Model::kGilbertElliott; break;
  }
  config.loss.loss = spec.loss.loss;
  config.loss.p = spec.loss.p;
  config.loss.r = spec.loss.r;
  config.loss.bad_loss = spec.loss.bad_loss;
  config.loss.good_loss = spec.loss.good_loss;
  for (const OutageSpec& o : spec.outages) config.outages.push_back({o.start_ms, o.duration_ms});
  return config;
}

SimCall::SimCall(agent::Scheduler& scheduler, const Scenario& scenario,
                 const fakes::LlmScript& script, int call_id, const agent::Rng& run_rng,
                 FinishedFn on_finished)
    : SimCall(scheduler, scenario, script, call_id, run_rng, fakes::ProviderLimiters{},
              std::move(on_finished)) {}

SimCall::SimCall(agent::Scheduler& scheduler, const Scenario& scenario,
                 const fakes::LlmScript& script, int call_id, const agent::Rng& run_rng,
                 const fakes::ProviderLimiters& limiters, FinishedFn on_finished)
    : scheduler_(scheduler),
      scenario_(scenario),
      call_id_(call_id),
      on_finished_(std::move(on_finished)),
      log_(kMaxEventsPerCall),
      hypotheses_(scenario.turns.size()),
      stt_(scheduler, run_rng.Fork(Key(call_id, "stt")),
           MakeSttConfig(scenario.fakes.stt, limiters.stt)),
      llm_(scheduler, run_rng.Fork(Key(call_id, "llm")),
           MakeLlmConfig(scenario.fakes.llm, limiters.llm), script),
      tts_(scheduler, run_rng.Fork(Key(call_id, "tts")),
           MakeTtsConfig(scenario.fakes.tts, limiters.tts)),
      uplink_(scheduler, run_rng.Fork(Key(call_id, "uplink")), MakeLinkConfig(scenario.uplink)),
      downlink_(scheduler, run_rng.Fork(Key(call_id, "downlink")),
                MakeLinkConfig(scenario.downlink)),
      agent_(scheduler, MakeAgentConfig(scenario.agent), stt_, llm_, tts_, log_),
      caller_(scheduler, scenario, run_rng.Fork(Key(call_id, "caller")), log_,
              [this](const std::string& reason) {
                EndWith(reason, "completed", CallEndedBy::kCaller);
              }) {
  log_.AddObserver([this](int64_t, std::string_view source, std::string_view kind,
                          const nlohmann::json& detail) { OnLogEvent(source, kind, detail); });
  agent_.set_on_call_end([this](const std::string& how) { OnAgentEndedCall(how); });
  const uint32_t ssrc_base = static_cast<uint32_t>(call_id) * 2 + 1;
  caller_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, uplink_, MakeMediaConfig(scenario, ssrc_base),
      [this](agent::Frame* out) { caller_.NextOutputFrame(out); },
      [this](const agent::Frame& f, int64_t t) { caller_.OnEarFrame(f, t); });
  agent_media_ = std::make_unique<agent::MediaEndpoint>(
      scheduler, downlink_, MakeMediaConfig(scenario, ssrc_base + 1),
      [this](agent::Frame* out) { agent_.NextOutputFrame(out); },
      [this](const agent::Frame& f, int64_t t) { agent_.OnCallerFrame(f, t); });
  caller_.set_dtmf_sender([this](char key, int ms) { caller_media_->SendDtmf(key, ms); });
  agent_media_->set_dtmf_sink([this](char key, int64_t t_us) { agent_.OnDtmf(key, t_us); });
  uplink_.SetReceiver([this](agent::Packet p) { agent_media_->OnPacket(std::move(p)); });
  downlink_.SetReceiver([this](agent::Packet p) { caller_media_->OnPacket(std::move(p)); });
}

SimCall::~SimCall() {
  scheduler_.Cancel(max_duration_task_);
  scheduler_.Cancel(agent_end_task_);
}

// The agent's events the caller needs: every final transcript of a caller turn joins that turn's
// hypothesis (a turn the caller resumed arrives in pieces), and tool events go to the caller.
void SimCall::OnLogEvent(std::string_view source, std::string_view kind,
                         const nlohmann::json& detail) {
  if (source != "agent") return;
  if (kind != "stt_final") {
    caller_.OnAgentEvent(kind, detail);
    return;
  }
  const int turn = caller_.current_user_turn();
  const auto text = detail.find("text");
  if (turn < 0 || text == detail.end() || !text->is_string() ||
      text->get_ref<const std::string&>().empty()) {
    return;
  }
  std::string& hyp = hypotheses_[static_cast<size_t>(turn)];
  if (!hyp.empty()) hyp.push_back(' ');
  hyp += text->get_ref<const std::string&>();
}

// The agent hung up or transferred after its last reply: the signal travels the downlink like
// the media, so the caller still hears what was already on its way (network and jitter buffer).
void SimCall::OnAgentEndedCall(const std::string& how) {
  if (ended_ || agent_end_task_ != agent::kNoTask) return;
  const bool transfer = how == "transfer";
  const double drain_ms = scenario_.downlink.delay_ms +
                          fakes::MaxJitterMs(MakeLinkConfig(scenario_.downlink).jitter_distribution,
                                             scenario_.downlink.jitter_ms) +
                          scenario_.agent.jitter_target_ms + agent::kFrameMs;
  agent_end_task_ = scheduler_.After(static_cast<int64_t>(drain_ms * 1000.0), [this, transfer] {
    agent_end_task_ = agent::kNoTask;
    EndWith(transfer ? "agent transferred the call" : "agent hung up", "completed",
            transfer ? CallEndedBy::kTransfer : CallEndedBy::kAgent);
  });
}

void SimCall::Start() {
  started_us_ = scheduler_.NowUs();
  log_.Emit(started_us_, "call", "start", {{"call_id", call_id_}});
  if (!caller_.setup_error().empty()) {
    EndWith(caller_.setup_error(), "failed", CallEndedBy::kOther);
    return;
  }
  agent_media_->Start();
  caller_media_->Start();
  agent_.Start();
  caller_.Start();
  const int64_t max_us =
      static_cast<int64_t>(scenario_.agent.max_call_ms * 1000.0) + 60 * agent::kMicrosPerSecond;
  max_duration_task_ = scheduler_.After(max_us, [this] {
    max_duration_task_ = agent::kNoTask;
    End("maximum call duration reached", "failed");
  });
}

void SimCall::End(const std::string& reason, const std::string& status) {
  EndWith(reason, status, CallEndedBy::kOther);
}

void SimCall::EndWith(const std::string& reason, const std::string& status, CallEndedBy by) {
  if (ended_) return;
  ended_ = true;
  scheduler_.Cancel(max_duration_task_);
  scheduler_.Cancel(agent_end_task_);
  max_duration_task_ = agent::kNoTask;
  agent_end_task_ = agent::kNoTask;
  caller_.Finish(reason, by);
  agent_.Hangup();
  caller_media_->Stop();
  agent_media_->Stop();
  log_.Emit(scheduler_.NowUs(), "call", "end",
            {{"reason", reason}, {"status", status}, {"by", CallEndedByName(by)}});
  CallRecord record = BuildRecord(reason, status, by);
  // Hand the record over from a fresh task that holds its own copy of the callback: the owner may
  // destroy this call from inside it.
  scheduler_.After(0, [fn = on_finished_, r = std::move(record)]() mutable { fn(std::move(r)); });
}

CallRecord SimCall::BuildRecord(const std::string& reason, const std::string& status,
                                CallEndedBy by) {
  CallRecord r;
  r.ended_by = CallEndedByName(by);
  r.call_id = call_id_;
  r.scenario = scenario_.name;
  r.started_us = started_us_;
  r.ended_us = scheduler_.NowUs();
  r.status = status;
  r.outcomes = caller_.outcomes();
  r.hypotheses = hypotheses_;
  r.expectations = caller_.expectations();
  bool all_passed = status == "completed";
  for (const ExpectationResult& e : r.expectations) {
    if (e.passed) continue;
    if (all_passed) {
      r.failure_reason = "turn " + std::to_string(e.turn_index) + " " + e.kind + ": " + e.detail;
    }
    all_passed = false;
  }
  if (status != "completed" && r.failure_reason.empty()) r.failure_reason = reason;
  r.task_completed = all_passed;
  r.caller_media = caller_media_->stats();
  r.agent_media = agent_media_->stats();
  r.event_hash = log_.hash();
  r.events = log_.TakeEntries();
  return r;
}

}  // namespace callsim::harness
