#include "harness/run/load.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace callsim::harness {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The expected arrival count of `phase` from its start to its end (infinite if it never ends).
double PhaseCount(const LoadPhase& phase) {
  if (phase.duration_s <= 0) {
    return phase.kind == LoadPhase::kRamp || phase.rate_per_s <= 0 ? 0 : kInfinity;
  }
  if (phase.kind == LoadPhase::kRamp) {
    return 0.5 * (phase.rate_per_s + phase.to_rate_per_s) * phase.duration_s;
  }
  return phase.rate_per_s * phase.duration_s;
}

// The time into `phase` (seconds) at which its count reaches `x` (0 <= x < PhaseCount).
double PhaseTimeS(const LoadPhase& phase, double x) {
  if (x <= 0) return 0;
  if (phase.kind != LoadPhase::kRamp) return x / phase.rate_per_s;
  // rate(t) = r0 + a t, count(t) = r0 t + a t^2 / 2; this root form is stable for a -> 0 and a < 0.
  const double r0 = phase.rate_per_s;
  const double a = (phase.to_rate_per_s - phase.rate_per_s) / phase.duration_s;
  return 2.0 * x / (r0 + std::sqrt(std::max(0.0, r0 * r0 + 2.0 * a * x)));
}

// The phases a LoadSpec means: its own, else one open constant phase at rate_per_s.
std::vector<LoadPhase> EffectivePhases(const LoadSpec& load) {
  if (!load.phases.empty()) return load.phases;
  LoadPhase constant;
  constant.kind = LoadPhase::kConstant;
  constant.rate_per_s = load.rate_per_s;
  constant.duration_s = 0;
  return {constant};
}

}  // namespace

std::vector<int64_t> ArrivalTimesUs(const LoadSpec& load, const agent::Rng& run_rng) {
  const size_t callers = static_cast<size_t>(std::max(0, load.callers));
  std::vector<int64_t> arrivals;
  if (load.rate_per_s <= 0 && load.phases.empty()) {
    arrivals.assign(callers, 0);
    return arrivals;
  }
  arrivals.reserve(callers);
  const double end_s = load.duration_s > 0 ? load.duration_s : kInfinity;
  agent::Rng rng = run_rng.Fork("arrivals");
  double phase_start_s = 0;
  double x = 0;  // the count, within the current phase, at which the next call arrives
  for (const LoadPhase& phase : EffectivePhases(load)) {
    const double count = PhaseCount(phase);
    // A hair of tolerance, so that rate * duration landing just above an integer does not add an
    // arrival at the very end of the phase.
    const double limit = count == kInfinity ? kInfinity : count - 1e-9 * std::max(1.0, count);
    while (x < limit && arrivals.size() < callers) {
      const double t_s = phase_start_s + PhaseTimeS(phase, x);
      if (t_s >= end_s) return arrivals;
      arrivals.push_back(std::llround(t_s * 1e6));
      x += phase.kind == LoadPhase::kPoisson ? rng.Exponential(1.0) : 1.0;
    }
    if (arrivals.size() >= callers || count == kInfinity) break;
    x = std::max(0.0, x - count);
    phase_start_s += std::max(0.0, phase.duration_s);
  }
  return arrivals;
}

int PickMixEntry(const std::vector<MixEntry>& mix, const agent::Rng& run_rng, int call_id) {
  double total = 0;
  for (const MixEntry& e : mix) total += std::max(0.0, e.weight);
  if (total <= 0) return -1;
  agent::Rng rng = run_rng.Fork("call/" + std::to_string(call_id) + "/mix");
  const double u = rng.Uniform() * total;
  double below = 0;
  int last_positive = -1;
  for (size_t i = 0; i < mix.size(); ++i) {
    if (mix[i].weight <= 0) continue;
    below += mix[i].weight;
    last_positive = static_cast<int>(i);
    if (u < below) return last_positive;
  }
  return last_positive;  // u within rounding of the total
}

bool ParseShard(std::string_view text, Shard* out, std::string* error) {
  const size_t slash = text.find('/');
  auto whole = [](std::string_view digits, int* value) {
    if (digits.empty() || digits.size() > 5) return false;
    int v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *value = v;
    return true;
  };
  Shard shard;
  if (slash == std::string_view::npos || !whole(text.substr(0, slash), &shard.index) ||
      !whole(text.substr(slash + 1), &shard.count) || shard.count < 1 ||
      shard.count > Shard::kMaxCount || shard.index < 1 || shard.index > shard.count) {
    *error = "expected I/N with 1 <= I <= N <= " + std::to_string(Shard::kMaxCount) + ", got \"" +
             std::string(text) + "\"";
    return false;
  }
  *out = shard;
  return true;
}

}  // namespace callsim::harness
