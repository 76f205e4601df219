// One Twilio Media Stream served by the reference agent: the StreamSession behind /twilio. It reads
// what Twilio sends (connected, start, media, dtmf, mark, stop), feeds the caller's audio to the
// VoiceAgent in 20 ms frames, and sends the agent's speech back as paced `media`, a `mark` after
// each reply that played to its end, and `clear` when the caller barges in.
//
// Audio: mu-law at 8 kHz both ways (the start message must say audio/x-mulaw, 8000 Hz, mono),
// converted to and from the agent's 16 kHz frames by the PCMU codec. Inbound media may come in
// any size; it is cut into 20 ms frames. A gap in the media timestamps (a sender that lost
// audio) is filled with concealment, up to max_gap_fill_frames; a longer gap resynchronizes.
// Outbound, a frame clock ticks every 20 ms on the stream's scheduler (deadlines from the
// stream's start, so it does not drift); each tick pulls send_rate agent frames while the agent
// speaks (1: real-time pacing; 2: twice real time, as Pipecat sends) and one otherwise, and sends
// only reply audio. Each reply starts with lead_frames sent at once, so the far end's playout
// has that much in hand against network jitter (audio sent at exactly real time underruns at the
// first late packet). A tick that runs more than late_frame_us after its deadline counts as late.
//
// Ending: `stop` (or the connection closing) hangs the agent up. When the agent ends the call
// (end_call, transfer_call), the stream sends a mark named "end" after the last audio and closes
// the connection once Twilio echoes it (the caller heard everything), or after
// end_mark_timeout_ms plus the audio sent ahead of real time; the close reason is "agent hangup"
// or "transfer".
//
// Refused, closing this stream only (ServerMetrics::WsError(kBadMessage)): a message that does
// not parse (twilio_messages.h), a second start, media or dtmf before start, an unsupported media
// format, and no start within start_timeout_ms.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/media/codec.h"
#include "agent/media/frame.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scoped_task.h"
#include "agent/server/server_metrics.h"
#include "agent/server/stream_session.h"
#include "agent/server/twilio_messages.h"

namespace callsim::agent {

struct TwilioStreamConfig {
  twilio::Limits limits;
  double send_rate = 1;               // agent frames per 20 ms while it speaks, 1 to 8
  int lead_frames = 5;                // sent at once when a reply starts (100 ms), 0 to 50
  int start_timeout_ms = 10000;       // from the upgrade to `start`
  int max_gap_fill_frames = 50;       // a longer timestamp gap is not filled (1 s)
  int64_t late_frame_us = 5000;       // a tick this late counts as a late frame
  int end_mark_timeout_ms = 2000;     // after the agent ended: wait this long for the "end" mark
};

// What is wrong with `config`, or "".
std::string ValidateTwilioStreamConfig(const TwilioStreamConfig& config);

// The call behind one stream, built when `start` arrives.
class ServedCall {
 public:
  virtual ~ServedCall() = default;
  virtual VoiceAgent& agent() = 0;
  // Where the agent's events go once the stream has read them.
  virtual EventSink& events() = 0;
  // The stream is over (after the agent hung up): `reason` says why. Called once.
  virtual void Finish(const std::string& reason) = 0;
};

// Builds the call for `start` on `scheduler`; its VoiceAgent must report to `agent_events` (the
// stream reads them and passes them on to ServedCall::events()). Null refuses the stream.
using ServedCallFactory = std::function<std::unique_ptr<ServedCall>(
    const twilio::Start& start, Scheduler& scheduler, EventSink& agent_events)>;

struct TwilioStreamStats {
  uint64_t frames_in = 0;    // 20 ms frames given to the agent (received and gap fill)
  uint64_t gap_frames = 0;   // of those, concealment for gaps in the timestamps
  uint64_t frames_out = 0;   // media messages sent
  uint64_t late_ticks = 0;
  uint64_t marks_sent = 0;
  uint64_t marks_echoed = 0;
  uint64_t clears_sent = 0;
};

class TwilioAgentStream final : public StreamSession, private EventSink {
 public:
  // `metrics` may be null; `log` may be empty. Both must outlive the stream.
  TwilioAgentStream(StreamIo io, TwilioStreamConfig config, ServedCallFactory factory,
                    ServerMetrics* metrics, std::function<void(std::string_view)> log);
  ~TwilioAgentStream() override;

  void OnText(std::string_view text) override;
  void OnClosed(const std::string& reason) override;

  const TwilioStreamStats& stats() const { return stats_; }
  bool started() const { return call_ != nullptr; }

 private:
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override;
  void OnStart(const twilio::Start& start);
  void OnMedia(const twilio::Media& media);
  void OnStop();
  void FeedFrame(const uint8_t* mulaw, bool conceal);
  void Tick();
  void SendFrame(const Frame& frame);
  void SendMark(const std::string& name);
  void OnAgentEnded(const std::string& how);
  void Refuse(const std::string& reason);
  void Finish(const std::string& reason);
  void Log(const std::string& line) const;

  StreamIo io_;
  Scheduler& scheduler_;
  TwilioStreamConfig config_;
  ServedCallFactory factory_;
  ServerMetrics* metrics_;
  std::function<void(std::string_view)> log_;
  std::string stream_sid_;
  std::unique_ptr<ServedCall> call_;
  std::unique_ptr<Codec> decoder_ = MakeCodec(CodecKind::kPcmu);
  std::unique_ptr<Codec> encoder_ = MakeCodec(CodecKind::kPcmu);
  std::string inbound_;              // mu-law bytes not yet a whole frame
  int64_t next_timestamp_ms_ = -1;   // the media timestamp expected next
  int64_t clock_start_us_ = 0;
  int64_t ticks_ = 0;
  double send_credit_ = 0;
  int64_t sent_ahead_us_ = 0;        // audio sent beyond real time so far
  int reply_ahead_frames_ = 0;       // of it, in the reply playing now
  bool speaking_ = false;            // between speech_start and speech_end
  int replies_ = 0;
  std::string end_reason_;           // set once the agent ended the call
  bool finished_ = false;
  bool closing_ = false;
  ScopedTask start_timeout_{scheduler_};
  ScopedTask tick_{scheduler_};
  ScopedTask end_timeout_{scheduler_};
  std::string payload_;              // reused per outbound frame
  std::vector<uint8_t> encoded_;
  TwilioStreamStats stats_;
};

}  // namespace callsim::agent
