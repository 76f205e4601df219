// The agent's half of one call, built from a scenario: the fake STT, LLM and TTS (and a secondary
// of each when configured), or providers over their wire APIs (fakes.<kind>.url, real time only), fault injection around them, the retry and failover decorators, the
// fake tool back ends, and the reference VoiceAgent on top. A SimCall joins it to a simulated
// caller in virtual time; `callsim serve` joins it to a Twilio media stream in real time.
//
// Every random stream is forked from `rng` by `key_prefix` + a fixed name ("stt", "llm", "tts",
// "tools", "stt_faults", "llm2", ...), so the same prefix and seed give the same call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/pipeline/voice_agent.h"
#include "agent/providers/llm.h"
#include "agent/providers/stt.h"
#include "agent/providers/tts.h"
#include "agent/runtime/events.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/tools/circuit_breaker.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/stt/asr_stt.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tools/fake_tool_backends.h"
#include "fakes/tts/modem_tts.h"
#include "harness/run/call_record.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// What is wrong with the scenario's wire providers (fakes.<kind>.url and their secondaries) for
// a run in real time (`realtime`) or virtual time: a provider over the wire needs real sockets
// and the real clock; its URL must parse; its api_key_env must be set. "" when usable.
std::string CheckWireProviders(const Scenario& scenario, bool realtime);

class AgentSide {
 public:
  // The agent reports to `sink`; `services` are shared with the other calls of the run (null
  // members: this call has its own). Everything referenced must outlive this.
  AgentSide(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
            const agent::Rng& rng, const std::string& key_prefix, const CallServices& services,
            agent::EventSink& sink);
  ~AgentSide();
  AgentSide(const AgentSide&) = delete;
  AgentSide& operator=(const AgentSide&) = delete;

  agent::VoiceAgent& agent() { return *agent_; }
  const agent::VoiceAgent& agent() const { return *agent_; }
  // Changes the fake tool back ends actually made.
  int tool_side_effects() const;

 private:
  void BuildProviders(const fakes::LlmScript& script, const agent::Rng& rng,
                      const std::string& key_prefix, const CallServices& services,
                      agent::EventSink& sink);

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  // Providers: the fakes (primary, and a secondary when configured), fault injection around
  // them, and the agent's retry/failover around those. Declared before the agent: they outlive it.
  fakes::ModemStt stt_;
  fakes::RuleLlm llm_;
  fakes::ModemTts tts_;
  std::unique_ptr<fakes::ModemStt> stt2_;
  std::unique_ptr<fakes::AsrStt> asr_stt_;  // fakes.stt.engine asr: in place of stt_
  std::unique_ptr<fakes::RuleLlm> llm2_;
  std::unique_ptr<fakes::ModemTts> tts2_;
  // Providers over the wire (fakes.<kind>.url), primary and secondary.
  std::vector<std::unique_ptr<agent::SttProvider>> wire_stt_;
  std::vector<std::unique_ptr<agent::LlmProvider>> wire_llm_;
  std::vector<std::unique_ptr<agent::TtsProvider>> wire_tts_;
  std::vector<std::unique_ptr<agent::SttProvider>> stt_layers_;
  std::vector<std::unique_ptr<agent::LlmProvider>> llm_layers_;
  std::vector<std::unique_ptr<agent::TtsProvider>> tts_layers_;
  agent::SttProvider* agent_stt_ = nullptr;
  agent::LlmProvider* agent_llm_ = nullptr;
  agent::TtsProvider* agent_tts_ = nullptr;
  fakes::FakeToolBackendMap tool_backends_;
  agent::ToolBackends tool_view_;
  agent::CircuitBreakers own_breakers_;
  std::unique_ptr<agent::VoiceAgent> agent_;
};

}  // namespace callsim::harness
