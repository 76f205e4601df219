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
  // ... implementation-defined members ...
  Codec& decoder_;
  JitterBufferConfig config_;
  JitterBufferStats stats_;
  std::map<int64_t, RtpPacket> packets_;  // keyed by unwrapped RTP timestamp
};

}  // namespace callsim::agent
