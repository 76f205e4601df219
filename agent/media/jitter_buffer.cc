#include "agent/media/jitter_buffer.h"

#include <algorithm>
#include <utility>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {
namespace {

constexpr int kConsumedHistorySlots = 64;  // the width of consumed_slots_
// The 95th percentile, as NetEq: a packet in twenty may come too late rather than every call
// paying for the worst one.
constexpr double kDelayQuantile = 0.95;
// Adaptive playout drops a frame only once it is this far above the target. More than a frame,
// so that a drop (20 ms less) never lands below the target and calls for an insert.
constexpr int64_t kShrinkSlackUs = kFrameUs * 3 / 2;

}  // namespace

JitterBuffer::JitterBuffer(Codec& decoder, JitterBufferConfig config)
    : decoder_(decoder),
      config_(config),
      slots_(static_cast<size_t>(std::max(0, config.max_packets))),
      timestamp_step_(decoder.timestamp_step()),
      clock_rate_hz_(decoder.clock_rate_hz()),
      payload_type_(decoder.payload_type()),
      estimator_(kDelayQuantile) {
  const int buffer_ms = std::max(0, config.max_packets - 1) * kFrameMs;
  max_delay_us_ = int64_t{std::clamp(config.max_delay_ms, 0, buffer_ms)} * kMicrosPerMs;
  min_delay_us_ = std::clamp(int64_t{config.min_delay_ms} * kMicrosPerMs, int64_t{0}, max_delay_us_);
  const int64_t configured_us = int64_t{config.target_delay_ms} * kMicrosPerMs;
  start_delay_us_ =
      config.adaptive ? std::clamp(configured_us, min_delay_us_, max_delay_us_) : configured_us;
  stats_.target_delay_ms = static_cast<double>(start_delay_us_) / kMicrosPerMs;
  used_.reserve(slots_.size());
  free_.reserve(slots_.size());
  for (size_t i = slots_.size(); i > 0; --i) free_.push_back(static_cast<uint32_t>(i - 1));
}

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

