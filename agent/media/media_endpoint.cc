#include "agent/media/media_endpoint.h"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace callsim::agent {
namespace {

std::unique_ptr<Codec> MakeCodecOrThrow(CodecKind kind, const CodecOptions& options) {
  // A programming error, not bad input: the scenario loader validates codec names and settings.
  std::string error;
  if (!ValidateCodecOptions(kind, options, &error)) {
    throw std::invalid_argument("MediaEndpoint: codec '" + std::string(kCodecNames.Name(kind)) +
                                "': " + error);
  }
  std::unique_ptr<Codec> codec = MakeCodec(kind, options);
  if (codec == nullptr) {
    throw std::invalid_argument("MediaEndpoint: codec '" + std::string(kCodecNames.Name(kind)) +
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
      encoder_(MakeCodecOrThrow(config.codec, config.codec_options)),
      decoder_(MakeCodecOrThrow(config.codec, config.codec_options)),
      jitter_(std::make_unique<JitterBuffer>(*decoder_, config.jitter)) {
  tx_packet_.ssrc = config_.ssrc;
  tx_packet_.payload_type = encoder_->payload_type();
}

MediaEndpoint::~MediaEndpoint() = default;  // the tasks cancel themselves; no sink is called

void MediaEndpoint::Start() {
  if (tick_task_.pending()) return;
  next_tick_us_ = scheduler_.NowUs();
  marker_pending_ = true;
  if (last_send_us_ >= 0) {
    // RTP timestamps follow the sampling clock through a pause (RFC 3550), in whole frames so
    // they stay on the receiver's playout grid; otherwise the peer would drop everything as late.
    const int64_t frames =
        std::max<int64_t>(1, (next_tick_us_ - last_send_us_ + kFrameUs / 2) / kFrameUs);
    next_timestamp_ += static_cast<uint32_t>((frames - 1) * encoder_->timestamp_step());
  }
  tick_task_.At(next_tick_us_, [this] { Tick(); });
}

void MediaEndpoint::Stop() {
  tick_task_.Cancel();
  PlayDeferred(/*all=*/true);
}

void MediaEndpoint::Tick() {
  // Re-arm first, at an exact multiple of the frame time (no drift), so that a Source or Sink
  // that calls Stop() cancels the next tick.
  const int64_t now_us = next_tick_us_;
  next_tick_us_ += kFrameUs;
  tick_task_.At(next_tick_us_, [this] { Tick(); });

  Frame frame;  // silence unless the source fills it
  source_(&frame);  // also while a key is pressed: the source keeps its own clock
  if (dtmf_active_ || !dtmf_queue_.empty()) {
    SendDtmfTick();
  } else {
    tx_packet_.payload_type = encoder_->payload_type();
    Packet bytes = StartPacket(std::exchange(marker_pending_, false), next_timestamp_);
    encoder_->EncodeAppend(frame, &bytes);  // the payload is written once, in the packet
    SendPacket(std::move(bytes));
  }
  next_timestamp_ += encoder_->timestamp_step();
  last_send_us_ = now_us;
  PlayOut(now_us);
}

void MediaEndpoint::PlayOut(int64_t due_us) {
  const int64_t now_us = scheduler_.NowUs();
  const int64_t late_us = now_us - due_us;
  if (late_us >= kStallUs) {
    stall_shadow_until_us_ =
        std::max(stall_shadow_until_us_, now_us + std::min(late_us, kMaxStallWaitUs));
  }
  const bool in_shadow = now_us < stall_shadow_until_us_ && !jitter_->DueHeld();
  if (deferred_.empty() && late_us < kStallUs && !in_shadow) {
    Frame frame;
    if (jitter_->Pull(due_us, &frame)) sink_(frame, due_us);
    return;
  }
  // Frames play in order, so none waits less than the one before it.
  int64_t wait_until_us = std::min(stall_shadow_until_us_, now_us + kMaxStallWaitUs);
  if (!deferred_.empty()) wait_until_us = std::max(wait_until_us, deferred_.back().wait_until_us);
  deferred_.push_back({due_us, wait_until_us});
  PlayDeferred(/*all=*/false);
}

// A sink may call Stop() (which comes back here) or Start(): each frame is taken off the queue
// before it is played, so a nested call plays only what is left.
void MediaEndpoint::PlayDeferred(bool all) {
  settle_task_.Cancel();
  while (!deferred_.empty()) {
    const Deferred next = deferred_.front();
    if (!all && deferred_.size() <= kMaxDeferredFrames && !jitter_->DueHeld() &&
        scheduler_.NowUs() < next.wait_until_us) {
      for (Deferred& d : deferred_) d.waited = true;
      settle_task_.At(next.wait_until_us, [this] { PlayDeferred(/*all=*/false); });
      return;
    }
    deferred_.pop_front();
    if (next.waited) ++stats_.playout_deferred;
    Frame frame;
    if (jitter_->Pull(next.due_us, &frame)) sink_(frame, next.due_us);
  }
}

Packet MediaEndpoint::StartPacket(bool marker, uint32_t timestamp) {
  tx_packet_.marker = marker;
  tx_packet_.sequence = next_sequence_++;
  tx_packet_.timestamp = timestamp;
  Packet bytes = std::exchange(spare_, Packet());
  SerializeRtpHeaderInto(tx_packet_, &bytes);
  return bytes;
}

void MediaEndpoint::SendPacket(Packet bytes) {
  out_.Send(std::move(bytes));
  ++stats_.packets_sent;
}

void MediaEndpoint::SendDtmf(char key, int duration_ms) {
  const std::optional<uint8_t> code = DtmfEventCode(key);
  if (!code || dtmf_queue_.size() >= kMaxQueuedDtmfKeys) {
    ++stats_.dtmf_dropped;
    return;
  }
  const int max_frames = static_cast<int>(0xffff / encoder_->timestamp_step());
  const int frames = std::clamp((duration_ms + kFrameMs / 2) / kFrameMs, 1, max_frames);
  dtmf_queue_.push_back(DtmfPress{*code, frames});
}

// One tick of the key being pressed (RFC 4733 section 2.5.1): every packet of an event carries
// its start timestamp; the duration covers the event up to the end of this tick's frame.
void MediaEndpoint::SendDtmfTick() {
  if (!dtmf_active_) {
    dtmf_current_ = dtmf_queue_.front();
    dtmf_queue_.pop_front();
    dtmf_active_ = true;
    dtmf_frame_ = 0;
    dtmf_start_timestamp_ = next_timestamp_;
  }
  TelephoneEvent event;
  event.event = dtmf_current_.event;
  event.duration = static_cast<uint16_t>((dtmf_frame_ + 1) * encoder_->timestamp_step());
  event.end = dtmf_frame_ + 1 == dtmf_current_.frames;
  const std::array<uint8_t, kTelephoneEventBytes> payload = SerializeTelephoneEvent(event);
  tx_packet_.payload_type = config_.dtmf_payload_type;
  const int copies = event.end ? 3 : 1;  // the end packet is repeated against loss
  for (int i = 0; i < copies; ++i) {
    Packet bytes = StartPacket(dtmf_frame_ == 0 && i == 0, dtmf_start_timestamp_);
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    SendPacket(std::move(bytes));
    ++stats_.dtmf_packets_sent;
  }
  ++dtmf_frame_;
  if (event.end) {
    dtmf_active_ = false;
    marker_pending_ = true;  // the audio after the key starts a new talkspurt
  }
}

void MediaEndpoint::OnPacket(Packet packet) {
  ++stats_.packets_received;
  const int64_t now_us = scheduler_.NowUs();
  RtpView rx;  // points into `packet`
  const bool parsed = ParseRtpView(packet, &rx, nullptr);
  const bool is_dtmf = parsed && rx.payload_type == config_.dtmf_payload_type;
  char key = '\0';
  if (is_dtmf) {
    key = OnTelephoneEvent(rx);
  } else if (parsed) {
    jitter_->Insert(rx, now_us, &packet);  // takes the packet's buffer, hands back an old one
  }
  // Read: the buffer left over (the jitter buffer's old one, or this packet's) carries our next
  // packet, so a steady stream allocates nothing per packet. Kept before anything below runs a
  // sink, which may end the call.
  if (packet.capacity() <= kMaxSparePacketBytes && packet.capacity() > spare_.capacity()) {
    spare_ = std::move(packet);
  }
  if (!parsed) {
    ++stats_.malformed_packets;
    return;
  }
  if (is_dtmf) {
    if (key != '\0' && dtmf_sink_) dtmf_sink_(key, now_us);
    return;
  }
  if (!deferred_.empty()) PlayDeferred(/*all=*/false);
}

char MediaEndpoint::OnTelephoneEvent(const RtpView& rx) {
  TelephoneEvent event;
  if (!ParseTelephoneEvent(rx.payload, &event, nullptr)) {
    ++stats_.malformed_packets;
    return '\0';
  }
  ++stats_.dtmf_packets_received;
  const char key = DtmfKey(event.event);
  if (key == '\0') return '\0';  // another kind of telephone event (flash, tones): not a key
  const size_t known = std::min(recent_dtmf_count_, kRecentDtmfEvents);
  for (size_t i = 0; i < known; ++i) {
    if (recent_dtmf_timestamps_[i] == rx.timestamp) return '\0';  // a repeat of a known event
  }
  recent_dtmf_timestamps_[recent_dtmf_count_++ % kRecentDtmfEvents] = rx.timestamp;
  ++stats_.dtmf_keys_received;
  return key;
}

MediaEndpointStats MediaEndpoint::stats() const {
  MediaEndpointStats stats = stats_;
  stats.jitter = jitter_->stats();
  return stats;
}

}  // namespace callsim::agent
