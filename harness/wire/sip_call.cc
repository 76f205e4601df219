#include "harness/wire/sip_call.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "agent/runtime/events.h"
#include "harness/run/call_config.h"

namespace callsim::harness {

namespace sip = agent::sip;

namespace {

std::string Hex(agent::Rng& rng, int words) {
  std::string out;
  char buf[20];
  for (int i = 0; i < words; ++i) {
    std::snprintf(buf, sizeof buf, "%016" PRIx64, rng.NextU64());
    out += buf;
  }
  return out;
}


// A custom parameter's name as a SIP header: X- and the name, when the name is a token (RFC 3261
// section 25.1); "" when it cannot be one (the parameter is left out and said so).
std::string XHeaderName(const std::string& key) {
  if (key.empty() || key.size() > 64) return "";
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return "";
  }
  return key.size() > 2 && (key[0] == 'X' || key[0] == 'x') && key[1] == '-' ? key : "X-" + key;
}

// What the signalling and media draw (tags, branches, SRTP keys, SSRCs) must be unique across
// space and time (RFC 3261 sections 8.1.1.7, 19.3), and keys unpredictable: the same seed run
// twice against one server would otherwise repeat transactions it still remembers (their timers
// absorb copies for 32 s). The call's Rng is mixed with one random value per process; none of it
// changes what the call says or hears, so a run still replays.
uint64_t ProcessSalt() {
  static const uint64_t salt = (static_cast<uint64_t>(std::random_device{}()) << 32) ^
                               static_cast<uint64_t>(std::random_device{}());
  return salt;
}

bool SafeHeaderValue(const std::string& value) {
  return value.size() <= 1024 &&
         std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// How long a record waits for the signalling after the call ended: our BYE's answer (UacConfig's
// max_bye_wait_us is 4 s), with room to spare.
constexpr int64_t kDeliverBoundUs = 5 * agent::kMicrosPerSecond;

}  // namespace

SipCall::SipCall(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
                 const Scenario& scenario, int call_id, const agent::Rng& run_rng,
                 const CallServices& services, const WireTarget& target, Histogram* lateness,
                 FinishedFn on_finished)
    : io_(io),
      scheduler_(scheduler),
      scenario_(scenario),
      call_id_(call_id),
      target_(target),
      lateness_(lateness),
      on_finished_(std::move(on_finished)),
      wire_(io, scheduler, scenario, call_id, run_rng, services, target.relay,
            [this](const std::string& reason, CallStatus status, CallEndedBy by) {
              EndWith(reason, status, by);
            }),
      rng_(run_rng.Fork(CallKey(call_id, "sip")).NextU64() ^ ProcessSalt()) {
  wire_.caller().set_dtmf_sender([this](char key, int ms) {
    if (leg_ && leg_->connected()) leg_->media().SendDtmf(key, ms);
  });
}

SipCall::~SipCall() {
  alive_.reset();
  uac_.reset();  // sends through the socket
  if (leg_) leg_->Stop();
}

void SipCall::EmitSip(const std::string& step, int code, const std::string& reason) {
  nlohmann::json detail = {{"step", step}};
  if (code != 0) detail["code"] = code;
  if (!reason.empty()) detail["reason"] = reason;
  wire_.log().Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kSip, detail);
}