int64_t JitterBuffer::MediaUs(int64_t timestamp) const {
  return (timestamp - first_timestamp_) * kMicrosPerSecond / clock_rate_hz_;
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

const JitterBuffer::Slot* JitterBuffer::Find(int64_t timestamp) const {
  for (uint32_t index : used_) {
    if (slots_[index].timestamp == timestamp) return &slots_[index];
  }
  return nullptr;
}

JitterBuffer::Slot* JitterBuffer::Find(int64_t timestamp) {
  return const_cast<Slot*>(std::as_const(*this).Find(timestamp));
}

bool JitterBuffer::DueHeld() const { return !playing_ || Find(next_playout_ts_) != nullptr; }

void JitterBuffer::Release(Slot* slot) {
  slot->used = false;  // the buffer keeps its capacity for the next packet
  --held_;
  const auto index = static_cast<uint32_t>(slot - slots_.data());
  const auto it = std::find(used_.begin(), used_.end(), index);
  *it = used_.back();
  used_.pop_back();
  free_.push_back(index);
}

void JitterBuffer::Insert(const RtpView& packet, int64_t arrival_us,
                          std::vector<uint8_t>* storage) {
  ++stats_.received;
  if (packet.payload_type != payload_type_) {
    ++stats_.wrong_payload_type;
    return;
  }
  if (!have_first_) {
    have_first_ = true;
    first_arrival_us_ = arrival_us;
    first_timestamp_ = packet.timestamp;
    last_timestamp_ = packet.timestamp;
    last_sequence_ = packet.sequence;
    highest_sequence_ = packet.sequence;
    next_playout_ts_ = packet.timestamp;
  }
  const int64_t timestamp = UnwrapTimestamp(packet.timestamp);
  const int64_t sequence = UnwrapSequence(packet.sequence);
  if (Find(timestamp) != nullptr || WasConsumed(timestamp)) {
    ++stats_.duplicates;
    return;
  }
  if (sequence < highest_sequence_) {
    ++stats_.reordered;
  } else {
    highest_sequence_ = sequence;
  }
  // Late packets count too: how late they come is what the delay must cover.
  if (config_.adaptive || !playing_) {
    estimator_.Add(MediaUs(timestamp), arrival_us);
  } else {
    estimator_.AddInterarrivalOnly(MediaUs(timestamp), arrival_us);
  }
  stats_.interarrival_jitter_ms = estimator_.interarrival_jitter_us() / kMicrosPerMs;
  if (RejectLate(timestamp)) return;
  if (held_ >= slots_.size()) {
    ++stats_.overflow_dropped;
    return;
  }
  const uint32_t index = free_.back();
  free_.pop_back();
  used_.push_back(index);
  Slot& slot = slots_[index];
  slot.used = true;
  slot.timestamp = timestamp;
  slot.arrival_us = arrival_us;
  // Addresses as integers: comparing pointers into different objects is unspecified.
  const auto begin = storage != nullptr ? reinterpret_cast<uintptr_t>(storage->data()) : 0;
  const auto payload = reinterpret_cast<uintptr_t>(packet.payload.data());
  if (begin != 0 && payload >= begin &&
      payload + packet.payload.size() <= begin + storage->size()) {
    slot.payload_offset = payload - begin;
    slot.bytes.swap(*storage);  // no copy: the same heap buffer changes owner
  } else {
    slot.payload_offset = 0;
    slot.bytes.assign(packet.payload.begin(), packet.payload.end());
  }
  slot.payload_size = packet.payload.size();
  ++held_;
}

void JitterBuffer::DropPassed() {
  for (size_t i = 0; i < used_.size();) {
    Slot& slot = slots_[used_[i]];
    if (slot.timestamp < next_playout_ts_) {
      Release(&slot);  // moves the last index into position i
      ++stats_.late_dropped;
    } else {
      ++i;
    }
  }
}

bool JitterBuffer::Pull(int64_t now_us, Frame* out) {
  if (!have_first_) return false;
  if (!playing_) {
    if (now_us < first_arrival_us_ + start_delay_us_) return false;
    playing_ = true;
    last_target_change_us_ = now_us;
    playout_transit_us_ = estimator_.floor_transit_us() + start_delay_us_;
  }
  DropPassed();
  const int action = config_.adaptive ? AdaptPlayout(now_us) : 0;
  if (action > 0) {
    ++stats_.delay_grow_frames;
    ++stats_.concealed;
    decoder_.Conceal(out);
  } else {
    if (action < 0) SkipDue();
    PlayDue(now_us, out);
  }
  UpdateShares();
  return true;
}

int JitterBuffer::AdaptPlayout(int64_t now_us) {
  // Targets are transit times: "play each frame this long after it was sent". Keeping the
  // target there rather than relative to the fastest path means a route change (every packet
  // slower, then the fast ones forgotten) moves the target once, not twice.
  const int64_t floor_us = estimator_.floor_transit_us();
  const int64_t lowest_us = floor_us + min_delay_us_;
  const int64_t highest_us = floor_us + max_delay_us_;
  const int64_t wanted_us = std::clamp(floor_us + estimator_.spread_us(), lowest_us, highest_us);
  const int64_t shrink_interval_us = int64_t{config_.shrink_interval_ms} * kMicrosPerMs;
  if (wanted_us > playout_transit_us_) {
    playout_transit_us_ = wanted_us;  // at once: a late packet costs a concealed frame
    last_target_change_us_ = now_us;
  } else if (wanted_us < playout_transit_us_ &&
             now_us - last_target_change_us_ >= shrink_interval_us) {
    // Slowly: jitter comes in bursts, and a delay that falls between them is missing at the next.
    playout_transit_us_ = std::max(wanted_us, playout_transit_us_ - kFrameUs);
    last_target_change_us_ = now_us;
  }
  playout_transit_us_ = std::min(playout_transit_us_, highest_us);  // the bound holds at once
  stats_.target_delay_ms = static_cast<double>(playout_transit_us_ - floor_us) / kMicrosPerMs;
  // How long after it was sent the frame due would be played now.
  const int64_t transit_us = now_us - MediaUs(next_playout_ts_);
  if (transit_us < playout_transit_us_) return +1;
  if (transit_us >= playout_transit_us_ + kShrinkSlackUs) return -1;
  return 0;
}

void JitterBuffer::PlayDue(int64_t now_us, Frame* out) {
  Slot* due = Find(next_playout_ts_);
  if (due == nullptr) {
    RecoverOrConceal(out);
    Advance(false);
    return;
  }
  if (decoder_.Decode(due->payload(), out)) {
    ++stats_.played;
    const int64_t waited_us = now_us - due->arrival_us;
    buffer_delay_sum_us_ += waited_us;
    stats_.max_buffer_delay_ms =
        std::max(stats_.max_buffer_delay_ms, static_cast<double>(waited_us) / kMicrosPerMs);
  } else {
    ++stats_.decode_errors;
    RecoverOrConceal(out);
  }
  Release(due);
  Advance(true);
}

void JitterBuffer::SkipDue() {
  ++stats_.delay_shrink_frames;
  Slot* due = Find(next_playout_ts_);
  if (due != nullptr) {
    decoder_.Decode(due->payload(), &scratch_);
    Release(due);
  }
  Advance(due != nullptr);
  DropPassed();  // nothing on the grid, but a packet off it may have just passed
}

void JitterBuffer::RecoverOrConceal(Frame* out) {
  Slot* next = Find(next_playout_ts_ + timestamp_step_);
  if (next != nullptr && decoder_.RecoverFromNext(next->payload(), out)) {
    ++stats_.fec_recovered;
    return;
  }
  ++stats_.concealed;
  decoder_.Conceal(out);
}

void JitterBuffer::Advance(bool consumed) {
  consumed_slots_ = (consumed_slots_ << 1) | (consumed ? 1 : 0);
  next_playout_ts_ += timestamp_step_;
}

void JitterBuffer::UpdateShares() {
  const uint64_t output = stats_.played + stats_.fec_recovered + stats_.concealed;
  stats_.concealed_share = static_cast<double>(stats_.concealed) / static_cast<double>(output);
  if (stats_.played > 0) {
    stats_.mean_buffer_delay_ms = static_cast<double>(buffer_delay_sum_us_) /
                                  static_cast<double>(stats_.played) / kMicrosPerMs;
  }
}

}  // namespace callsim::agent
