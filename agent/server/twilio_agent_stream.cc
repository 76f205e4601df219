#include "agent/server/twilio_agent_stream.h"

#include <algorithm>
#include <cmath>

#include "agent/pipeline/agent_events.h"
#include "agent/runtime/check.h"

namespace callsim::agent {
namespace {

constexpr size_t kMulawFrameBytes = 160;  // 20 ms at 8 kHz

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

std::string ValidateTwilioStreamConfig(const TwilioStreamConfig& c) {
  if (!(c.send_rate >= 1 && c.send_rate <= 8)) return "send_rate must be 1 to 8";
  if (c.lead_frames < 0 || c.lead_frames > 50) return "lead_frames must be 0 to 50";
  if (c.start_timeout_ms < 1 || c.start_timeout_ms > 600000) {
    return "start_timeout_ms must be 1 to 600000";
  }
  if (c.max_gap_fill_frames < 0 || c.max_gap_fill_frames > 3000) {
    return "max_gap_fill_frames must be 0 to 3000";
  }
  if (c.late_frame_us < 0) return "late_frame_us must not be negative";
  if (c.end_mark_timeout_ms < 0 || c.end_mark_timeout_ms > 600000) {
    return "end_mark_timeout_ms must be 0 to 600000";
  }
  return "";
}

TwilioAgentStream::TwilioAgentStream(StreamIo io, TwilioStreamConfig config,
                                     ServedCallFactory factory, ServerMetrics* metrics,
                                     std::function<void(std::string_view)> log)
    : io_(std::move(io)),
      scheduler_(*io_.scheduler),
      config_(config),
      factory_(std::move(factory)),
      metrics_(metrics),
      log_(std::move(log)) {
  CALLSIM_CHECK(ValidateTwilioStreamConfig(config_).empty());
  start_timeout_.After(MsToUs(config_.start_timeout_ms), [this] { Refuse("no start message"); });
}

TwilioAgentStream::~TwilioAgentStream() { Finish("stream destroyed"); }

void TwilioAgentStream::Log(const std::string& line) const {
  if (log_) log_(line);
}

void TwilioAgentStream::OnText(std::string_view text) {
  if (closing_) return;
  twilio::ParseResult parsed = twilio::Parse(text, config_.limits);
  if (!parsed.message) {
    Refuse("bad message: " + parsed.error);
    return;
  }
  std::visit(Overloaded{
                 [](const twilio::Connected&) {},
                 [this](const twilio::Start& m) { OnStart(m); },
                 [this](const twilio::Media& m) { OnMedia(m); },
                 [this](const twilio::Dtmf& m) {
                   if (!call_) return Refuse("dtmf before start");
                   call_->agent().OnDtmf(m.digit, scheduler_.NowUs());
                 },
                 [this](const twilio::Mark& m) {
                   ++stats_.marks_echoed;
                   if (m.name == "end" && !end_reason_.empty()) {
                     end_timeout_.Cancel();
                     Finish(end_reason_);
                     closing_ = true;
                     io_.close(end_reason_);
                   }
                 },
                 [this](const twilio::Clear&) { Refuse("clear is sent to Twilio, not by it"); },
                 [this](const twilio::Stop&) { OnStop(); },
             },
             *parsed.message);
}

void TwilioAgentStream::OnStart(const twilio::Start& start) {
  if (call_ || finished_) return Refuse("a second start");
  const twilio::MediaFormat& f = start.media_format;
  if (f.encoding != "audio/x-mulaw" || f.sample_rate != 8000 || f.channels != 1) {
    return Refuse("unsupported media format (audio/x-mulaw, 8000 Hz, mono only)");
  }
  start_timeout_.Cancel();
  stream_sid_ = start.stream_sid;
  call_ = factory_(start, scheduler_, *this);
  if (!call_) return Refuse("call refused");
  call_->agent().set_on_call_end([this](const std::string& how) { OnAgentEnded(how); });
  Log("stream " + stream_sid_ + ": call " + start.call_sid + " started");
  call_->agent().Start();
  clock_start_us_ = scheduler_.NowUs();
  ticks_ = 0;
  tick_.At(clock_start_us_ + kFrameUs, [this] { Tick(); });
}

void TwilioAgentStream::OnMedia(const twilio::Media& media) {
  if (!call_) return Refuse("media before start");
  if (finished_ || (media.track != "inbound" && media.track != "inbound_track")) return;
  if (next_timestamp_ms_ >= 0 && media.timestamp_ms > next_timestamp_ms_) {
    const int64_t gap = (media.timestamp_ms - next_timestamp_ms_) / kFrameMs;
    if (gap <= config_.max_gap_fill_frames) {
      for (int64_t i = 0; i < gap; ++i) FeedFrame(nullptr, /*conceal=*/true);
      stats_.gap_frames += static_cast<uint64_t>(gap);
    }
  }
  const int64_t duration_ms =
      static_cast<int64_t>(media.payload.size()) * 1000 / 8000;
  next_timestamp_ms_ = media.timestamp_ms + duration_ms;
  inbound_ += media.payload;
  size_t pos = 0;
  for (; pos + kMulawFrameBytes <= inbound_.size(); pos += kMulawFrameBytes) {
    FeedFrame(reinterpret_cast<const uint8_t*>(inbound_.data() + pos), false);
  }
  inbound_.erase(0, pos);
}

// One 20 ms frame of the caller to the agent: decoded, or concealment for a gap.
void TwilioAgentStream::FeedFrame(const uint8_t* mulaw, bool conceal) {
  Frame frame;
  if (conceal || !decoder_->Decode(std::span<const uint8_t>(mulaw, kMulawFrameBytes), &frame)) {
    decoder_->Conceal(&frame);
  }
  ++stats_.frames_in;
  if (metrics_) metrics_->FramesIn();
  call_->agent().OnCallerFrame(frame, scheduler_.NowUs());
}

void TwilioAgentStream::OnStop() {
  Finish("caller hung up (stop)");
  closing_ = true;
  io_.close("stop");
}

// The frame clock: deadlines from the stream's start, so a late tick does not shift the next.
void TwilioAgentStream::Tick() {
  if (finished_) return;
  ++ticks_;
  const int64_t due_us = clock_start_us_ + ticks_ * kFrameUs;
  if (scheduler_.NowUs() - due_us > config_.late_frame_us) {
    ++stats_.late_ticks;
    if (metrics_) metrics_->LateFrames();
  }
  Frame frame;
  if (call_->agent().NextOutputFrame(&frame)) SendFrame(frame);
  // Ahead of real time while the agent speaks: the reply's lead, and the send rate's credit.
  if (speaking_) {
    send_credit_ += config_.send_rate - 1;
    const int from_rate = static_cast<int>(send_credit_);
    send_credit_ -= from_rate;
    int extra = std::max(from_rate, config_.lead_frames - reply_ahead_frames_);
    while (extra-- > 0 && speaking_ && !finished_) {
      if (!call_->agent().NextOutputFrame(&frame)) break;
      SendFrame(frame);
      ++reply_ahead_frames_;
      sent_ahead_us_ += kFrameUs;
    }
  }
  if (!speaking_) send_credit_ = 0;
  if (finished_) return;
  tick_.At(due_us + kFrameUs, [this] { Tick(); });
}

void TwilioAgentStream::SendFrame(const Frame& frame) {
  encoder_->Encode(frame, &encoded_);
  twilio::Media media;
  media.stream_sid = stream_sid_;
  media.payload.assign(encoded_.begin(), encoded_.end());
  if (!io_.send_text(twilio::Serialize(media, /*to_twilio=*/true))) return;
  ++stats_.frames_out;
  if (metrics_) metrics_->FramesOut();
}

void TwilioAgentStream::SendMark(const std::string& name) {
  twilio::Mark mark;
  mark.stream_sid = stream_sid_;
  mark.name = name;
  if (!io_.send_text(twilio::Serialize(mark, /*to_twilio=*/true))) return;
  ++stats_.marks_sent;
  if (metrics_) metrics_->MarksOut();
}

// The agent's events: speech bounds for the marks, barge-in for clear; then on to the call.
void TwilioAgentStream::Emit(int64_t t_us, std::string_view source, std::string_view kind,
                             const nlohmann::json& detail) {
  if (kind == agent_events::kSpeechStart) {
    speaking_ = true;
    reply_ahead_frames_ = 0;
  } else if (kind == agent_events::kSpeechEnd) {
    speaking_ = false;
    const auto interrupted = detail.find("interrupted");
    const bool cut = interrupted != detail.end() && interrupted->is_boolean() && interrupted->get<bool>();
    if (!cut && !closing_) SendMark("reply-" + std::to_string(++replies_));
  } else if (kind == agent_events::kBargeIn && !closing_) {
    twilio::Clear clear;
    clear.stream_sid = stream_sid_;
    if (io_.send_text(twilio::Serialize(clear, /*to_twilio=*/true))) {
      ++stats_.clears_sent;
      if (metrics_) metrics_->ClearsOut();
    }
    sent_ahead_us_ = 0;
  }
  if (call_) call_->events().Emit(t_us, source, kind, detail);
}

// The agent hung up or transferred after its last reply was pulled: an "end" mark follows that
// audio, and the stream closes when it comes back (or at the bound).
void TwilioAgentStream::OnAgentEnded(const std::string& how) {
  if (!end_reason_.empty() || closing_) return;
  end_reason_ = how == "transfer" ? "transfer" : "agent hangup";
  SendMark("end");
  const int64_t wait_us = MsToUs(config_.end_mark_timeout_ms) + sent_ahead_us_;
  end_timeout_.After(wait_us, [this] {
    Finish(end_reason_);
    closing_ = true;
    io_.close(end_reason_);
  });
}

void TwilioAgentStream::Refuse(const std::string& reason) {
  if (closing_) return;
  Log("stream " + (stream_sid_.empty() ? std::string("(no start)") : stream_sid_) + ": " + reason);
  if (metrics_) metrics_->WsError(WsError::kBadMessage);
  Finish(reason);
  closing_ = true;
  io_.close(reason);
}

void TwilioAgentStream::OnClosed(const std::string& reason) {
  closing_ = true;
  Finish("connection closed: " + reason);
}

// Once: the agent hangs up and the call is handed its end.
void TwilioAgentStream::Finish(const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  start_timeout_.Cancel();
  tick_.Cancel();
  end_timeout_.Cancel();
  if (!call_) return;
  call_->agent().Hangup();
  call_->Finish(reason);
}

}  // namespace callsim::agent
