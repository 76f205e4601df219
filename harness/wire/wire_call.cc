#include "harness/wire/wire_call.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "agent/runtime/events.h"
#include "agent/server/twilio_messages.h"
#include "harness/run/call_config.h"

namespace callsim::harness {
namespace {

constexpr size_t kMulawFrameBytes = 160;

// Downlink packets carry the agent's messages in arrival order: a tag, then the data.
constexpr uint8_t kAudioTag = 'a';
constexpr uint8_t kMarkTag = 'm';
constexpr uint8_t kClearTag = 'c';

agent::Packet Tagged(uint8_t tag, const std::string& data) {
  agent::Packet p;
  p.reserve(data.size() + 1);
  p.push_back(tag);
  p.insert(p.end(), data.begin(), data.end());
  return p;
}

std::string WithToken(std::string target, const std::string& token) {
  target += target.find('?') == std::string::npos ? "?token=" : "&token=";
  return target + token;
}

constexpr std::string_view kClosedByPeer = "closed by peer: ";

}  // namespace

WireCall::WireCall(boost::asio::io_context& io, agent::RealtimeScheduler& scheduler,
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
      stream_sid_(WireSid("MZ", run_rng, call_id, "stream_sid")) {
  wire_.caller().set_dtmf_sender([this](char key, int) { SendDtmf(key); });
  wire_.uplink().SetReceiver(
      [this](agent::Packet p) { SendNow(std::string(p.begin(), p.end())); });
  wire_.downlink().SetReceiver([this](agent::Packet p) { OnDownlink(std::move(p)); });
}

WireCall::~WireCall() {
  alive_.reset();
  if (ws_) ws_->Close();
}

void WireCall::Start() {
  if (!wire_.Begin()) return;
  if (target_.tokens == nullptr) {
    Connect("");
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  const bool queued = target_.tokens->Fetch([this, alive](const std::string& token,
                                                          const std::string& error) {
    if (alive.expired() || ended_) return;
    if (token.empty()) {
      EndWith("no token for the target: " + error, CallStatus::kFailed, CallEndedBy::kOther);
      return;
    }
    Connect(token);
  });
  if (!queued) {
    EndWith("no token for the target: too many token requests waiting", CallStatus::kFailed,
            CallEndedBy::kOther);
  }
}

void WireCall::Connect(const std::string& token) {
  WsClientConfig config;
  config.url = target_.url;
  config.headers = target_.headers;
  if (!token.empty()) config.url.target = WithToken(config.url.target, token);
  ws_ = WsClient::Create(io_, std::move(config));
  std::weak_ptr<bool> alive = alive_;
  ws_->Connect(
      [this, alive](const std::string& error) {
        if (!alive.expired()) OnOpen(error);
      },
      [this, alive](std::string_view text) {
        if (!alive.expired()) OnText(text);
      },
      [this, alive](const std::string& reason) {
        if (!alive.expired()) OnClosed(reason);
      });
}

// Connected: Twilio's two opening messages, then the media clock and the caller's script.
void WireCall::OnOpen(const std::string& error) {
  if (ended_) return;
  if (!error.empty()) {
    EndWith("cannot connect to the target: " + error, CallStatus::kFailed, CallEndedBy::kOther);
    return;
  }
  open_ = true;
  SendNow(agent::twilio::Serialize(agent::twilio::Connected{}, /*to_twilio=*/false));
  agent::twilio::Start start;
  start.account_sid = "AC00000000000000000000000000000000";
  start.call_sid = wire_.call_sid();
  start.custom_parameters = scenario_.realtime.custom_parameters;
  SendNow(Stamped(std::move(start)));
  clock_start_us_ = scheduler_.NowUs();
  ticks_ = 0;
  wire_.caller().Start();
  tick_.At(clock_start_us_ + agent::kFrameUs, [this] { Tick(); });
}

// Every 20 ms: the caller's microphone goes out, and the ear hears the playout buffer's frame.
void WireCall::Tick() {
  ++ticks_;
  const int64_t due_us = clock_start_us_ + ticks_ * agent::kFrameUs;
  if (lateness_) lateness_->Record(std::max<int64_t>(0, scheduler_.NowUs() - due_us));
  agent::Frame frame;
  wire_.caller().NextOutputFrame(&frame, due_us);  // the media clock's time, not how late this ran
  encoder_->Encode(frame, &encoded_);
  agent::twilio::Media media;
  media.chunk = ticks_;
  media.timestamp_ms = (ticks_ - 1) * agent::kFrameMs;
  media.payload.assign(encoded_.begin(), encoded_.end());
  const std::string text = Stamped(std::move(media));
  wire_.uplink().Send(agent::Packet(text.begin(), text.end()));
  if (ended_) return;

  PlayoutTick heard = playout_.Tick();
  for (const std::string& name : heard.marks) EchoMark(name);
  agent::Frame ear;
  const auto* bytes = reinterpret_cast<const uint8_t*>(heard.frame.data());
  if (!decoder_->Decode(std::span<const uint8_t>(bytes, kMulawFrameBytes), &ear)) {
    ear = agent::Frame{};
  }
  wire_.caller().OnEarFrame(ear, due_us);
  if (ended_) return;
  tick_.At(due_us + agent::kFrameUs, [this] { Tick(); });
}

template <typename Message>
std::string WireCall::Stamped(Message m) {
  m.sequence_number = ++sequence_;
  m.stream_sid = stream_sid_;
  return agent::twilio::Serialize(m, /*to_twilio=*/false);
}

// Twilio's answer to a mark whose audio has played (or was cleared).
void WireCall::EchoMark(const std::string& name) {
  agent::twilio::Mark mark;
  mark.name = name;
  SendNow(Stamped(std::move(mark)));
}

void WireCall::SendNow(const std::string& text) {
  if (!open_ || ended_) return;
  if (!ws_->Send(text)) {
    EndWith("the connection's send queue is full (the agent does not read)", CallStatus::kFailed,
            CallEndedBy::kOther);
  }
}

void WireCall::SendDtmf(char key) {
  agent::twilio::Dtmf dtmf;
  dtmf.digit = key;
  const std::string text = Stamped(dtmf);
  wire_.uplink().Send(agent::Packet(text.begin(), text.end()));
}

// The agent's messages enter the downlink as they arrive; what is refused ends the call.
void WireCall::OnText(std::string_view text) {
  if (ended_) return;
  agent::twilio::ParseResult parsed = agent::twilio::Parse(text);
  if (!parsed.message) {
    EndWith("the agent sent a bad message: " + parsed.error, CallStatus::kFailed,
            CallEndedBy::kOther);
    return;
  }
  if (const auto* media = std::get_if<agent::twilio::Media>(&*parsed.message)) {
    wire_.downlink().Send(Tagged(kAudioTag, media->payload));
  } else if (const auto* mark = std::get_if<agent::twilio::Mark>(&*parsed.message)) {
    wire_.downlink().Send(Tagged(kMarkTag, mark->name));
  } else if (std::holds_alternative<agent::twilio::Clear>(*parsed.message)) {
    wire_.downlink().Send(Tagged(kClearTag, ""));
  }
}

void WireCall::OnDownlink(agent::Packet packet) {
  if (ended_ || packet.empty()) return;
  const std::string data(packet.begin() + 1, packet.end());
  switch (packet[0]) {
    case kAudioTag:
      playout_.PushAudio(data);
      break;
    case kMarkTag:
      playout_.PushMark(data);
      break;
    case kClearTag: {
      const uint64_t before = playout_.buffered_bytes();
      const std::vector<std::string> marks = playout_.Clear();
      wire_.log().Emit(scheduler_.NowUs(), agent::event_sources::kCall, call_events::kPlayoutClear,
                {{"dropped_ms", before / 8}, {"marks", marks.size()}});
      for (const std::string& name : marks) EchoMark(name);
      break;
    }
    default:
      break;
  }
}

// The socket is gone: the agent ended the call (its close reason says how), or the connection
// failed.
void WireCall::OnClosed(const std::string& reason) {
  open_ = false;
  if (ended_) return;
  if (reason.rfind(kClosedByPeer, 0) == 0) {
    const std::string why = reason.substr(kClosedByPeer.size());
    if (why == "transfer") {
      EndWith("agent transferred the call", CallStatus::kCompleted, CallEndedBy::kTransfer);
    } else {
      EndWith("agent hung up" + (why.empty() || why == "agent hangup" ? "" : " (" + why + ")"),
              CallStatus::kCompleted, CallEndedBy::kAgent);
    }
    return;
  }
  EndWith("connection lost: " + reason, CallStatus::kFailed, CallEndedBy::kOther);
}

void WireCall::End(const std::string& reason, CallStatus status) {
  EndWith(reason, status, CallEndedBy::kOther);
}

void WireCall::EndWith(const std::string& reason, CallStatus status, CallEndedBy by) {
  if (ended_) return;
  if (open_) {
    agent::twilio::Stop stop;
    stop.call_sid = wire_.call_sid();
    SendNow(Stamped(stop));
  }
  ended_ = true;
  tick_.Cancel();
  if (ws_) ws_->Close();
  CallRecord record = wire_.Finish(reason, status, by);
  scheduler_.After(0, [fn = on_finished_, r = std::move(record)]() mutable { fn(std::move(r)); });
}

}  // namespace callsim::harness
