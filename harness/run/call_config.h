// The scenario mapped onto the configurations of one call's components: the fakes (STT, LLM, TTS,
// tool back ends) and their fault injection, the links, both media endpoints, the agent and its
// retry policy. Pure functions of the scenario's typed specs (and a call's SSRC); SimCall wires
// the components and forks their random streams, this unit only says how each is configured.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/pipeline/agent_config.h"
#include "agent/providers/retry_policy.h"
#include "agent/tools/tool_spec.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/faults/fault_spec.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/net/sim_link.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tools/fake_tool_backend.h"
#include "fakes/tts/modem_tts.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// The key a call's random stream `what` is forked by from the run seed: "call/<id>/<what>".
std::string CallKey(int call_id, const char* what);

// The fakes; `capacity` is shared by every call of a run (nullptr: unlimited, as for a secondary,
// which is another vendor).
fakes::ModemSttConfig MakeSttConfig(const SttSpec& spec,
                                    std::shared_ptr<fakes::CapacityLimiter> capacity);
fakes::RuleLlmConfig MakeLlmConfig(const LlmSpec& spec,
                                   std::shared_ptr<fakes::CapacityLimiter> capacity);
fakes::ModemTtsConfig MakeTtsConfig(const TtsSpec& spec,
                                    std::shared_ptr<fakes::CapacityLimiter> capacity);

// Fault injection around a fake; each outage { start_ms, duration_ms } becomes the window
// [start_ms, start_ms + duration_ms).
fakes::FaultSpec MakeFaultSpec(const FaultsSpec& spec);

// Every fake back end (orders, appointments, payments, transfer) exists in every call, since a
// tool's back end may be named in the tool file only; the scenario's fakes.tools entries override
// the defaults of the ones they name.
std::map<std::string, fakes::FakeToolBackendSpec> MakeToolBackendSpecs(
    const std::vector<ToolBackendSpec>& specs);

// One direction of the network.
fakes::SimLinkConfig MakeLinkConfig(const LinkSpec& spec);

// A media endpoint (either side) with the scenario's codec and the agent's jitter buffer; a
// max_ms below min_ms is raised to min_ms.
agent::MediaEndpointConfig MakeMediaConfig(const Scenario& s, uint32_t ssrc);

agent::RetryPolicy MakeRetryPolicy(const FallbackSpec& spec);

// The agent. With fallback on, its provider timeout outlasts the retry and failover ladder by at
// least a second, so the agent never gives up while a retry still runs.
agent::AgentConfig MakeAgentConfig(const AgentSpec& spec);
// With the declared tools (agent.tools.file, loaded by the runner) and their allowlist.
agent::AgentConfig MakeAgentConfig(const AgentSpec& spec,
                                   const std::vector<agent::ToolSpec>& declared_tools);

}  // namespace callsim::harness