void SipCall::Start() {
  if (!wire_.Begin()) return;
  const SipTargetInfo& t = *target_.sip;
  try {
    sip_socket_ = std::make_unique<agent::UdpEndpoint>(
        io_, t.local_host, 0,
        [this](std::string_view bytes, const agent::UdpEndpoint::Endpoint& from) {
          if (!uac_) return;
          const sip::SipParseResult parsed = sip::ParseSipMessage(bytes);
          if (!parsed.message) return;  // not for a caller to answer: dropped
          uac_->OnMessage(*parsed.message, sip::HostPort{from.address().to_string(), from.port()});
        });
    leg_ = std::make_unique<RtpLeg>(io_, scheduler_, t.local_host);
  } catch (const std::exception& e) {
    EndWith(std::string("cannot open a socket: ") + e.what(), CallStatus::kFailed,
            CallEndedBy::kOther);
    return;
  }

  sip::SdpCapabilities caps;
  caps.codecs = {scenario_.codec};
  if (scenario_.codec != agent::CodecKind::kPcmu) caps.codecs.push_back(agent::CodecKind::kPcmu);
  caps.telephone_event = true;
  if (t.srtp) caps.srtp_key_salt = rng_.NextBytes(sip::kSrtpKeySaltBytes);
  offer_ = sip::MakeOffer(caps, t.local_host, leg_->port(), rng_.NextU64() >> 1);

  sip::UacConfig config;
  config.request_uri = t.request_uri;
  config.from_uri = "sip:caller-" + std::to_string(call_id_) + "@" + t.local_host;
  config.display_name = scenario_.name;
  config.local = sip::HostPort{t.local_host, sip_socket_->port()};
  config.call_id = wire_.call_sid();
  config.from_tag = Hex(rng_, 1);
  config.branch_prefix = Hex(rng_, 1);
  for (const auto& [key, value] : scenario_.realtime.custom_parameters) {
    const std::string name = XHeaderName(key);
    if (name.empty() || !SafeHeaderValue(value)) {
      EmitSip("header_skipped", 0, "custom parameter \"" + key.substr(0, 64) +
                                       "\" cannot be a SIP header");
      continue;
    }
    config.extra_headers.emplace_back(name, value);
  }
  config.credentials = t.credentials;
  config.cnonce = Hex(rng_, 1);
  sip::UacEvents events;
  std::weak_ptr<bool> alive = alive_;
  events.on_provisional = [this](int code, const std::string& reason) {
    EmitSip("provisional", code, reason);
  };
  events.on_answered = [this](const sip::SipMessage& ok) { OnAnswered(ok); };
  events.on_failed = [this](int code, const std::string& reason) { OnFailed(code, reason); };
  events.on_remote_bye = [this](const std::string& reason) { OnRemoteBye(reason); };
  events.on_terminated = [this, alive] {
    // Posted: the UacCall may be inside its own callback, and the record may destroy this call.
    scheduler_.After(0, [this, alive] {
      if (!alive.expired()) OnTerminated();
    });
  };
  uac_ = std::make_unique<sip::UacCall>(
      scheduler_, std::move(config), std::move(events),
      [this](const std::string& bytes, const sip::HostPort& to) {
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(to.host, ec);
        if (ec || !sip_socket_) return;  // a name we would have to resolve: not followed
        sip_socket_->Send(bytes, agent::UdpEndpoint::Endpoint(address, to.port));
      });
  std::string error;
  if (!uac_->Start(sip::SerializeSdp(offer_), &error)) {
    EndWith("cannot call the target: " + error, CallStatus::kFailed, CallEndedBy::kOther);
  }
}

void SipCall::OnAnswered(const sip::SipMessage& ok) {
  if (ended_) return;
  EmitSip("answered", ok.status_code, ok.reason);
  const sip::SdpParseResult parsed = sip::ParseSdp(ok.body);
  sip::NegotiatedStream negotiated;
  std::string error;
  if (!parsed.description) {
    error = "the answer is not SDP: " + parsed.error;
  } else if (!sip::ReadAnswer(offer_, *parsed.description, &negotiated, &error)) {
    error = "the SDP answer is refused: " + error;
  }
  RtpLeg::Streams streams;
  if (error.empty()) {
    streams.negotiated = negotiated;
    streams.ssrc = static_cast<uint32_t>(rng_.NextU64());
    streams.media = MakeMediaConfig(scenario_, streams.ssrc);
    streams.rtcp_seed = rng_.NextU64();
    streams.uplink_impairment = &wire_.uplink();
    streams.downlink_impairment = &wire_.downlink();
    leg_->Connect(
        streams, [this](agent::Frame* out) { OnSpeakerFrame(out); },
        [this](const agent::Frame& f, int64_t t) { wire_.caller().OnEarFrame(f, t); },
        [this](const std::string& what) {
          wire_.log().Emit(scheduler_.NowUs(), agent::event_sources::kCall,
                           call_events::kMediaError, {{"error", what}});
        },
        &error);
  }
  if (!error.empty()) {
    EndWith(error, CallStatus::kFailed, CallEndedBy::kOther);
    return;
  }
  media_start_us_ = scheduler_.NowUs();
  ticks_ = 0;
  leg_->Start();
  wire_.caller().Start();
}

