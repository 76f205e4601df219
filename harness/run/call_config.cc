#include "harness/run/call_config.h"

#include <algorithm>
#include <utility>

namespace callsim::harness {

std::string CallKey(int call_id, const char* what) {
  return "call/" + std::to_string(call_id) + "/" + what;
}
namespace {

// A scenario outage { start_ms, duration_ms } as the fakes' [start_ms, end_ms) window.
template <typename Window>
std::vector<Window> OutageWindows(const std::vector<OutageSpec>& outages) {
  std::vector<Window> windows;
  for (const OutageSpec& o : outages) windows.push_back({o.start_ms, o.start_ms + o.duration_ms});
  return windows;
}

}  // namespace

fakes::ModemSttConfig MakeSttConfig(const SttSpec& spec,
                                    std::shared_ptr<fakes::CapacityLimiter> capacity) {
  fakes::ModemSttConfig config;
  config.capacity = std::move(capacity);
  config.final_latency = spec.final_latency;
  switch (spec.profile) {
    case SttProfile::kDefault: config.profile = fakes::SttRobustnessProfile::Default(); break;
    case SttProfile::kPerfect: config.profile = fakes::SttRobustnessProfile::Perfect(); break;
  }
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
  if (spec.engine == VoiceEngine::kEspeak) {
    config.espeak = fakes::EspeakVoiceSpec{spec.espeak_voice, spec.espeak_words_per_minute,
                                           spec.espeak_pitch};
  }
  return config;
}

agent::MediaEndpointConfig MakeMediaConfig(const Scenario& s, uint32_t ssrc) {
  agent::MediaEndpointConfig config;
  config.codec = s.codec;
  config.ssrc = ssrc;
  config.jitter.target_delay_ms = static_cast<int>(s.agent.jitter_buffer.target_ms);
  config.jitter.adaptive = s.agent.jitter_buffer.adaptive;
  config.jitter.min_delay_ms = static_cast<int>(s.agent.jitter_buffer.min_ms);
  config.jitter.max_delay_ms =
      static_cast<int>(std::max(s.agent.jitter_buffer.min_ms, s.agent.jitter_buffer.max_ms));
  config.codec_options.opus.sample_rate_hz = s.opus.sample_rate_hz;
  config.codec_options.opus.fec = s.opus.fec;
  config.codec_options.opus.expected_loss_pct = s.opus.expected_loss_pct;
  config.codec_options.opus.bitrate_bps = s.opus.bitrate_bps;
  config.codec_options.opus.complexity = s.opus.complexity;
  return config;
}

fakes::FaultSpec MakeFaultSpec(const FaultsSpec& spec) {
  fakes::FaultSpec faults;
  faults.error_rate = spec.error_rate;
  faults.timeout_rate = spec.timeout_rate;
  faults.drop_rate = spec.drop_rate;
  faults.outages = OutageWindows<fakes::OutageWindow>(spec.outages);
  return faults;
}

agent::RetryPolicy MakeRetryPolicy(const FallbackSpec& spec) {
  agent::RetryPolicy policy;
  policy.retries = spec.retries;
  policy.backoff_ms = spec.backoff_ms;
  policy.first_response_timeout_ms = spec.first_response_timeout_ms;
  return policy;
}

std::map<std::string, fakes::FakeToolBackendSpec> MakeToolBackendSpecs(
    const std::vector<ToolBackendSpec>& specs) {
  std::map<std::string, fakes::FakeToolBackendSpec> out;
  for (std::string_view name : fakes::kFakeToolBackendNames) out[std::string(name)] = {};
  for (const ToolBackendSpec& spec : specs) {
    fakes::FakeToolBackendSpec& b = out[spec.name];
    b.latency = spec.latency;
    b.error_rate = spec.error_rate;
    b.timeout_rate = spec.timeout_rate;
    b.outages = OutageWindows<fakes::ToolOutage>(spec.outages);
  }
  return out;
}

agent::AgentConfig MakeAgentConfig(const AgentSpec& spec) {
  return MakeAgentConfig(spec, {});
}

agent::AgentConfig MakeAgentConfig(const AgentSpec& spec,
                                   const std::vector<agent::ToolSpec>& declared_tools) {
  agent::AgentConfig config;
  config.vad.threshold_dbfs = spec.vad_threshold_dbfs;
  config.vad.start_ms = spec.vad_start_ms;
  config.vad.stop_ms = spec.vad_stop_ms;
  config.endpoint_delay_ms = spec.endpoint_delay_ms;
  config.endpoint_max_delay_ms = spec.endpoint_max_delay_ms;
  config.endpoint_finished_delay_ms = spec.endpoint_finished_delay_ms;
  config.first_clause_words = spec.first_clause_words;
  config.preemptive_generation = spec.preemptive_generation;
  config.barge_in_min_ms = spec.barge_in_min_ms;
  config.barge_in_min_words = spec.barge_in_min_words;
  config.false_interruption_timeout_ms = spec.false_interruption_timeout_ms;
  config.echo_guard_db = spec.echo_guard_db;
  config.greeting = spec.greeting;
  if (!spec.system_prompt.empty()) config.system_prompt = spec.system_prompt;
  config.max_call_ms = spec.max_call_ms;
  config.silence_timeout_ms = spec.silence_timeout_ms;
  config.max_silence_prompts = spec.max_silence_prompts;
  config.tools.tools = declared_tools;
  config.tools.allowlist = spec.tools.allow;
  config.tools.max_steps_per_turn = spec.tools.max_steps_per_turn;
  config.tool_filler_after_ms = spec.tools.filler_after_ms;
  if (spec.fallback.enabled) {
    // The agent's own provider timeout must not fire while retries and failover still run.
    const double ladder_ms = agent::WorstCaseFirstResponseMs(MakeRetryPolicy(spec.fallback), true);
    config.provider_timeout_ms = std::max(config.provider_timeout_ms, ladder_ms + 1000);
  }
  return config;
}

fakes::SimLinkConfig MakeLinkConfig(const LinkSpec& spec) {
  fakes::SimLinkConfig config;
  config.delay_ms = spec.delay_ms;
  config.jitter_ms = spec.jitter_ms;
  config.jitter_distribution = spec.jitter_distribution;
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

}  // namespace callsim::harness
