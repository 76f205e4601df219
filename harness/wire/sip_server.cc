#include "harness/wire/sip_server.h"

#include <chrono>
#include <future>
#include <random>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include "agent/pipeline/voice_agent.h"
#include "agent/sip/sdp.h"
#include "harness/run/call_config.h"
#include "harness/run/call_log.h"
#include "harness/wire/rtp_leg.h"

namespace callsim::harness {

namespace sip = agent::sip;

namespace {

constexpr const char* kRealm = "callsim";


}  // namespace

// One answered call: its RTP leg and the agent (a ServedCall from the service). Lives on the
// server's thread; the agent's events pass through it to the call's log.
class SipServer::Call final : private agent::EventSink {
 public:
  Call(SipServer& server, sip::SipDialogId id, std::string call_sid)
      : server_(server), id_(id), call_sid_(std::move(call_sid)) {}

  ~Call() override { Finish("connection closed: server shutdown"); }

  // Answers `invite`'s offer: the RTP socket, the agent and the SDP answer. False with the SIP
  // code and reason to refuse with.
  bool Setup(const sip::SipMessage& invite, std::string* answer_sdp, int* code,
             std::string* reason) {
    const sip::SdpParseResult parsed = sip::ParseSdp(invite.body);
    if (!parsed.description || parsed.description->audio.empty()) {
      *code = 488;
      *reason = parsed.description ? "the offer has no audio stream"
                                   : "the offer is not SDP: " + parsed.error;
      return false;
    }
    const sip::SessionDescription& offer = *parsed.description;
    const bool offered_srtp = offer.audio.front().protocol == "RTP/SAVP";
    sip::SdpCapabilities caps;
    caps.codecs = server_.config_.codecs;
    caps.telephone_event = true;
    const SrtpPolicy policy = server_.config_.srtp;
    if (policy == SrtpPolicy::kRequired || (policy == SrtpPolicy::kOptional && offered_srtp)) {
      caps.srtp_key_salt = server_.rng_.NextBytes(sip::kSrtpKeySaltBytes);
    }
    try {
      leg_ = std::make_unique<RtpLeg>(server_.io_, *server_.scheduler_, server_.config_.host);
    } catch (const std::exception& e) {
      *code = 503;
      *reason = std::string("no media port: ") + e.what();
      return false;
    }
    sip::SessionDescription answer;
    sip::NegotiatedStream negotiated;
    std::string error;
    if (!sip::AnswerOffer(offer, caps, server_.config_.host, leg_->port(), server_.rng_.NextU64() >> 1,
                          &answer, &negotiated, &error)) {
      *code = 488;
      *reason = error;
      return false;
    }
    const Scenario& scenario = *server_.service_.planned().scenario;
    call_ = server_.service_.StartCall(call_sid_, *server_.scheduler_, *this,
                                       [this] { return leg_->MediaRows(/*sends_uplink=*/false, nullptr); });
    agent::VoiceAgent& agent = call_->agent();
    RtpLeg::Streams streams;
    streams.negotiated = negotiated;
    streams.ssrc = static_cast<uint32_t>(server_.rng_.NextU64());
    streams.media = MakeMediaConfig(scenario, streams.ssrc);
    streams.rtcp_seed = server_.rng_.NextU64();
    streams.rtcp_interval_us = server_.config_.rtcp_interval_us;
    if (!leg_->Connect(
            streams, [&agent](agent::Frame* out) { agent.NextOutputFrame(out); },
            [&agent](const agent::Frame& f, int64_t t) { agent.OnCallerFrame(f, t); },
            [this](const std::string& what) { OnMediaError(what); }, &error)) {
      *code = 488;
      *reason = error;
      Finish("media refused: " + error);
      return false;
    }
    leg_->media().set_dtmf_sink([&agent](char key, int64_t t_us) { agent.OnDtmf(key, t_us); });
    agent.set_on_call_end([this](const std::string& how) { OnAgentEnded(how); });
    *answer_sdp = sip::SerializeSdp(answer);
    return true;
  }

  // The ACK came: media and the agent start.
  void Confirm() {
    if (confirmed_ || finished_ || !call_) return;
    confirmed_ = true;
    leg_->Start();
    call_->agent().Start();
  }

  // Hangs up from the server's side (the server is stopping).
  void Shutdown() {
    if (end_reason_.empty()) end_reason_ = "connection closed: server shutdown";
    server_.uas_->Hangup(id_);
  }

  // Once: media stops and the call is handed its end (`reason` from the UasCore, mapped).
  void Finish(const std::string& uas_reason) {
    if (finished_) return;
    finished_ = true;
    drain_.reset();
    if (leg_) leg_->Stop();
    if (!call_) return;
    call_->agent().Hangup();
    std::string reason = uas_reason;
    if (uas_reason == "hung up" && !end_reason_.empty()) reason = end_reason_;
    call_->Finish(reason);
  }

 private:
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override {
    if (call_) call_->events().Emit(t_us, source, kind, detail);
  }

  void OnMediaError(const std::string& what) {
    server_.service_.Log("call " + call_sid_ + ": " + what);
    Emit(server_.scheduler_->NowUs(), agent::event_sources::kCall, call_events::kMediaError,
         {{"error", what}});
  }

  // The agent hung up or transferred after its last reply was pulled: BYE once that audio has
  // had time to reach the caller.
  void OnAgentEnded(const std::string& how) {
    if (!end_reason_.empty() || finished_) return;
    end_reason_ = how == "transfer" ? "transfer" : "agent hangup";
    drain_ = std::make_unique<agent::ScopedTask>(*server_.scheduler_);
    drain_->After(agent::MsToUs(static_cast<double>(server_.config_.drain_ms)), [this] {
      server_.uas_->Hangup(id_, {{"Reason", "SIP;cause=200;text=\"" + end_reason_ + "\""}});
    });
  }

