#include "harness/run/agent_side.h"

#include <cstdlib>
#include <stdexcept>

#include "agent/providers/resilient_llm.h"
#include "agent/providers/wire/deepgram_stt.h"
#include "agent/providers/wire/openai_llm.h"
#include "agent/providers/wire/openai_tts.h"
#include "agent/runtime/realtime_scheduler.h"
#include "agent/providers/resilient_stt.h"
#include "agent/providers/resilient_tts.h"
#include "fakes/faults/faulty_llm.h"
#include "fakes/faults/faulty_stt.h"
#include "fakes/faults/faulty_tts.h"
#include "harness/caller/ear_phrases.h"
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

constexpr const char* kDefaultLlmModel = "gpt-4o-mini";
constexpr const char* kDefaultSttModel = "nova-3";
constexpr const char* kDefaultTtsModel = "tts-1";

// The key, from the environment; "" when none is named (CheckWireProviders said if it is unset).
std::string ApiKey(const WireProviderSpec& spec) {
  if (spec.api_key_env.empty()) return "";
  const char* value = std::getenv(spec.api_key_env.c_str());
  return value == nullptr ? "" : value;
}

// The declared tools as OpenAI function tools: what a real model is offered.
nlohmann::json OpenAiTools(const std::vector<agent::ToolSpec>& tools) {
  nlohmann::json out = nlohmann::json::array();
  for (const agent::ToolSpec& t : tools) {
    nlohmann::json parameters = t.parameters;
    if (!parameters.is_object() || parameters.empty()) {
      parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};
    }
    out.push_back({{"type", "function"},
                   {"function",
                    {{"name", t.name}, {"description", t.description}, {"parameters", parameters}}}});
  }
  return out;
}

// Checks one provider; `where` names it in the message ("fakes.llm").
std::string CheckWire(const std::optional<WireProviderSpec>& wire, const char* where,
                      const char* what, std::initializer_list<std::string_view> schemes,
                      bool realtime) {
  if (!wire) return "";
  if (!realtime) {
    return std::string(where) + ".url: a provider over the wire needs real time (callsim serve, "
           "or callsim run --target)";
  }
  agent::wire::WireEndpoint endpoint;
  endpoint.url = wire->url;
  endpoint.model = wire->model.empty() ? "default" : wire->model;
  const std::string error = agent::wire::ValidateEndpoint(what, endpoint, schemes, nullptr, false);
  if (!error.empty()) return std::string(where) + ".url: " + error;
  if (!wire->api_key_env.empty() && std::getenv(wire->api_key_env.c_str()) == nullptr) {
    return std::string(where) + ".api_key_env: the environment variable " + wire->api_key_env +
           " is not set";
  }
  return "";
}

}  // namespace

