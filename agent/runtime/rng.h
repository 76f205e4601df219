// A portable, seeded random generator (xoshiro256**, seeded through splitmix64) with the project's
// own distributions. Never std::*_distribution: their output differs between standard libraries.
// Fork("call/17/uplink") derives an independent child stream from a stable key, so adding a caller
// never changes another caller's draws.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace callsim::agent {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // A child stream whose seed depends only on this stream's seed and `key`.
  Rng Fork(std::string_view key) const;

  uint64_t seed() const { return seed_; }

  // Inline: per-sample noise calls it millions of times a second.
  uint64_t NextU64() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // `n` bytes (keys, salts), eight per draw, low byte first.
  std::string NextBytes(size_t n);
  // Uniform in [0, 1), 53 bits.
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  // Uniform integer in [0, n); n must be > 0. Unbiased (Lemire's method).
  uint64_t UniformInt(uint64_t n);
  // True with probability p (p <= 0 never, p >= 1 always).
  bool Bernoulli(double p);
  // Normal via Box-Muller (no cached second value, so each call consumes exactly two draws).
  double Normal(double mean, double stddev);
  // exp(Normal(mu, sigma)).
  double LogNormal(double mu, double sigma);
  // Exponential with the given mean.
  double Exponential(double mean);
  // Pareto (type I) with scale x_m > 0 and shape alpha > 0.
  double Pareto(double scale, double shape);

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t seed_;
  std::array<uint64_t, 4> state_;
};

// FNV-1a 64-bit hash of bytes; stable across platforms. Used for keys and the event-log hash.
uint64_t Fnv1a64(std::string_view bytes, uint64_t basis = 0xcbf29ce484222325ULL);

// A latency distribution described as users think of it: a median and a 95th percentile. Draws
// from a lognormal fitted through both points (p95 <= p50 gives a constant).
struct LatencyModel {
  double p50_ms = 100;
  double p95_ms = 200;
  double max_ms = 30000;  // a bound: no draw exceeds it

  // A draw in microseconds.
  int64_t DrawUs(Rng& rng) const;
};

}  // namespace callsim::agent
