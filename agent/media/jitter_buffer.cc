#include "agent/media/jitter_buffer.h"

#include "agent/runtime/scheduler.h"

namespace callsim::agent {
namespace {

constexpr int kConsumedHistorySlots = 64;  // the width of consumed_slots_

}  // namespace

JitterBuffer::JitterBuffer(Codec& decoder, JitterBufferConfig config)
    : decoder_(decoder), config_(config), timestamp_step_(decoder.timestamp_step()) {}

int64_t JitterBuffer::UnwrapTimestamp(uint32_t timestamp) {
  const auto delta = static_cast<int32_t>(timestamp - static_cast<uint32_t>(last_timestamp_));
  last_timestamp_ += delta;
  return last_timestamp_;
}

int64_t JitterBuffer::UnwrapSequence(uint16_t sequence) {
  const auto delta = static_cast<int16_t>(sequence - static_cast<uint16_t>(last_sequence_));
  last_sequence_ += delta;
  return last_sequence_;
}

bool JitterBuffer::WasConsumed(int64_t timestamp) const {
  const int64_t distance = next_playout_ts_ - timestamp;
  if (distance <= 0 || distance % timestamp_step_ != 0) return false;
  const int64_t slot = distance / timestamp_step_ - 1;
  return slot < kConsumedHistorySlots && ((consumed_slots_ >> slot) & 1) != 0;
}

bool JitterBuffer::RejectLate(int64_t timestamp) {
  if (timestamp >= next_playout_ts_) return false;
  // Before playout starts, an earlier packet (the first two swapped) moves the start back, by at
  // most what the buffer could hold anyway.
  const int64_t max_rewind = int64_t{config_.max_packets} * timestamp_step_;
  if (!playing_ && next_playout_ts_ - timestamp <= max_rewind) {
    next_playout_ts_ = timestamp;
    return false;
  }
  ++stats_.late_dropped;
  return true;
}

void JitterBuffer::Insert(const RtpPacket& packet, int64_t arrival_us) {
  ++stats_.received;
  if (packet.payload_type != decoder_.payload_type()) {
    ++stats_.wrong_payload_type;
    return;
  }
  if (!have_first_) {
    have_first_ = true;
    first_arrival_us_ = arrival_us;
    last_timestamp_ = packet.timestamp;
    last_sequence_ = packet.sequence;
    highest_sequence_ = packet.sequence;
    next_playout_ts_ = packet.timestamp;
  }
  const int64_t timestamp = UnwrapTimestamp(packet.timestamp);
  const int64_t sequence = UnwrapSequence(packet.sequence);
  if (packets_.count(timestamp) > 0 || WasConsumed(timestamp)) {
    ++stats_.duplicates;
    return;
  }
  if (sequence < highest_sequence_) {
    ++stats_.reordered;
  } else {
    highest_sequence_ = sequence;
  }
  if (RejectLate(timestamp)) return;
  if (packets_.size() >= static_cast<size_t>(config_.max_packets)) {
    ++stats_.overflow_dropped;
    return;
  }
  packets_.emplace(timestamp, packet);
}

void JitterBuffer::DropPassed() {
  while (!packets_.empty() && packets_.begin()->first < next_playout_ts_) {
    packets_.erase(packets_.begin());
    ++stats_.late_dropped;
  }
}

bool JitterBuffer::Pull(int64_t now_us, Frame* out) {
  if (!have_first_) return false;
  if (!playing_) {
    if (now_us < first_arrival_us_ + int64_t{config_.target_delay_ms} * kMicrosPerMs) return false;
    playing_ = true;
  }
  DropPassed();
  bool consumed = false;
  const auto it = packets_.find(next_playout_ts_);
  if (it != packets_.end()) {
    consumed = true;
    if (decoder_.Decode(it->second.payload, out)) {
      ++stats_.played;
    } else {
      ++stats_.decode_errors;
      ++stats_.concealed;
      decoder_.Conceal(out);
    }
    packets_.erase(it);
  } else {
    ++stats_.concealed;
    decoder_.Conceal(out);
  }
  consumed_slots_ = (consumed_slots_ << 1) | (consumed ? 1 : 0);
  next_playout_ts_ += timestamp_step_;
  return true;
}

}  // namespace callsim::agent
