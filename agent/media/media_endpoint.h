// One side of a call's media: every 20 ms it takes the next outgoing frame from its source, encodes
// and packetizes it and sends it on the outgoing Link; and it pulls the next received frame from its
// jitter buffer and hands it to its sink. Used by the reference agent and by simulated callers alike.
// DTMF keys travel as RFC 4733 telephone events in the same RTP stream (same SSRC and sequence
// space), replacing the audio packets while a key is held.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

#include "agent/media/codec.h"
#include "agent/media/frame.h"
#include "agent/media/jitter_buffer.h"
#include "agent/media/rtp.h"
#include "agent/media/telephone_event.h"
#include "agent/runtime/link.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"

namespace callsim::agent {

struct MediaEndpointConfig {
  CodecKind codec = CodecKind::kL16;
  uint32_t ssrc = 1;
  // The receive side; `jitter.adaptive` and its bounds choose the adaptive mode.
  JitterBufferConfig jitter{};
  uint8_t dtmf_payload_type = kTelephoneEventPayloadType;
  // The codec's settings (Opus: rate, FEC, loss hint, bit rate, complexity), for both directions.
  // Must pass ValidateCodecOptions(codec, ...), or the constructor throws.
  CodecOptions codec_options{};
};

// A bound on DTMF keys waiting to be sent; more are dropped (MediaEndpointStats::dtmf_dropped).
inline constexpr size_t kMaxQueuedDtmfKeys = 32;

// On the real clock a tick that runs kStallUs or more late means this process stalled (in
// virtual time a task runs at its time, so this never happens there). The peer's packets for the
// frames falling due may be in the socket, or still on their way from a peer that stalled with
// us (a caller and its agent in one process, whose packets due in the stall all leave at its
// end), so playing them out at once would conceal frames whose packets arrive a moment later,
// and then drop those as late. Instead, for as long again as the stall lasted, a frame due whose
// packet is not in waits for it, in order behind the frames already waiting, until that shadow
// of the stall is over (at most kMaxStallWaitUs after its tick); then the frames play from the
// jitter buffer with their own times. A stall of the process delays what the sink is given, not
// what it hears. At most kMaxDeferredFrames wait; a frame beyond plays the oldest.
inline constexpr int64_t kStallUs = 10000;
inline constexpr int64_t kMaxStallWaitUs = 200000;
inline constexpr size_t kMaxDeferredFrames = 50;

struct MediaEndpointStats {
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  uint64_t malformed_packets = 0;  // failed RTP parsing (or a bad telephone-event payload); dropped
  uint64_t dtmf_packets_sent = 0;
  uint64_t dtmf_dropped = 0;  // SendDtmf keys refused: not a DTMF key, or the queue was full
  uint64_t dtmf_packets_received = 0;
  uint64_t dtmf_keys_received = 0;  // distinct events reported to the DtmfSink
  // Frames whose playout waited for a stall of this process to pass (see kStallUs): a late tick
  // whose frame's packet was not in yet, and the frames behind it.
  uint64_t playout_deferred = 0;
  JitterBufferStats jitter;  // incl. concealment, FEC recovery, late drops and buffer delay
};

class MediaEndpoint {
 public:
  // Fills the next outgoing frame (20 ms). Called once per tick.
  using Source = std::function<void(Frame* out)>;
  // Receives the next played-out frame; `frame_start_us` is when its first sample is heard.
  using Sink = std::function<void(const Frame& frame, int64_t frame_start_us)>;
  // A DTMF key the peer pressed ('0'-'9', '*', '#', 'A'-'D'), once per event, when its first
  // packet arrives (`arrival_us`).
  using DtmfSink = std::function<void(char key, int64_t arrival_us)>;

  // `out` carries our packets to the peer; packets from the peer are given to OnPacket().
  MediaEndpoint(Scheduler& scheduler, Link& out, MediaEndpointConfig config, Source source, Sink sink);
  ~MediaEndpoint();

