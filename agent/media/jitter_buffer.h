// A receive-side jitter buffer: holds RTP packets until their playout time, puts reordered packets
// back in order, conceals missing ones, drops packets that arrive after their playout time, and
// counts every case. Sans-I/O: the owner calls Insert() on arrival and Pull() every 20 ms.
#pragma once

#include <cstdint>
#include <map>

#include "agent/media/codec.h"
#include "agent/media/frame.h"
#include "agent/media/rtp.h"

namespace callsim::agent {

struct JitterBufferConfig {
  int target_delay_ms = 40;  // playout starts this long after the first packet arrives
  int max_packets = 50;      // a bound: a packet beyond it is dropped (counted as overflow)
};

struct JitterBufferStats {
  uint64_t received = 0;          // packets offered to Insert
  uint64_t played = 0;            // frames decoded from a packet
  uint64_t concealed = 0;         // frames made up by concealment
  uint64_t late_dropped = 0;      // packets that arrived after their playout time
  uint64_t duplicates = 0;        // packets whose timestamp was already buffered or played
  uint64_t reordered = 0;         // packets that arrived after a later packet
  uint64_t overflow_dropped = 0;  // packets dropped because the buffer was full
  uint64_t decode_errors = 0;     // payloads the codec rejected (concealed instead)
  uint64_t wrong_payload_type = 0;
};

class JitterBuffer {
 public:
  // `decoder` must outlive the buffer and decode the stream's payload type.
  JitterBuffer(Codec& decoder, JitterBufferConfig config);

  void Insert(const RtpPacket& packet, int64_t arrival_us);

  // Called every 20 ms. Before playout has started (no packet yet, or the target delay has not
  // elapsed since the first arrival) returns false and leaves `out` untouched. Afterwards always
  // returns true with the next frame: decoded, or concealed if its packet is missing.
  bool Pull(int64_t now_us, Frame* out);

  const JitterBufferStats& stats() const { return stats_; }
  // Packets currently held.
  size_t size() const { return packets_.size(); }

 private:
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

  Codec& decoder_;
  JitterBufferConfig config_;
  JitterBufferStats stats_;
  std::map<int64_t, RtpPacket> packets_;  // keyed by unwrapped RTP timestamp
  int64_t timestamp_step_;                // RTP timestamp units per frame
  bool have_first_ = false;
  bool playing_ = false;
  int64_t first_arrival_us_ = 0;
  int64_t next_playout_ts_ = 0;  // unwrapped timestamp of the frame the next Pull returns
  int64_t last_timestamp_ = 0;   // unwrapped; the reference for unwrapping the next one
  int64_t last_sequence_ = 0;
  int64_t highest_sequence_ = 0;
  // Bit i: the slot at next_playout_ts_ - (i + 1) * step had its packet (played, or concealed
  // after a decode error), so a copy arriving now is a duplicate, not a late packet. A bound:
  // 64 slots, 1.28 s; older copies count as late.
  uint64_t consumed_slots_ = 0;
};

}  // namespace callsim::agent
