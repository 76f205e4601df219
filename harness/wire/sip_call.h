// One call over SIP, in real time: a simulated Caller dials a SIP agent (`--target sip:...`) with
// an INVITE whose SDP offers the scenario's codec and PCMU, telephone-event and, with --srtp,
// RTP/SAVP with an SDES key (agent/sip/uac_call.h does the signalling: retransmissions, digest
// authentication, CANCEL, BYE). Once answered, the caller's microphone goes out as RTP every
// 20 ms and the agent's RTP plays to the caller's ear through a jitter buffer (an RtpLeg: codec,
// SRTP, RTCP reports both ways). DTMF keys go as RFC 4733 events in the RTP stream.
//
// The scenario's network impairments apply on this side of the socket (before sending, after
// receiving). The media clock's lateness (when a 20 ms tick ran minus when it was due) goes into
// the run's harness-lateness histogram. The Call-ID is "CA" and 32 hex digits from the run seed
// and the call id, so an agent that derives its call's randomness from it replays its content;
// the scenario's realtime.custom_parameters go on the INVITE as X- headers.
//
// The call ends when the caller hangs up (BYE), when the agent sends BYE (a Reason header with
// text "transfer" counts as a transfer), when the INVITE fails (the call fails with the status),
// at max_call_ms plus 60 s, or when the run ends it. Its record is handed over once the
// signalling is done (our BYE answered, or its bound), so a run's end waits for the BYEs.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scoped_task.h"
#include "agent/server/udp_endpoint.h"
#include "agent/sip/sdp.h"
#include "agent/sip/uac_call.h"
#include "fakes/net/sim_link.h"
#include "harness/caller/caller.h"
#include "harness/measure/histogram.h"
#include "harness/run/call_log.h"
#include "harness/run/call_recorder.h"
#include "harness/run/run_call.h"
#include "harness/scenario/scenario.h"
#include "harness/wire/rtp_leg.h"
#include "harness/wire/wire_call.h"
#include "harness/wire/wire_caller.h"

namespace callsim::harness {

class SipCall final : public RunCall {
 public:
  // Everything referenced must outlive the call; `target.sip` must be set. `lateness`
  // (microseconds) may be null.
  SipCall(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
          const Scenario& scenario, int call_id, const agent::Rng& run_rng,
          const CallServices& services, const WireTarget& target, Histogram* lateness,
          FinishedFn on_finished);
  ~SipCall() override;
  SipCall(const SipCall&) = delete;
  SipCall& operator=(const SipCall&) = delete;

  void RecordAudio(int64_t max_samples) override { wire_.set_record_max_samples(max_samples); }
  void Start() override;
  void End(const std::string& reason, CallStatus status) override;
  bool ended() const override { return ended_; }

  const std::string& call_id_header() const { return wire_.call_sid(); }

 private:
  void OnAnswered(const agent::sip::SipMessage& ok);
  void OnFailed(int code, const std::string& reason);
  void OnRemoteBye(const std::string& reason);
  void OnTerminated();
  void OnSpeakerFrame(agent::Frame* out);
  void EmitSip(const std::string& step, int code, const std::string& reason);
  void EndWith(const std::string& reason, CallStatus status, CallEndedBy by);
  void Deliver();

  boost::asio::io_context& io_;
  agent::RealtimeScheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  const WireTarget& target_;
  Histogram* lateness_;
  FinishedFn on_finished_;
  WireCaller wire_;
  agent::Rng rng_;  // tags, branches, keys and the SSRC: salted per process (sip_call.cc)
  std::unique_ptr<agent::UdpEndpoint> sip_socket_;
  std::unique_ptr<RtpLeg> leg_;
  std::unique_ptr<agent::sip::UacCall> uac_;
  agent::sip::SessionDescription offer_;
  int64_t media_start_us_ = -1;      // the first 20 ms tick; -1 before the answer
  int64_t ticks_ = 0;
  std::optional<CallRecord> record_;  // built at the end, handed over when signalling is done
  bool terminated_ = false;           // the signalling is done
  bool hung_up_ = false;              // our BYE or CANCEL went out
  bool ended_ = false;
  bool delivered_ = false;
  agent::ScopedTask deliver_bound_{scheduler_};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // callbacks hold a weak_ptr
};

}  // namespace callsim::harness
