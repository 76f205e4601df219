#include "agent/media/media_endpoint.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace callsim::agent {
namespace {

std::unique_ptr<Codec> MakeCodecOrThrow(CodecKind kind) {
  std::unique_ptr<Codec> codec = MakeCodec(kind);
  // A programming error, not bad input: the scenario loader validates codec names.
  if (codec == nullptr) {
    throw std::invalid_argument("MediaEndpoint: codec '" + std::string(CodecName(kind)) +
                                "' is not implemented");
  }
  return codec;
}

}  // namespace

MediaEndpoint::MediaEndpoint(Scheduler& scheduler, Link& out, MediaEndpointConfig config,
                             Source source, Sink sink)
    : scheduler_(scheduler),
      out_(out),
      config_(config),
      source_(std::move(source)),
      sink_(std::move(sink)),
      encoder_(MakeCodecOrThrow(config.codec)),
      decoder_(MakeCodecOrThrow(config.codec)),
      jitter_(std::make_unique<JitterBuffer>(*decoder_, config.jitter)) {
  tx_packet_.ssrc = config_.ssrc;
  tx_packet_.payload_type = encoder_->payload_type();
}

MediaEndpoint::~MediaEndpoint() { Stop(); }

void MediaEndpoint::Start() {
  if (tick_task_ != kNoTask) return;
  next_tick_us_ = scheduler_.NowUs();
  marker_pending_ = true;
  if (last_send_us_ >= 0) {
    // RTP timestamps follow the sampling clock through a pause (RFC 3550), in whole frames so
    // they stay on the receiver's playout grid; otherwise the peer would drop everything as late.
    const int64_t frames =
        std::max<int64_t>(1, (next_tick_us_ - last_send_us_ + kFrameUs / 2) / kFrameUs);
    next_timestamp_ += static_cast<uint32_t>((frames - 1) * encoder_->timestamp_step());
  }
  tick_task_ = scheduler_.At(next_tick_us_, [this] { Tick(); });
}

void MediaEndpoint::Stop() {
  if (tick_task_ == kNoTask) return;
  scheduler_.Cancel(tick_task_);
  tick_task_ = kNoTask;
}

void MediaEndpoint::Tick() {
  // Re-arm first, at an exact multiple of the frame time (no drift), so that a Source or Sink
  // that calls Stop() cancels the next tick.
  const int64_t now_us = next_tick_us_;
  next_tick_us_ += kFrameUs;
  tick_task_ = scheduler_.At(next_tick_us_, [this] { Tick(); });

  Frame frame;  // silence unless the source fills it
  source_(&frame);
  encoder_->Encode(frame, &tx_packet_.payload);
  tx_packet_.marker = std::exchange(marker_pending_, false);
  tx_packet_.sequence = next_sequence_++;
  tx_packet_.timestamp = next_timestamp_;
  next_timestamp_ += encoder_->timestamp_step();
  out_.Send(SerializeRtp(tx_packet_));
  ++stats_.packets_sent;
  last_send_us_ = now_us;

  if (jitter_->Pull(now_us, &frame)) sink_(frame, now_us);
}

void MediaEndpoint::OnPacket(Packet packet) {
  ++stats_.packets_received;
  if (!ParseRtp(packet, &rx_packet_, nullptr)) {
    ++stats_.malformed_packets;
    return;
  }
  jitter_->Insert(rx_packet_, scheduler_.NowUs());
}

MediaEndpointStats MediaEndpoint::stats() const {
  MediaEndpointStats stats = stats_;
  stats.jitter = jitter_->stats();
  return stats;
}

}  // namespace callsim::agent
