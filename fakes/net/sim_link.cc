#include "fakes/net/sim_link.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "agent/runtime/check.h"

namespace callsim::fakes {
namespace {

// "" when lo <= value <= hi (NaN fails), otherwise "<field> must be in [lo, hi] (got value)".
std::string CheckRange(const std::string& field, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, " must be in [%g, %g] (got %g)", lo, hi, value);
  return field + buf;
}

using agent::MsToUs;

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kParetoShape = 2.5;
// Lomax scale for a mean of one jitter_ms: mean = scale / (shape - 1).
constexpr double kParetoScale = kParetoShape - 1;

std::string ValidateOutages(const std::vector<Outage>& outages) {
  for (size_t i = 0; i < outages.size(); ++i) {
    const std::string prefix = "outages[" + std::to_string(i) + "].";
    std::string error = CheckRange(prefix + "start_ms", outages[i].start_ms, 0, kMaxOutageMs);
    if (error.empty()) {
      error = CheckRange(prefix + "duration_ms", outages[i].duration_ms, 0, kMaxOutageMs);
    }
    if (!error.empty()) return error;
  }
  return "";
}

}  // namespace

std::string ValidateSimLinkConfig(const SimLinkConfig& config) {
  if (std::string error = ValidateLossConfig(config.loss); !error.empty()) return "loss." + error;
  const std::pair<const char*, std::pair<double, double>> checks[] = {
      {"delay_ms", {config.delay_ms, kMaxLinkDelayMs}},
      {"jitter_ms", {config.jitter_ms, kMaxLinkDelayMs}},
      {"reorder", {config.reorder, 1}},
      {"reorder_gap_ms", {config.reorder_gap_ms, kMaxLinkDelayMs}},
      {"duplicate", {config.duplicate, 1}},
  };
  for (const auto& [field, value_and_max] : checks) {
    std::string error = CheckRange(field, value_and_max.first, 0, value_and_max.second);
    if (!error.empty()) return error;
  }
  if (!kJitterDistributionNames.Contains(config.jitter_distribution)) {
    return "jitter_distribution must be " + kJitterDistributionNames.Join(", ", " or ") +
           " (got " + std::to_string(static_cast<int>(config.jitter_distribution)) + ")";
  }
  if (config.max_in_flight < 1 || config.max_in_flight > kMaxInFlightLimit) {
    return "max_in_flight must be in [1, " + std::to_string(kMaxInFlightLimit) + "] (got " +
           std::to_string(config.max_in_flight) + ")";
  }
  return ValidateOutages(config.outages);
}

SimLink::SimLink(agent::Scheduler& scheduler, agent::Rng rng, SimLinkConfig config)
    : scheduler_(scheduler), rng_(rng), config_(std::move(config)), loss_model_(config_.loss) {
  CALLSIM_CHECK(ValidateSimLinkConfig(config_).empty());
  outages_us_.reserve(config_.outages.size());
  for (const Outage& o : config_.outages) {
    const int64_t start_us = MsToUs(o.start_ms);
    outages_us_.emplace_back(start_us, start_us + MsToUs(o.duration_ms));
  }
  std::sort(outages_us_.begin(), outages_us_.end());
}

SimLink::~SimLink() {
  // Slot order, not pointer or hash order: cancellation is deterministic too.
  for (const Slot& slot : slots_) {
    if (slot.task != agent::kNoTask) scheduler_.Cancel(slot.task);
  }
}

void SimLink::SetReceiver(Receiver receiver) { receiver_ = std::move(receiver); }