std::string CheckWireProviders(const Scenario& scenario, bool realtime) {
  const FakesSpec& f = scenario.fakes;
  const std::string prefix = scenario.source_path.empty() ? "" : scenario.source_path + ": ";
  std::string error;
  auto check = [&](const std::optional<WireProviderSpec>& wire, const char* where,
                   const char* what, std::initializer_list<std::string_view> schemes) {
    if (error.empty()) error = CheckWire(wire, where, what, schemes, realtime);
  };
  check(f.stt.wire, "fakes.stt", "Deepgram STT", {"http", "https", "ws", "wss"});
  check(f.stt.secondary.wire, "fakes.stt.secondary", "Deepgram STT", {"http", "https", "ws", "wss"});
  check(f.llm.wire, "fakes.llm", "OpenAI LLM", {"http", "https"});
  check(f.llm.secondary.wire, "fakes.llm.secondary", "OpenAI LLM", {"http", "https"});
  check(f.tts.wire, "fakes.tts", "OpenAI TTS", {"http", "https"});
  check(f.tts.secondary.wire, "fakes.tts.secondary", "OpenAI TTS", {"http", "https"});
  return error.empty() ? "" : prefix + error;
}

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
  BuildProviders(script, rng, key_prefix, services, sink);
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
// A provider over the wire answers this call as the same call every time: the requests name the
// call and carry a seed drawn from the call's own stream, so a server of callsim's fakes replays
// its answers for a replayed call.
void AgentSide::BuildProviders(const fakes::LlmScript& script, const agent::Rng& rng,
                               const std::string& key_prefix, const CallServices& services,
                               agent::EventSink& sink) {
  const FakesSpec& f = scenario_.fakes;
  auto fork = [&](const char* what) { return rng.Fork(key_prefix + what); };
  auto* realtime = dynamic_cast<agent::RealtimeScheduler*>(&scheduler_);
  auto endpoint = [&](const WireProviderSpec& spec, const char* default_model, const char* what) {
    if (realtime == nullptr) {
      throw std::runtime_error(std::string(what) + ": a provider over the wire needs real time");
    }
    agent::wire::WireEndpoint e;
    e.url = spec.url;
    e.model = spec.model.empty() ? default_model : spec.model;
    e.api_key = ApiKey(spec);
    std::string call = key_prefix;
    if (!call.empty() && call.back() == '/') call.pop_back();
    agent::Rng seed_rng = fork((std::string(what) + "_wire_seed").c_str());
    e.headers = {{"X-Callsim-Call-Id", call}, {"X-Callsim-Seed", std::to_string(seed_rng.NextU64())}};
    return e;
  };
  auto wire_stt = [&](const WireProviderSpec& spec, const char* what) -> agent::SttProvider* {
    agent::wire::DeepgramSttConfig config;
    config.endpoint = endpoint(spec, kDefaultSttModel, what);
    wire_stt_.push_back(std::make_unique<agent::wire::DeepgramStt>(realtime->io(), scheduler_, config));
    return wire_stt_.back().get();
  };
  auto wire_llm = [&](const WireProviderSpec& spec, const char* what) -> agent::LlmProvider* {
    agent::wire::OpenAiLlmConfig config;
    config.endpoint = endpoint(spec, kDefaultLlmModel, what);
    if (services.tools) config.tools = OpenAiTools(*services.tools);
    wire_llm_.push_back(std::make_unique<agent::wire::OpenAiLlm>(realtime->io(), scheduler_, config));
    return wire_llm_.back().get();
  };
  auto wire_tts = [&](const WireProviderSpec& spec, const char* what) -> agent::TtsProvider* {
    agent::wire::OpenAiTtsConfig config;
    config.endpoint = endpoint(spec, kDefaultTtsModel, what);
    if (!spec.voice.empty()) config.voice = spec.voice;
    wire_tts_.push_back(std::make_unique<agent::wire::OpenAiTts>(realtime->io(), scheduler_, config));
    return wire_tts_.back().get();
  };
  agent::SttProvider* fake_stt = &stt_;
  if (f.stt.engine == RecognizerEngine::kAsr) {
    fakes::AsrSttConfig config;
    config.final_latency = f.stt.final_latency;
    config.capacity = services.limiters.stt;
    config.phrases = CallerPhrases(scenario_);
    asr_stt_ = std::make_unique<fakes::AsrStt>(scheduler_, fork("stt"), std::move(config));
    fake_stt = asr_stt_.get();
  }
  agent::SttProvider* stt = WithFaults<fakes::FaultyStt, agent::SttProvider>(
      scheduler_, fork("stt_faults"), f.stt.faults,
      f.stt.wire ? wire_stt(*f.stt.wire, "stt") : fake_stt, &stt_layers_);
  agent::LlmProvider* llm = WithFaults<fakes::FaultyLlm, agent::LlmProvider>(
      scheduler_, fork("llm_faults"), f.llm.faults,
      f.llm.wire ? wire_llm(*f.llm.wire, "llm") : &llm_, &llm_layers_);
  agent::TtsProvider* tts = WithFaults<fakes::FaultyTts, agent::TtsProvider>(
      scheduler_, fork("tts_faults"), f.tts.faults,
      f.tts.wire ? wire_tts(*f.tts.wire, "tts") : &tts_, &tts_layers_);
  agent::SttProvider* stt2 = nullptr;
  agent::LlmProvider* llm2 = nullptr;
  agent::TtsProvider* tts2 = nullptr;
  // A secondary is another vendor: it does not share the primary's capacity.
  if (f.stt.secondary.present) {
    agent::SttProvider* inner = nullptr;
    if (f.stt.secondary.wire) {
      inner = wire_stt(*f.stt.secondary.wire, "stt2");
    } else {
      stt2_ = std::make_unique<fakes::ModemStt>(scheduler_, fork("stt2"), MakeSttConfig(f.stt, nullptr));
      inner = stt2_.get();
    }
    stt2 = WithFaults<fakes::FaultyStt, agent::SttProvider>(
        scheduler_, fork("stt2_faults"), f.stt.secondary.faults, inner, &stt_layers_);
  }
  if (f.llm.secondary.present) {
    agent::LlmProvider* inner = nullptr;
    if (f.llm.secondary.wire) {
      inner = wire_llm(*f.llm.secondary.wire, "llm2");
    } else {
      llm2_ = std::make_unique<fakes::RuleLlm>(scheduler_, fork("llm2"),
                                               MakeLlmConfig(f.llm, nullptr), script);
      inner = llm2_.get();
    }
    llm2 = WithFaults<fakes::FaultyLlm, agent::LlmProvider>(
        scheduler_, fork("llm2_faults"), f.llm.secondary.faults, inner, &llm_layers_);
  }
  if (f.tts.secondary.present) {
    agent::TtsProvider* inner = nullptr;
    if (f.tts.secondary.wire) {
      inner = wire_tts(*f.tts.secondary.wire, "tts2");
    } else {
      tts2_ = std::make_unique<fakes::ModemTts>(scheduler_, fork("tts2"), MakeTtsConfig(f.tts, nullptr));
      inner = tts2_.get();
    }
    tts2 = WithFaults<fakes::FaultyTts, agent::TtsProvider>(
        scheduler_, fork("tts2_faults"), f.tts.secondary.faults, inner, &tts_layers_);
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
