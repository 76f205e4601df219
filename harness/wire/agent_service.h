// The reference agent behind `callsim serve`: every Twilio media stream gets its own call, built
// from a scenario-format file's agent, fakes and tools sections (AgentSide, as in a simulated
// call), on the server worker the stream lives on. The call's randomness is forked from the
// server seed by "call/<callSid>/", so a call with the same callSid replays its content.
//
// Each finished call is stored like a run's call (events, tool audit, post-call report; no turns
// or expectations: those are the caller's) in one run of mode 'realtime'. Stores happen on one
// writer thread, off the workers, from a bounded queue (a call beyond it is counted as not
// stored, never blocking a worker). The agent's Prometheus metrics are shared by every call.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "agent/observability/agent_metrics.h"
#include "agent/server/server_metrics.h"
#include "agent/server/stream_session.h"
#include "agent/server/twilio_agent_stream.h"
#include "agent/tools/circuit_breaker.h"
#include "harness/run/call_record.h"
#include "harness/run/runner.h"
#include "harness/store/store.h"
#include "harness/wire/event_relay.h"

namespace callsim::harness {

struct AgentServiceOptions {
  uint64_t seed = 1;
  std::string agent_arg;  // the --agent file as given, for the stored run
  agent::TwilioStreamConfig stream;
  size_t max_pending_stores = 1024;
  EventRelay* relay = nullptr;  // publishes each call's agent events (--target self)
  std::function<void(std::string_view)> log;  // from any thread; may be empty
};

class AgentService {
 public:
  // `planned` (its scenario, script and tools) must outlive the service; `store` may be null (no
  // --db) and must outlive it. With a store, a run is begun at once.
  AgentService(const PlannedScenario& planned, AgentServiceOptions options, Store* store);
  // Finish(false) if not finished.
  ~AgentService();
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // The media statistics of a call carried over RTP, read once when the call finishes.
  using MediaRowsFn = std::function<std::vector<CallMediaRow>()>;

  // One TwilioAgentStream per stream (HttpServer's session factory); `server_metrics` may be null.
  std::unique_ptr<agent::StreamSession> MakeSession(agent::StreamIo io,
                                                    agent::ServerMetrics* server_metrics);
  agent::AgentMetrics& metrics() { return metrics_; }
  // A call that is not a Twilio stream (a SIP call): the agent for `call_sid` on `scheduler`,
  // reporting to `agent_events`; `media` (may be empty) adds the call's RTP rows when it ends.
  std::unique_ptr<agent::ServedCall> StartCall(const std::string& call_sid,
                                               agent::Scheduler& scheduler,
                                               agent::EventSink& agent_events, MediaRowsFn media);
  const PlannedScenario& planned() const { return planned_; }
  uint64_t seed() const { return options_.seed; }
  void Log(const std::string& line) const;

  // After the server has shut down (no call left): stores what is queued and finishes the run,
  // 'completed' or 'aborted'. Idempotent.
  void Finish(bool aborted);

  int64_t run_id() const { return run_id_; }
  uint64_t calls_finished() const { return calls_finished_.load(); }
  uint64_t calls_not_stored() const { return calls_not_stored_.load(); }

 private:
  class HostedCall;
  std::unique_ptr<agent::ServedCall> StartCall(const agent::twilio::Start& start,
                                               agent::Scheduler& scheduler,
                                               agent::EventSink& agent_events);
  agent::CircuitBreakers& BreakersFor(agent::Scheduler& scheduler);
  void OnFinished(CallRecord record);
  void WriterLoop();

  const PlannedScenario& planned_;
  AgentServiceOptions options_;
  Store* store_;
  int64_t run_id_ = 0;
  agent::AgentMetrics metrics_;
  std::atomic<int> next_call_id_{0};
  std::atomic<uint64_t> calls_finished_{0};
  std::atomic<uint64_t> calls_not_stored_{0};
  std::mutex breakers_mutex_;
  std::map<agent::Scheduler*, std::unique_ptr<agent::CircuitBreakers>> breakers_;  // per worker

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<CallRecord> queue_;
  bool stopping_ = false;
  bool finished_ = false;
  std::thread writer_;
};

}  // namespace callsim::harness
