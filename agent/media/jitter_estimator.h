// Measures how much playout delay a packet stream needs, from when its packets were sent (their
// RTP timestamps) and when they arrived: over a sliding window of recent packets, how much longer
// than the fastest one the slow ones took to come (a high quantile of transit time minus the
// smallest). Also keeps RFC 3550's interarrival jitter for reporting. The adaptive jitter buffer
// sets its target delay from this. Bounded: a fixed window and no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace callsim::agent {

class JitterEstimator {
 public:
  // 2.56 s of 20 ms packets: long enough for a stable 95th percentile (6 packets above it), short
  // enough to forget a burst of jitter within seconds.
  static constexpr size_t kWindowPackets = 128;

  // `quantile` in [0, 1] (clamped): which transit, relative to the fastest, the spread measures.
  explicit JitterEstimator(double quantile);

  // One packet: `send_us` is its media time (its RTP timestamp in microseconds from any fixed
  // origin), `arrival_us` when it arrived. Packets may come in any order.
  void Add(int64_t send_us, int64_t arrival_us);
  // The same packet for the RFC 3550 jitter only, leaving the window as it is: for a fixed
  // buffer, which needs the window's floor only until playout starts (a sorted insert per
  // packet is the costliest part of Add).
  void AddInterarrivalOnly(int64_t send_us, int64_t arrival_us);

  bool empty() const { return count_ == 0; }
  // The smallest transit (arrival minus send time) in the window; 0 while empty.
  int64_t floor_transit_us() const { return count_ == 0 ? 0 : sorted_[0]; }
  // The quantile transit minus the smallest: the delay that lets that share of the window's
  // packets arrive before their playout time. 0 while empty.
  int64_t spread_us() const;
  // RFC 3550 section 6.4.1: the running mean of |transit difference| between packets in arrival
  // order, with gain 1/16.
  double interarrival_jitter_us() const { return jitter_us_; }

 private:
  double quantile_;
  std::array<int64_t, kWindowPackets> ring_{};    // transits in arrival order (oldest at head_)
  std::array<int64_t, kWindowPackets> sorted_{};  // the same transits, ascending
  size_t head_ = 0;
  size_t count_ = 0;
  bool have_last_ = false;
  int64_t last_transit_us_ = 0;
  double jitter_us_ = 0;
};

}  // namespace callsim::agent
