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
#include "agent/observability/metrics_event_sink.h"
#include "agent/pipeline/agent_events.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/providers/resilient_llm.h"
#include "agent/providers/resilient_stt.h"
#include "agent/providers/resilient_tts.h"
#include "agent/runtime/check.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/tools/circuit_breaker.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/faults/faulty_llm.h"
#include "fakes/faults/faulty_stt.h"
#include "fakes/faults/faulty_tts.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/net/sim_link.h"
#include "fakes/stt/modem_stt.h"
#include "fakes/tools/fake_tool_backends.h"
#include "fakes/tts/modem_tts.h"
#include "harness/caller/caller.h"
#include "harness/run/call_config.h"
#include "harness/run/call_log.h"
#include "harness/run/status.h"
#include "harness/scenario/scenario.h"
#include "harness/store/rows.h"

namespace callsim::harness {

// Everything the store needs about one finished call.
struct CallRecord {
  int call_id = 0;
  std::string scenario;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  CallStatus status = CallStatus::kCompleted;
  CallEndedBy ended_by = CallEndedBy::kOther;
  bool task_completed = false;
  std::string failure_reason;
  std::vector<TurnOutcome> outcomes;
  std::vector<std::string> hypotheses;  // the agent's final transcript per scenario turn
  std::vector<ExpectationResult> expectations;
  std::vector<EventEntry> events;
  uint64_t event_hash = 0;
  agent::MediaEndpointStats caller_media;  // what the caller received (downlink)
  agent::MediaEndpointStats agent_media;   // what the agent received (uplink)
  // The audit record of every tool call the model proposed (run_id/call_id/seq set on storing).
  std::vector<ToolCallRow> tool_calls;
  // Executed tool calls that should never have run: an undeclared or not-allowed tool, or a
  // destructive one without the caller's yes. Judged here, apart from the agent's own verdicts.
  int unsafe_tool_executions = 0;
  int tool_side_effects = 0;        // changes the fake back ends actually made
  agent::UsageEvent usage;          // the agent's "usage" event (zero without one)
  std::vector<agent::ChatMessage> transcript;  // the agent's history at the end of the call
  int false_interruptions = 0;
};

// The agent's final transcript of the record's turn `turn_index` (a TurnOutcome's), which must
// be one of the call's turns: a WER scored against another turn's words would be wrong silently.
inline const std::string& TurnHypothesis(const CallRecord& r, int turn_index) {
  CALLSIM_CHECK(turn_index >= 0 && static_cast<size_t>(turn_index) < r.hypotheses.size());
  return r.hypotheses[static_cast<size_t>(turn_index)];
}

// What every call of a run shares: provider capacity, the tool back ends' circuit breakers, the
// Prometheus metrics and the declared tools. Null members: the call has its own / none.
struct CallServices {
  fakes::ProviderLimiters limiters;
  agent::CircuitBreakers* breakers = nullptr;
  agent::AgentMetrics* metrics = nullptr;
  std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
};

class SimCall {
 public:
  using FinishedFn = std::function<void(CallRecord record)>;

  // The fakes share the run's services (a null limiter: that provider is unlimited).
  SimCall(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
          int call_id, const agent::Rng& run_rng, const CallServices& services,
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
  void End(const std::string& reason, CallStatus status);
  bool ended() const { return ended_; }
  int call_id() const { return call_id_; }

 private:
  void EndWith(const std::string& reason, CallStatus call_status, CallEndedBy by);
  void OnAgentEndedCall(const std::string& how);
  void OnLogEvent(std::string_view source, std::string_view kind, const nlohmann::json& detail);
  CallRecord BuildRecord(const std::string& reason, CallStatus status, CallEndedBy by);

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  FinishedFn on_finished_;
  CallLog log_;
  std::vector<std::string> hypotheses_;

  void BuildProviders(const fakes::LlmScript& script, const agent::Rng& run_rng);
  void OnToolAudit(int64_t t_us, const nlohmann::json& detail);
  agent::EventSink& AgentSink();

  CallServices services_;
  std::unique_ptr<agent::MetricsEventSink> metrics_sink_;
  // Providers: the fakes (primary, and a secondary when configured), fault injection around
  // them, and the agent's retry/failover around those. Declared before the agent: they outlive it.
  fakes::ModemStt stt_;
  fakes::RuleLlm llm_;
  fakes::ModemTts tts_;
  std::unique_ptr<fakes::ModemStt> stt2_;
  std::unique_ptr<fakes::RuleLlm> llm2_;
  std::unique_ptr<fakes::ModemTts> tts2_;
  std::vector<std::unique_ptr<agent::SttProvider>> stt_layers_;
  std::vector<std::unique_ptr<agent::LlmProvider>> llm_layers_;
  std::vector<std::unique_ptr<agent::TtsProvider>> tts_layers_;
  agent::SttProvider* agent_stt_ = nullptr;
  agent::LlmProvider* agent_llm_ = nullptr;
  agent::TtsProvider* agent_tts_ = nullptr;
  fakes::FakeToolBackendMap tool_backends_;
  agent::ToolBackends tool_view_;
  agent::CircuitBreakers own_breakers_;
  std::vector<ToolCallRow> tool_calls_;
  int false_interruptions_ = 0;
  agent::UsageEvent usage_;
  fakes::SimLink uplink_;
  fakes::SimLink downlink_;
  std::unique_ptr<agent::VoiceAgent> agent_;
  Caller caller_;
  std::unique_ptr<agent::MediaEndpoint> caller_media_;
  std::unique_ptr<agent::MediaEndpoint> agent_media_;

  int64_t started_us_ = 0;
  agent::ScopedTask max_duration_task_{scheduler_};
  agent::ScopedTask agent_end_task_{scheduler_};  // the agent ended the call: the line drains
  bool ended_ = false;
};

}  // namespace callsim::harness
