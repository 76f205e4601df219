#include "agent/media/jitter_estimator.h"

#include <algorithm>
#include <cmath>

namespace callsim::agent {

JitterEstimator::JitterEstimator(double quantile) : quantile_(std::clamp(quantile, 0.0, 1.0)) {}

void JitterEstimator::AddInterarrivalOnly(int64_t send_us, int64_t arrival_us) {
  const int64_t transit_us = arrival_us - send_us;
  if (have_last_) {
    jitter_us_ += (std::abs(static_cast<double>(transit_us - last_transit_us_)) - jitter_us_) / 16;
  }
  have_last_ = true;
  last_transit_us_ = transit_us;
}

void JitterEstimator::Add(int64_t send_us, int64_t arrival_us) {
  AddInterarrivalOnly(send_us, arrival_us);
  const int64_t transit_us = arrival_us - send_us;

  // Insertion into a sorted array of at most 128: a binary search and a short memmove, cheaper
  // than any tree at this size, and allocation-free.
  auto* sorted_end = sorted_.begin() + count_;
  if (count_ == kWindowPackets) {
    const int64_t oldest = ring_[head_];
    auto* at = std::lower_bound(sorted_.begin(), sorted_end, oldest);
    std::copy(at + 1, sorted_end, at);
    --sorted_end;
    ring_[head_] = transit_us;
    head_ = (head_ + 1) % kWindowPackets;
  } else {
    ring_[(head_ + count_) % kWindowPackets] = transit_us;
    ++count_;
  }
  auto* at = std::upper_bound(sorted_.begin(), sorted_end, transit_us);
  std::copy_backward(at, sorted_end, sorted_end + 1);
  *at = transit_us;
}

int64_t JitterEstimator::spread_us() const {
  if (count_ == 0) return 0;
  // Nearest rank: the smallest value with at least `quantile_` of the window at or below it (the
  // epsilon keeps 0.95 * 20 at rank 19 despite binary rounding).
  const auto rank = static_cast<size_t>(std::ceil(quantile_ * static_cast<double>(count_) - 1e-9));
  const size_t index = std::clamp<size_t>(rank, 1, count_) - 1;
  return sorted_[index] - sorted_[0];
}

}  // namespace callsim::agent
