// A receive-side jitter buffer: holds RTP packets until their playout time, puts reordered packets
// back in order, rebuilds a missing frame from the next packet's in-band FEC when it can and
// conceals it otherwise, drops packets that arrive after their playout time, and counts every
// case (NetEq-style statistics). Sans-I/O: the owner calls Insert() on arrival and Pull() every
// 20 ms. Two modes:
// - fixed (adaptive = false): playout starts target_delay_ms after the first packet arrives and
//   then advances one frame per Pull, whatever happens;
// - adaptive: the target delay (how long after the fastest recent packet's path would deliver a
//   frame it is played) follows the measured arrival jitter (JitterEstimator: the 95th
//   percentile transit minus the fastest, over the last 128 packets), clamped to [min_delay_ms,
//   max_delay_ms]. It rises at once and falls by one frame per shrink_interval_ms at most. The
//   playout point follows the target a frame at a time: below the target a Pull returns a
//   concealment frame without advancing (playout waits 20 ms); 30 ms or more above it a Pull drops
//   the frame due (decoded and discarded, so the decoder keeps its state) and plays the next.
//   Neither looks for silence first: the glitch is one frame of made-up or skipped audio.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "agent/media/codec.h"
#include "agent/media/frame.h"
#include "agent/media/jitter_estimator.h"
#include "agent/media/rtp.h"

namespace callsim::agent {

struct JitterBufferConfig {
  // Fixed mode: playout starts this long after the first packet arrives. Adaptive mode: the
  // starting target (clamped to [min_delay_ms, max_delay_ms]).
  int target_delay_ms = 40;
  int max_packets = 50;  // a bound: a packet beyond it is dropped (counted as overflow)
  bool adaptive = false;
  // Adaptive mode: the target's bounds. max_delay_ms is also held below what max_packets frames
  // cover, so the buffer can always hold its target.
  int min_delay_ms = 20;
  int max_delay_ms = 400;
  // Adaptive mode: the target may fall by one frame (20 ms) per this interval at most.
  int shrink_interval_ms = 500;
};

// What happened to the stream so far. Every Pull after playout starts outputs one frame:
// played + fec_recovered + concealed frames in all.
struct JitterBufferStats {
  uint64_t received = 0;          // packets offered to Insert
  uint64_t played = 0;            // frames decoded from their own packet
  uint64_t concealed = 0;         // frames made up by concealment (incl. delay_grow_frames)
  uint64_t late_dropped = 0;      // packets that arrived after their playout time
  uint64_t duplicates = 0;        // packets whose timestamp was already buffered or played
  uint64_t reordered = 0;         // packets that arrived after a later packet
  uint64_t overflow_dropped = 0;  // packets dropped because the buffer was full
  uint64_t decode_errors = 0;     // payloads the codec rejected (recovered or concealed instead)
  uint64_t wrong_payload_type = 0;
  // Lost (or undecodable) frames rebuilt from the next packet's in-band FEC: real audio at a
  // lower quality, so neither counted nor marked as concealed.
  uint64_t fec_recovered = 0;
  uint64_t delay_grow_frames = 0;    // adaptive: concealment frames inserted to raise the delay
  uint64_t delay_shrink_frames = 0;  // adaptive: frames dropped (not played) to lower the delay
  double concealed_share = 0;        // concealed / frames output (0 before playout)
  // From arrival to playout, over the frames played from their own packet (0 before any).
  double mean_buffer_delay_ms = 0;
  double max_buffer_delay_ms = 0;
  // The current target: fixed mode the configured one; adaptive mode what the jitter asks for.
  double target_delay_ms = 0;
  double interarrival_jitter_ms = 0;  // RFC 3550 6.4.1, for reporting
};

class JitterBuffer {
 public:
  // `decoder` must outlive the buffer and decode the stream's payload type.
  JitterBuffer(Codec& decoder, JitterBufferConfig config);

  // `packet` is copied. Given `storage`, the bytes `packet` points into, the buffer holding a
  // packet is taken instead of copied: *storage is swapped with a buffer the buffer no longer
  // needs (empty, or an earlier packet's, for the caller to reuse).
  void Insert(const RtpView& packet, int64_t arrival_us, std::vector<uint8_t>* storage = nullptr);
  void Insert(const RtpPacket& packet, int64_t arrival_us) {
    Insert(RtpView{packet.marker, packet.payload_type, packet.sequence, packet.timestamp,
                   packet.ssrc, packet.payload},
           arrival_us);
  }

