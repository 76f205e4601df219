// One side of a call's media: every 20 ms it takes the next outgoing frame from its source, encodes
// and packetizes it and sends it on the outgoing Link; and it pulls the next received frame from its
// jitter buffer and hands it to its sink. Used by the reference agent and by simulated callers alike.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "agent/media/codec.h"
#include "agent/media/frame.h"
#include "agent/media/jitter_buffer.h"
#include "agent/media/rtp.h"
#include "agent/runtime/link.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

struct MediaEndpointConfig {
  CodecKind codec = CodecKind::kL16;
  uint32_t ssrc = 1;
  JitterBufferConfig jitter;
};

struct MediaEndpointStats {
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  uint64_t malformed_packets = 0;  // failed RTP parsing; dropped
  JitterBufferStats jitter;
};

class MediaEndpoint {
 public:
  // Fills the next outgoing frame (20 ms). Called once per tick.
  using Source = std::function<void(Frame* out)>;
  // Receives the next played-out frame; `frame_start_us` is when its first sample is heard.
  using Sink = std::function<void(const Frame& frame, int64_t frame_start_us)>;

  // `out` carries our packets to the peer; packets from the peer are given to OnPacket().
  MediaEndpoint(Scheduler& scheduler, Link& out, MediaEndpointConfig config, Source source, Sink sink);
  ~MediaEndpoint();

  // Starts the 20 ms tick at the scheduler's current time. Stop() cancels it; both are idempotent.
  void Start();
  void Stop();

  // Incoming packet from the peer's link (bytes as on the wire).
  void OnPacket(Packet packet);

  MediaEndpointStats stats() const;

 private:
  void Tick();

  Scheduler& scheduler_;
  Link& out_;
  MediaEndpointConfig config_;
  Source source_;
  Sink sink_;
  std::unique_ptr<Codec> encoder_;
  std::unique_ptr<Codec> decoder_;
  std::unique_ptr<JitterBuffer> jitter_;
  TaskId tick_task_ = kNoTask;
  int64_t next_tick_us_ = 0;
  uint16_t next_sequence_ = 0;
  uint32_t next_timestamp_ = 0;
  MediaEndpointStats stats_;
  bool marker_pending_ = true;  // the first packet after Start() starts a talkspurt
  int64_t last_send_us_ = -1;   // when the last packet was sent; -1 before the first
  // Reused every tick / packet so their buffers are allocated once, not per frame.
  RtpPacket tx_packet_;
  RtpPacket rx_packet_;
};

}  // namespace callsim::agent
