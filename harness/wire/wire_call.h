// One call over the wire: a simulated Caller plays Twilio's side of a Media Stream against an
// agent at a WebSocket URL, in real time. It sends `connected`, `start` (with the scenario's
// realtime.custom_parameters), `media` every 20 ms (the caller's microphone as 8 kHz mu-law, with
// chunk and timestamp), `dtmf` for each key and `stop` when the caller hangs up. The agent's
// `media` and `mark` go through a TwilioPlayout buffer, so the caller's ear hears the audio at
// its playout time however fast the agent sends it; `clear` drops what is buffered and returns
// its marks at once; marks come back when their audio has played.
//
// The scenario's network impairments apply on this side of the socket: the uplink link delays,
// jitters and loses messages before they are sent, the downlink link the agent's messages after
// they arrive. The media clock runs on deadlines from the call's start; each tick's lateness
// (when it ran minus when it was due) is recorded into the run's harness-lateness histogram.
//
// A stream id and call id ("MZ..." and "CA..." from the run seed and the call id) go in the start
// message, so an agent that derives its call's randomness from the callSid replays its content.
// With an EventRelay (the agent runs in this process), the agent's events join the call's log as
// in a simulated call; without one, the caller judges only what it hears.
//
// The call ends when the caller hangs up (stop, then close), when the agent closes the socket
// (its close reason "transfer" counts as a transfer, anything else as the agent hanging up), when
// the connection fails (the call fails with the reason), at max_call_ms plus 60 s, or when the
// run ends it.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/media/codec.h"
#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scoped_task.h"
#include "agent/sip/digest.h"
#include "fakes/net/sim_link.h"
#include "harness/caller/caller.h"
#include "harness/measure/histogram.h"
#include "harness/run/call_log.h"
#include "harness/run/call_recorder.h"
#include "harness/run/run_call.h"
#include "harness/scenario/scenario.h"
#include "harness/wire/event_relay.h"
#include "harness/wire/token_thread.h"
#include "harness/wire/twilio_playout.h"
#include "harness/wire/wire_caller.h"
#include "harness/wire/ws_client.h"

namespace callsim::harness {

// A SIP target (`--target sip:USER@HOST:PORT`): where the INVITE goes and how (sip_call.h).
struct SipTargetInfo {
  std::string request_uri;  // as given
  std::string local_host;   // this machine's address toward the agent: Via, Contact and SDP
  bool srtp = false;        // offer RTP/SAVP with an SDES key
  std::optional<agent::sip::DigestCredentials> credentials;  // answer 401/407 challenges
};

// Where the calls go and how they authenticate.
struct WireTarget {
  std::optional<SipTargetInfo> sip;  // set: the calls are SipCalls, `url` is unused
  WireUrl url;
  std::vector<Header> headers;  // on every upgrade (--header K:V)
  // Returns a fresh token for one call ("" with *error set when it cannot); empty function: none.
  // The token goes in the URL as ?token=...; calls fetch it through `tokens`, off their thread.
  std::function<std::string(std::string* error)> token;
  TokenThread* tokens = nullptr;  // set by the engine when `token` is
  EventRelay* relay = nullptr;  // the agent's events, when it runs in this process
};

class WireCall final : public RunCall {
 public:
  // Everything referenced must outlive the call. `lateness` (microseconds) may be null.
  WireCall(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
           const Scenario& scenario, int call_id, const agent::Rng& run_rng,
           const CallServices& services, const WireTarget& target, Histogram* lateness,
           FinishedFn on_finished);
  ~WireCall() override;
  WireCall(const WireCall&) = delete;
  WireCall& operator=(const WireCall&) = delete;

  void RecordAudio(int64_t max_samples) override { wire_.set_record_max_samples(max_samples); }
  void Start() override;
  void End(const std::string& reason, CallStatus status) override;
  bool ended() const override { return ended_; }

  const std::string& call_sid() const { return wire_.call_sid(); }

 private:
  void Connect(const std::string& token);
  void OnOpen(const std::string& error);
  void OnText(std::string_view text);
  void OnClosed(const std::string& reason);
  void Tick();
  // `m` with the next sequence number and this stream's id, as Twilio's JSON text.
  template <typename Message>
  std::string Stamped(Message m);
  void SendNow(const std::string& text);
  void EchoMark(const std::string& name);
  void SendDtmf(char key);
  void OnDownlink(agent::Packet packet);
  void EndWith(const std::string& reason, CallStatus status, CallEndedBy by);

  boost::asio::io_context& io_;
  agent::RealtimeScheduler& scheduler_;
  const Scenario& scenario_;
  int call_id_;
  const WireTarget& target_;
  Histogram* lateness_;
  FinishedFn on_finished_;
  WireCaller wire_;
  std::string stream_sid_;
  std::shared_ptr<WsClient> ws_;
  bool open_ = false;
  TwilioPlayout playout_;
  std::unique_ptr<agent::Codec> encoder_ = agent::MakeCodec(agent::CodecKind::kPcmu);
  std::unique_ptr<agent::Codec> decoder_ = agent::MakeCodec(agent::CodecKind::kPcmu);
  std::vector<uint8_t> encoded_;
  int64_t clock_start_us_ = 0;
  int64_t ticks_ = 0;
  int64_t sequence_ = 0;
  agent::ScopedTask tick_{scheduler_};
  bool ended_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // callbacks hold a weak_ptr
};

}  // namespace callsim::harness