  // Starts the 20 ms tick at the scheduler's current time. Stop() cancels it (first playing the
  // frames a stall held back); both are idempotent.
  void Start();
  void Stop();

  // Incoming packet from the peer's link (bytes as on the wire).
  void OnPacket(Packet packet);

  // Presses `key` for `duration_ms` (rounded to whole 20 ms frames, at least one, at most what
  // the 16-bit duration field holds), starting at the next tick, or after the keys already
  // queued. While it lasts the source's audio is discarded and event packets go out instead:
  // one per tick with the event's start timestamp and a growing duration (the first with the
  // marker bit), the last one sent three times with the end bit. RTP timestamps keep running, so
  // audio resumes on its grid. A character that is not a DTMF key, or a key beyond
  // kMaxQueuedDtmfKeys waiting, is dropped and counted.
  void SendDtmf(char key, int duration_ms);
  // Where received keys go (none by default: they are counted and dropped).
  void set_dtmf_sink(DtmfSink sink) { dtmf_sink_ = std::move(sink); }

  MediaEndpointStats stats() const;

 private:
  struct DtmfPress {
    uint8_t event;
    int frames;
  };
  void Tick();
  void PlayOut(int64_t due_us);
  // Plays the deferred frames whose packet is in or whose wait is over (all of them: `all`).
  void PlayDeferred(bool all);
  // A packet's header in a reused buffer (the next sequence number), for the payload to follow.
  Packet StartPacket(bool marker, uint32_t timestamp);
  void SendPacket(Packet bytes);
  void SendDtmfTick();
  // Counts a received telephone event; returns the key to report ('\0': none, a repeat, or
  // malformed).
  char OnTelephoneEvent(const RtpView& rx);

  Scheduler& scheduler_;
  Link& out_;
  MediaEndpointConfig config_;
  Source source_;
  Sink sink_;
  std::unique_ptr<Codec> encoder_;
  std::unique_ptr<Codec> decoder_;
  std::unique_ptr<JitterBuffer> jitter_;
  ScopedTask tick_task_{scheduler_};
  // Playout held back by a stall (kStallUs), oldest first: when each frame was due, and until
  // when (this clock) it waits for its packet.
  struct Deferred {
    int64_t due_us;
    int64_t wait_until_us;
    bool waited = false;  // it did not play at once (MediaEndpointStats::playout_deferred)
  };
  std::deque<Deferred> deferred_;
  int64_t stall_shadow_until_us_ = 0;  // this clock; see kStallUs
  ScopedTask settle_task_{scheduler_};
  int64_t next_tick_us_ = 0;
  uint16_t next_sequence_ = 0;
  uint32_t next_timestamp_ = 0;
  MediaEndpointStats stats_;
  bool marker_pending_ = true;  // the first packet after Start() starts a talkspurt
  int64_t last_send_us_ = -1;   // when the last packet was sent; -1 before the first
  // The header fields of the packets we send (its payload stays empty: payloads are written
  // straight into the packet).
  RtpPacket tx_packet_;
  // A received packet's buffer, kept for the next packet sent (no bigger than a packet we send
  // could need: a hostile peer's 64 KB datagram is not kept).
  static constexpr size_t kMaxSparePacketBytes = 2048;
  Packet spare_;

  // DTMF sending: the key being sent (dtmf_frame_ < its frames) and those waiting.
  DtmfSink dtmf_sink_;
  std::deque<DtmfPress> dtmf_queue_;
  bool dtmf_active_ = false;
  DtmfPress dtmf_current_{};
  int dtmf_frame_ = 0;
  uint32_t dtmf_start_timestamp_ = 0;
  // DTMF receiving: start timestamps of the latest events, to report each event once although
  // its packets repeat (and may arrive duplicated or reordered).
  static constexpr size_t kRecentDtmfEvents = 8;
  std::array<uint32_t, kRecentDtmfEvents> recent_dtmf_timestamps_{};
  size_t recent_dtmf_count_ = 0;
};

}  // namespace callsim::agent
