// One simulated call, wired end to end: a Caller and the reference VoiceAgent, each with its own
// MediaEndpoint (codec, RTP, jitter buffer), joined by an uplink and a downlink SimLink, with the
// fake STT, LLM and TTS behind the agent. Every random draw comes from streams forked from the run
// seed by "call/<id>/...", so adding a caller never changes another caller's call.
//
// The call ends when the caller hangs up, when the agent hangs up or transfers (end_call,
// transfer_call: after the audio already sent has reached the caller), at the maximum duration,
// or when the owner ends it. DTMF keys go from the caller's endpoint to the agent as RFC 4733
// events; the agent's transcripts and tool events reach the caller through the call's log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/net/sim_link.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tts/modem_tts.h"
#include "harness/caller/caller.h"
#include "harness/run/call_log.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// Everything the store needs about one finished call.
struct CallRecord {
  int call_id = 0;
  std::string scenario;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::string status;    // completed | failed | dropped
  std::string ended_by;  // caller | agent | transfer | other (limits, setup errors, the owner)
  bool task_completed = false;
  std::string failure_reason;
  std::vector<TurnOutcome> outcomes;
  std::vector<std::string> hypotheses;  // the agent's final transcript per scenario turn
  std::vector<ExpectationResult> expectations;
  std::vector<EventEntry> events;
  uint64_t event_hash = 0;
  agent::MediaEndpointStats caller_media;  // what the caller received (downlink)
  agent::MediaEndpointStats agent_media;   // what the agent received (uplink)
};

class SimCall {
 public:
  using FinishedFn = std::function<void(CallRecord record)>;

  // The fakes share the run's `limiters` (a null limiter: that provider is unlimited).
  SimCall(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
          int call_id, const agent::Rng& run_rng, const fakes::ProviderLimiters& limiters,
          FinishedFn on_finished);
  // Unlimited providers.
  SimCall(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
          int call_id, const agent::Rng& run_rng, FinishedFn on_finished);
  ~SimCall();
  SimCall(const SimCall&) = delete;
  SimCall& operator=(const SimCall&) = delete;

  // Starts the call; a caller that cannot take part (setup_error) ends it at once as failed.
  void Start();
  // Ends the call now (run limit, abort). `status` is the call's stored status.
  void End(const std::string& reason, const std::string& status);
  bool ended() const { return ended_; }
  int call_id() const { return call_id_; }

 private:
  void EndWith(const std::string& reason, const std::string& status, CallEndedBy by);
  void OnAgentEndedCall(const std::string& how);
  void OnLogEvent(std::string_view source, std::string_view kind, const nlohmann::json& detail);
  CallRecord BuildRecord(const std::string& reason, const std::string& status, CallEndedBy by);

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  FinishedFn on_finished_;
  CallLog log_;
  std::vector<std::string> hypotheses_;

  fakes::ModemStt stt_;
  fakes::RuleLlm llm_;
  fakes::ModemTts tts_;
  fakes::SimLink uplink_;
  fakes::SimLink downlink_;
  agent::VoiceAgent agent_;
  Caller caller_;
  std::unique_ptr<agent::MediaEndpoint> caller_media_;
  std::unique_ptr<agent::MediaEndpoint> agent_media_;

  int64_t started_us_ = 0;
  agent::TaskId max_duration_task_ = agent::kNoTask;
  agent::TaskId agent_end_task_ = agent::kNoTask;  // the agent ended the call: the line drains
  bool ended_ = false;
};

// Maps the scenario's specs onto the component configurations (shared with the CLI and tests).
agent::AgentConfig MakeAgentConfig(const AgentSpec& spec);
fakes::SimLinkConfig MakeLinkConfig(const LinkSpec& spec);

}  // namespace callsim::harness
