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
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/net/sim_link.h"
#include "harness/caller/caller.h"
#include "harness/run/agent_side.h"
#include "harness/run/call_config.h"
#include "harness/run/call_record.h"
#include "harness/run/call_recorder.h"
#include "harness/run/call_log.h"
#include "harness/run/run_call.h"
#include "harness/run/status.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

class SimCall final : public RunCall {
 public:

  // The fakes share the run's services (a null limiter: that provider is unlimited).
  SimCall(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
          int call_id, const agent::Rng& run_rng, const CallServices& services,
          FinishedFn on_finished);
  // Unlimited providers.
  SimCall(agent::Scheduler& scheduler, const Scenario& scenario, const fakes::LlmScript& script,
          int call_id, const agent::Rng& run_rng, FinishedFn on_finished);
  ~SimCall() override;
  SimCall(const SimCall&) = delete;
  SimCall& operator=(const SimCall&) = delete;

  void RecordAudio(int64_t max_samples) override { record_max_samples_ = max_samples; }
  // Starts the call; a caller that cannot take part (setup_error) ends it at once as failed.
  void Start() override;
  // Ends the call now (run limit, abort). `status` is the call's stored status.
  void End(const std::string& reason, CallStatus status) override;
  bool ended() const override { return ended_; }
  int call_id() const { return call_id_; }

 private:
  void EndWith(const std::string& reason, CallStatus call_status, CallEndedBy by);
  void OnAgentEndedCall(const std::string& how);

  agent::Scheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  FinishedFn on_finished_;
  CallServices services_;
  CallLog log_;
  std::unique_ptr<agent::MetricsEventSink> metrics_sink_;  // wraps log_ when metrics are kept
  CallRecorder recorder_;
  AgentSide agent_side_;
  fakes::SimLink uplink_;
  fakes::SimLink downlink_;
  Caller caller_;
  std::unique_ptr<agent::MediaEndpoint> caller_media_;
  std::unique_ptr<agent::MediaEndpoint> agent_media_;

  int64_t started_us_ = 0;
  int64_t record_max_samples_ = 0;      // 0: the call is not recorded
  std::shared_ptr<AudioTape> tape_;     // while the call runs, when recorded
  agent::ScopedTask max_duration_task_{scheduler_};
  agent::ScopedTask agent_end_task_{scheduler_};  // the agent ended the call: the line drains
  bool ended_ = false;
};

}  // namespace callsim::harness