  SipServer& server_;
  sip::SipDialogId id_;
  std::string call_sid_;
  std::unique_ptr<RtpLeg> leg_;
  std::unique_ptr<agent::ServedCall> call_;
  std::unique_ptr<agent::ScopedTask> drain_;
  std::string end_reason_;
  bool confirmed_ = false;
  bool finished_ = false;
};

// The server's draws (tags, nonces, SRTP keys, SSRCs) change nothing an agent says, and keys and
// nonces must not be predictable from the seed: they come from the system's random source.
SipServer::SipServer(AgentService& service, SipServeConfig config)
    : service_(service),
      config_(std::move(config)),
      rng_((static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()) {}

SipServer::~SipServer() { Stop(); }

void SipServer::Start() {
  if (started_) return;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(config_.host, ec);
  if (ec || address.is_unspecified()) {
    throw std::runtime_error("--sip: \"" + config_.host +
                             "\" is not an address to put in SDP (give the interface's own "
                             "address, e.g. 127.0.0.1, not a wildcard or a name)");
  }
  started_ = true;
  work_.emplace(boost::asio::make_work_guard(io_));
  std::promise<void> ready;
  std::future<void> made = ready.get_future();
  thread_ = std::thread([this, &ready] {
    try {
      scheduler_ = std::make_unique<agent::RealtimeScheduler>(io_);
      socket_ = std::make_unique<agent::UdpEndpoint>(
          io_, config_.host, config_.port,
          [this](std::string_view bytes, const agent::UdpEndpoint::Endpoint& from) {
            uas_->OnDatagram(bytes, sip::HostPort{from.address().to_string(), from.port()});
          });
      port_ = socket_->port();
      sip::UasConfig uas;
      uas.local = sip::HostPort{config_.host, port_};
      uas.max_dialogs = config_.max_calls;
      if (config_.auth) {
        uas.realm = kRealm;
        uas.password_of = [creds = *config_.auth](const std::string& user)
            -> std::optional<std::string> {
          if (user != creds.username) return std::nullopt;
          return creds.password;
        };
      }
      sip::UasEvents events;
      events.on_invite = [this](sip::SipDialogId id, const sip::SipMessage& invite,
                                const sip::HostPort& from) { OnInvite(id, invite, from); };
      events.on_confirmed = [this](sip::SipDialogId id) { OnConfirmed(id); };
      events.on_ended = [this](sip::SipDialogId id, const std::string& reason) {
        OnEnded(id, reason);
      };
      uas_ = std::make_unique<sip::UasCore>(
          *scheduler_, std::move(uas), std::move(events),
          [this](const std::string& bytes, const sip::HostPort& to) { SendSip(bytes, to); },
          rng_.Fork("uas"));
      ready.set_value();
    } catch (...) {
      socket_.reset();
      scheduler_.reset();
      ready.set_exception(std::current_exception());
      return;
    }
    io_.run();
  });
  try {
    made.get();
  } catch (const std::exception& e) {
    thread_.join();
    work_.reset();
    started_ = false;
    stopped_ = true;
    throw std::runtime_error("--sip " + config_.host + ":" + std::to_string(config_.port) +
                             ": " + e.what());
  }
}

void SipServer::SendSip(const std::string& bytes, const sip::HostPort& to) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(to.host, ec);
  if (ec) return;  // a Via or Contact naming a host we would have to resolve: not answered
  socket_->Send(bytes, agent::UdpEndpoint::Endpoint(address, to.port));
}

void SipServer::OnInvite(sip::SipDialogId id, const sip::SipMessage& invite,
                         const sip::HostPort&) {
  if (!accepting_) {
    uas_->Reject(id, 503, "Service Unavailable");
    return;
  }
  const std::string* call_id = invite.Header("Call-ID");
  auto call = std::make_unique<Call>(*this, id, call_id ? *call_id : std::to_string(id));
  std::string answer;
  int code = 0;
  std::string reason;
  if (!call->Setup(invite, &answer, &code, &reason)) {
    service_.Log("call " + (call_id ? *call_id : std::string("?")) + " refused: " + reason);
    uas_->RejectWithWarning(id, code,
                            code == 488 ? "Not Acceptable Here" : "Service Unavailable", reason);
    return;
  }
  calls_[id] = std::move(call);
  active_ = calls_.size();
  if (!uas_->Answer(id, answer)) OnEnded(id, "not answered");
}

void SipServer::OnConfirmed(sip::SipDialogId id) {
  const auto it = calls_.find(id);
  if (it != calls_.end()) it->second->Confirm();
}

void SipServer::OnEnded(sip::SipDialogId id, const std::string& reason) {
  const auto it = calls_.find(id);
  if (it == calls_.end()) return;
  it->second->Finish(reason);
  // Destroyed on a fresh turn (the UasCore may still be inside its own callback), and before
  // the scheduler its tasks were on.
  ended_.push_back(std::move(it->second));
  calls_.erase(it);
  boost::asio::post(io_, [this] { ended_.clear(); });
  active_ = calls_.size();
}

void SipServer::StopAccepting() {
  if (!started_ || stopped_) return;
  boost::asio::post(io_, [this] { accepting_ = false; });
}

void SipServer::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  boost::asio::post(io_, [this] {
    accepting_ = false;
    for (auto& [id, call] : calls_) call->Shutdown();
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (active_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  boost::asio::post(io_, [this] {
    calls_.clear();  // each finishes as cut by the shutdown
    ended_.clear();
    active_ = 0;
    uas_.reset();
    socket_.reset();
    scheduler_.reset();
    work_.reset();
    io_.stop();
  });
  thread_.join();
}

}  // namespace callsim::harness
