// The caller's half of a call over the wire, whatever carries it (a Twilio Media Stream in
// WireCall, SIP and RTP in SipCall): the simulated Caller with its log and recorder, the
// scenario's network as an uplink and a downlink SimLink on the real clock, the callSid ("CA" and
// 32 hex digits from the run seed and the call id, so an agent that derives its call's randomness
// from it replays its content), the recording tape, the max_call_ms + 60 s bound and, with an
// EventRelay (the agent in this process), the agent's events in the call's log.
//
// The owner starts it with Begin() once it has its transport ready to be set up, and ends it with
// Finish(), which returns the call's record; the bound calls the owner's end function.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scoped_task.h"
#include "fakes/net/sim_link.h"
#include "harness/caller/caller.h"
#include "harness/run/call_log.h"
#include "harness/run/call_record.h"
#include "harness/run/call_recorder.h"
#include "harness/scenario/scenario.h"
#include "harness/wire/event_relay.h"

namespace callsim::harness {

// "MZ..." / "CA...": `prefix` and 32 hex digits from the run seed, the call id and `what`.
std::string WireSid(const char* prefix, const agent::Rng& run_rng, int call_id, const char* what);

class WireCaller {
 public:
  using EndFn = std::function<void(const std::string& reason, CallStatus status, CallEndedBy by)>;

  // `relay` may be null. Everything referenced must outlive this. `end` is the owner's way to end
  // the call (the caller hangs up, the bound is reached).
  WireCaller(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
             const Scenario& scenario, int call_id, const agent::Rng& run_rng,
             const CallServices& services, EventRelay* relay, EndFn end);
  ~WireCaller();
  WireCaller(const WireCaller&) = delete;
  WireCaller& operator=(const WireCaller&) = delete;

  Caller& caller() { return caller_; }
  CallLog& log() { return log_; }
  fakes::SimLink& uplink() { return uplink_; }
  fakes::SimLink& downlink() { return downlink_; }
  const std::string& call_sid() const { return call_sid_; }
  void set_record_max_samples(int64_t samples) { record_max_samples_ = samples; }

  // The start event, then: false (the call already ended through `end`) when the caller cannot
  // take part; otherwise the tape, the bound and the relay are set up and it returns true.
  bool Begin();
  // Once: the caller finishes, the relay is left, the end event is logged and the record built
  // (with the tape when recorded).
  CallRecord Finish(const std::string& reason, CallStatus status, CallEndedBy by);

 private:
  void OnAgentEvent(EventRelay::Clock::time_point when, const std::string& kind,
                    const nlohmann::json& detail);
  void Unsubscribe();

  boost::asio::io_context& io_;
  agent::RealtimeScheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  EventRelay* relay_;
  EndFn end_;
  CallServices services_;
  CallLog log_;
  CallRecorder recorder_;
  fakes::SimLink uplink_;
  fakes::SimLink downlink_;
  Caller caller_;
  std::string call_sid_;
  bool subscribed_ = false;
  bool finished_ = false;
  int64_t started_us_ = 0;
  int64_t record_max_samples_ = 0;   // 0: the call is not recorded
  std::shared_ptr<AudioTape> tape_;  // while the call runs, when recorded
  agent::ScopedTask max_duration_task_{scheduler_};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // relay callbacks hold a weak_ptr
};

}  // namespace callsim::harness