void SimLink::Send(agent::Packet packet) {
  ++stats_.sent;
  const Draws draws = Draw();
  const int64_t now_us = scheduler_.NowUs();
  if (InOutage(now_us)) {
    ++stats_.outage_dropped;
    return;
  }
  if (draws.lost) {
    ++stats_.lost;
    return;
  }
  if (in_flight_ >= config_.max_in_flight) {
    ++stats_.overflow_dropped;
    return;
  }
  const int64_t in_order_us = std::max(now_us + DelayUs(draws.jitter_ms), last_fifo_delivery_us_);
  int64_t delivery_us = in_order_us;
  if (draws.u_reorder < config_.reorder) {
    delivery_us += MsToUs(config_.reorder_gap_ms);
    ++stats_.reordered;
  } else {
    last_fifo_delivery_us_ = in_order_us;
  }
  const bool duplicate = draws.u_duplicate < config_.duplicate;
  agent::Packet copy;
  if (duplicate) copy = packet;
  Schedule(std::move(packet), delivery_us);  // room was checked above
  if (duplicate) {
    ++stats_.duplicated;
    Schedule(std::move(copy), delivery_us + MsToUs(kDuplicateGapMs));
  }
}

SimLink::Draws SimLink::Draw() {
  Draws draws;
  draws.lost = loss_model_.Lose(rng_);  // draws 1-2
  const double u1 = rng_.Uniform();     // draws 3-4, always both
  const double u2 = rng_.Uniform();
  draws.jitter_ms = config_.jitter_ms > 0 ? JitterMs(u1, u2) : 0;
  draws.u_reorder = rng_.Uniform();    // draw 5
  draws.u_duplicate = rng_.Uniform();  // draw 6
  return draws;
}

// Inverse CDFs of the draws in [0, 1); 1 - u1 is in (0, 1], so every logarithm is finite.
double SimLink::JitterMs(double u1, double u2) const {
  const double scale_ms = config_.jitter_ms;
  switch (config_.jitter_distribution) {
    case JitterDistribution::kNormal:
      return scale_ms * std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(kTwoPi * u2);
    case JitterDistribution::kUniform:
      return scale_ms * (2.0 * u1 - 1.0);
    case JitterDistribution::kExponential:
      return -scale_ms * std::log(1.0 - u1);
    case JitterDistribution::kPareto:
      return scale_ms * kParetoScale * (std::pow(1.0 - u1, -1.0 / kParetoShape) - 1.0);
  }
  return 0;
}

bool SimLink::InOutage(int64_t now_us) {
  while (next_outage_ < outages_us_.size() && outages_us_[next_outage_].second <= now_us) {
    ++next_outage_;
  }
  // Sorted by start, so the scan stops at the first window that has not begun.
  for (size_t i = next_outage_; i < outages_us_.size() && outages_us_[i].first <= now_us; ++i) {
    if (now_us < outages_us_[i].second) return true;
  }
  return false;
}

int64_t SimLink::DelayUs(double jitter_ms) const {
  const double max_ms =
      config_.delay_ms + MaxJitterMs(config_.jitter_distribution, config_.jitter_ms);
  const double ms = std::max(0.0, std::min(config_.delay_ms + jitter_ms, max_ms));
  return MsToUs(ms);
}

bool SimLink::Schedule(agent::Packet packet, int64_t when_us) {
  if (in_flight_ >= config_.max_in_flight) {
    ++stats_.overflow_dropped;
    return false;
  }
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.packet = std::move(packet);
  // Capturing only `this` and an index keeps the task inside std::function's small buffer.
  slot.task = scheduler_.At(when_us, [this, index] { Deliver(index); });
  ++in_flight_;
  return true;
}

void SimLink::Deliver(uint32_t index) {
  Slot& slot = slots_[index];
  agent::Packet packet = std::move(slot.packet);
  slot.packet = agent::Packet();  // a moved-from vector is only "valid"; make it empty for reuse
  slot.task = agent::kNoTask;
  free_slots_.push_back(index);
  --in_flight_;
  ++stats_.delivered;
  // Last, and through a local: the receiver may Send() on this link, or even destroy it.
  if (receiver_) {
    Receiver receiver = receiver_;
    receiver(std::move(packet));
  }
}

}  // namespace callsim::fakes