  // Called every 20 ms. Before playout has started (no packet yet, or the starting delay has not
  // elapsed since the first arrival) returns false and leaves `out` untouched. Afterwards always
  // returns true with the next frame: decoded, recovered from FEC, or concealed (out->concealed).
  bool Pull(int64_t now_us, Frame* out);

  const JitterBufferStats& stats() const { return stats_; }
  // Packets currently held.
  size_t size() const { return held_; }
  // Whether the next Pull would find the packet of the frame it plays (true before playout
  // starts, when a Pull decides by time alone).
  bool DueHeld() const;

 private:
  // A held packet; slots_ has max_packets of them, reused, so holding a packet never allocates
  // once the buffers have grown to the stream's packet size. The payload is
  // bytes[payload_offset, payload_offset + payload_size): a whole packet taken from the caller,
  // or a copy of the payload alone.
  struct Slot {
    bool used = false;
    int64_t timestamp = 0;  // unwrapped RTP timestamp
    int64_t arrival_us = 0;
    std::vector<uint8_t> bytes;
    size_t payload_offset = 0;
    size_t payload_size = 0;
    std::span<const uint8_t> payload() const { return {bytes.data() + payload_offset, payload_size}; }
  };

  // Maps a 32-bit RTP timestamp / 16-bit sequence number to the 64-bit value nearest the last one.
  int64_t UnwrapTimestamp(uint32_t timestamp);
  int64_t UnwrapSequence(uint16_t sequence);
  // True when the slot at `timestamp` (before next_playout_ts_) was played from a packet.
  bool WasConsumed(int64_t timestamp) const;
  // True (and counted) when a packet's playout time has passed. Before playout starts, an earlier
  // packet instead moves the start back.
  bool RejectLate(int64_t timestamp);
  // Drops packets whose playout time has passed without being played (off the frame grid).
  void DropPassed();
  Slot* Find(int64_t timestamp);
  const Slot* Find(int64_t timestamp) const;
  void Release(Slot* slot);
  // Media time of an unwrapped timestamp, in microseconds since the first packet's.
  int64_t MediaUs(int64_t timestamp) const;

  // Adaptive mode: moves the target toward the estimator's ask; then returns +1 to insert a frame,
  // -1 to drop one, 0 to play on.
  int AdaptPlayout(int64_t now_us);
  // Outputs the frame due and advances one frame.
  void PlayDue(int64_t now_us, Frame* out);
  // Consumes the frame due without output (decoding it, to keep the decoder's state) and advances.
  void SkipDue();
  // For a frame due that is missing or undecodable: FEC from the next packet, else concealment.
  void RecoverOrConceal(Frame* out);
  void Advance(bool consumed);
  void UpdateShares();

  Codec& decoder_;
  JitterBufferConfig config_;
  JitterBufferStats stats_;
  std::vector<Slot> slots_;
  size_t held_ = 0;
  // Indices of the used slots (usually a handful) and of the free ones, so that finding a packet
  // scans what is held rather than every slot.
  std::vector<uint32_t> used_;
  std::vector<uint32_t> free_;
  // The decoder's fixed properties, kept here: reading them is a call into a codec object that
  // is otherwise touched only when a frame is decoded.
  int64_t timestamp_step_;  // RTP timestamp units per frame
  int64_t clock_rate_hz_;
  uint8_t payload_type_;
  bool have_first_ = false;
  bool playing_ = false;
  int64_t first_arrival_us_ = 0;
  int64_t first_timestamp_ = 0;  // unwrapped; the origin of MediaUs
  int64_t next_playout_ts_ = 0;  // unwrapped timestamp of the frame the next Pull returns
  int64_t last_timestamp_ = 0;   // unwrapped; the reference for unwrapping the next one
  int64_t last_sequence_ = 0;
  int64_t highest_sequence_ = 0;
  // Bit i: the slot at next_playout_ts_ - (i + 1) * step had its packet (played, or concealed
  // after a decode error), so a copy arriving now is a duplicate, not a late packet. A bound:
  // 64 slots, 1.28 s; older copies count as late.
  uint64_t consumed_slots_ = 0;

  // Adaptive mode.
  JitterEstimator estimator_;
  int64_t min_delay_us_ = 0;
  int64_t max_delay_us_ = 0;
  int64_t start_delay_us_ = 0;  // from the first arrival to the first Pull that plays
  // The target as a transit time: frames play this long after they were sent (media time).
  // target_delay_ms reports it relative to the fastest recent transit.
  int64_t playout_transit_us_ = 0;
  int64_t last_target_change_us_ = 0;
  Frame scratch_;  // where a dropped frame is decoded

  // For mean_buffer_delay_ms.
  int64_t buffer_delay_sum_us_ = 0;
};

}  // namespace callsim::agent
