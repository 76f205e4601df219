#include "harness/run/agent_side.h"

#include "agent/providers/resilient_llm.h"
#include "agent/providers/resilient_stt.h"
#include "agent/providers/resilient_tts.h"
#include "fakes/faults/faulty_llm.h"
#include "fakes/faults/faulty_stt.h"
#include "fakes/faults/faulty_tts.h"
#include "harness/run/call_config.h"

namespace callsim::harness {
namespace {

// Wraps `inner` in fault injection when the spec asks for any; returns what the next layer uses.
template <typename Faulty, typename Provider>
Provider* WithFaults(agent::Scheduler& scheduler, const agent::Rng& rng, const FaultsSpec& spec,
                     Provider* inner, std::vector<std::unique_ptr<Provider>>* layers) {
  if (!spec.any()) return inner;
  layers->push_back(std::make_unique<Faulty>(scheduler, rng, MakeFaultSpec(spec), *inner));
  return layers->back().get();
}

const std::vector<agent::ToolSpec>& DeclaredTools(const CallServices& services) {
  static const std::vector<agent::ToolSpec> kNoTools;
  return services.tools ? *services.tools : kNoTools;
}

}  // namespace

AgentSide::AgentSide(agent::Scheduler& scheduler, const Scenario& scenario,
                     const fakes::LlmScript& script, const agent::Rng& rng,
                     const std::string& key_prefix, const CallServices& services,
                     agent::EventSink& sink)
    : scheduler_(scheduler),
      scenario_(scenario),
      stt_(scheduler, rng.Fork(key_prefix + "stt"),
           MakeSttConfig(scenario.fakes.stt, services.limiters.stt)),
      llm_(scheduler, rng.Fork(key_prefix + "llm"),
           MakeLlmConfig(scenario.fakes.llm, services.limiters.llm), script),
      tts_(scheduler, rng.Fork(key_prefix + "tts"),
           MakeTtsConfig(scenario.fakes.tts, services.limiters.tts)) {
  BuildProviders(script, rng, key_prefix, sink);
  agent_ = std::make_unique<agent::VoiceAgent>(
      scheduler, MakeAgentConfig(scenario.agent, DeclaredTools(services)), *agent_stt_,
      *agent_llm_, *agent_tts_, sink);
  tool_backends_ = fakes::MakeFakeToolBackends(scheduler, rng.Fork(key_prefix + "tools"),
                                               MakeToolBackendSpecs(scenario.fakes.tools));
  tool_view_ = fakes::ToolBackendsView(tool_backends_);
  agent_->EnableTools(tool_view_, services.breakers ? *services.breakers : own_breakers_);
}

AgentSide::~AgentSide() = default;

int AgentSide::tool_side_effects() const { return fakes::TotalExecutedActions(tool_backends_); }

// Fakes -> fault injection -> (secondary) -> retry and failover -> the agent.
void AgentSide::BuildProviders(const fakes::LlmScript& script, const agent::Rng& rng,
                               const std::string& key_prefix, agent::EventSink& sink) {
  const FakesSpec& f = scenario_.fakes;
  auto fork = [&](const char* what) { return rng.Fork(key_prefix + what); };
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
    stt_layers_.push_back(
        std::make_unique<agent::ResilientStt>(scheduler_, sink, policy, *stt, stt2, kSttReplayMs));
    llm_layers_.push_back(std::make_unique<agent::ResilientLlm>(scheduler_, sink, policy, *llm, llm2));
    tts_layers_.push_back(std::make_unique<agent::ResilientTts>(scheduler_, sink, policy, *tts, tts2));
    stt = stt_layers_.back().get();
    llm = llm_layers_.back().get();
    tts = tts_layers_.back().get();
  }
  agent_stt_ = stt;
  agent_llm_ = llm;
  agent_tts_ = tts;
}

}  // namespace callsim::harness