// The media clock's tick: the caller's next 20 ms, stamped with when it was due.
void SipCall::OnSpeakerFrame(agent::Frame* out) {
  const int64_t due_us = media_start_us_ + ticks_ * agent::kFrameUs;
  ++ticks_;
  if (lateness_) lateness_->Record(std::max<int64_t>(0, scheduler_.NowUs() - due_us));
  wire_.caller().NextOutputFrame(out, due_us);
}

void SipCall::OnFailed(int code, const std::string& reason) {
  EmitSip("failed", code, reason);
  if (ended_) return;
  EndWith("the agent did not answer: " + std::to_string(code) + " " + reason,
          CallStatus::kFailed, CallEndedBy::kOther);
}

// `reason_header` is the BYE's Reason (RFC 3326), whose text says why: callsim's agent writes
// "agent hangup" or "transfer".
void SipCall::OnRemoteBye(const std::string& reason_header) {
  EmitSip("bye", 0, reason_header);
  if (ended_) return;
  std::string reason = sip::HeaderParam(reason_header, "text").value_or("");
  if (reason.size() >= 2 && reason.front() == '"' && reason.back() == '"') {
    reason = reason.substr(1, reason.size() - 2);
  }
  if (reason == "transfer") {
    EndWith("agent transferred the call", CallStatus::kCompleted, CallEndedBy::kTransfer);
  } else {
    EndWith("agent hung up" + (reason.empty() || reason == "agent hangup" ? "" : " (" + reason + ")"),
            CallStatus::kCompleted, CallEndedBy::kAgent);
  }
}

void SipCall::End(const std::string& reason, CallStatus status) {
  EndWith(reason, status, CallEndedBy::kOther);
}

void SipCall::EndWith(const std::string& reason, CallStatus status, CallEndedBy by) {
  if (ended_) return;
  ended_ = true;
  if (leg_) leg_->Stop();  // the final RTCP report goes out with BYE
  if (uac_) {
    const sip::UacCall::State before = uac_->state();
    uac_->Hangup();
    hung_up_ = before == sip::UacCall::State::kCalling ||
               before == sip::UacCall::State::kRinging ||
               before == sip::UacCall::State::kConfirmed;
  }
  CallRecord record = wire_.Finish(reason, status, by);
  if (leg_) {
    record.caller_media = leg_->media_stats();
    record.media = leg_->MediaRows(/*sends_uplink=*/true, &wire_.uplink().stats());
  }
  record_ = std::move(record);
  // Our BYE or CANCEL in flight: the record waits for its answer (bounded), so the run's end
  // waits for the signalling. Otherwise (the agent's BYE, a failure) nothing is owed: the timers
  // that would absorb the peer's retransmissions for 32 s are not worth holding the call for.
  if (hung_up_ && !terminated_) {
    deliver_bound_.After(kDeliverBoundUs, [this] { Deliver(); });
    return;
  }
  scheduler_.After(0, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) Deliver();
  });
}

void SipCall::OnTerminated() {
  terminated_ = true;
  if (ended_) Deliver();
}

// The record goes to the run once; the run may destroy this call from inside.
void SipCall::Deliver() {
  if (delivered_ || !record_) return;
  delivered_ = true;
  deliver_bound_.Cancel();
  scheduler_.After(0, [fn = on_finished_, r = std::move(*record_)]() mutable { fn(std::move(r)); });
}

}  // namespace callsim::harness
