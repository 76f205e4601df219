// What one finished call leaves behind for the store and the run's metrics, whichever way it ran
// (a SimCall in virtual time, a WireCall over a socket), and what the calls of a run share.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/media_endpoint.h"
#include "agent/observability/agent_metrics.h"
#include "agent/pipeline/conversation_history.h"
#include "agent/pipeline/agent_events.h"
#include "agent/postcall/call_cost.h"
#include "agent/runtime/check.h"
#include "agent/tools/circuit_breaker.h"
#include "agent/tools/tool_spec.h"
#include "fakes/capacity/capacity_limiter.h"
#include "harness/caller/audio_tape.h"
#include "harness/caller/caller.h"
#include "harness/run/call_log.h"
#include "harness/run/status.h"
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
  // False when the agent's events did not reach the harness (an agent over the wire in another
  // process): there are no transcripts to score, so the turns carry no WER.
  bool agent_transcripts = true;
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
  // The RTP media per direction and measuring party (SIP calls; empty otherwise).
  std::vector<CallMediaRow> media;
  // The caller's audio, closed at the call's end; null unless RunCall::RecordAudio asked for it.
  std::shared_ptr<const AudioTape> audio;
  // Where the recording was written, relative to the database's folder (calls.recording); empty:
  // none. Set by the runner once the call's verdict is known.
  std::string recording;
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
  // When set, a call that runs on a clock of its own (a lane, load_run.h) takes its limiters
  // from this, made on that clock, instead of `limiters`.
  std::function<fakes::ProviderLimiters(agent::Scheduler& clock)> own_limiters;
  agent::CircuitBreakers* breakers = nullptr;
  agent::AgentMetrics* metrics = nullptr;
  std::shared_ptr<const std::vector<agent::ToolSpec>> tools;
};

}  // namespace callsim::harness
