// Structured events: every state transition and measurement point of a call is emitted here.
// The harness records them (per call, in order) into the store and folds them into the run's
// event-log hash; the agent running alone can log them. Timestamps come from the Scheduler.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace callsim::agent {

// The components that emit events: a closed set. Their kinds are declared once per source:
// agent_events (agent/pipeline/agent_events.h), caller_events (harness/caller/caller_events.h),
// call_events (harness/run/call_log.h).
namespace event_sources {
inline constexpr std::string_view kAgent = "agent";    // the voice agent and its providers
inline constexpr std::string_view kCaller = "caller";  // the simulated caller
inline constexpr std::string_view kCall = "call";      // a simulated call's own start and end
}  // namespace event_sources

class EventSink {
 public:
  virtual ~EventSink() = default;
  // `source` names the component (one of event_sources), `kind` the event ("state", "stt_final",
  // "barge_in"...). `detail` must be deterministic (no pointers, no wall time).
  virtual void Emit(int64_t t_us, std::string_view source, std::string_view kind,
                    const nlohmann::json& detail) = 0;
};

// Discards everything.
class NullEventSink final : public EventSink {
 public:
  void Emit(int64_t, std::string_view, std::string_view, const nlohmann::json&) override {}
};

}  // namespace callsim::agent
