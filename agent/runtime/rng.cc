#include "agent/runtime/rng.h"

#include <algorithm>
#include <cmath>

namespace callsim::agent {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr double kTwoPi = 6.283185307179586476925286766559;

}  // namespace

uint64_t Fnv1a64(std::string_view bytes, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (auto& s : state_) s = SplitMix64(x);
}

Rng Rng::Fork(std::string_view key) const {
  uint64_t mixed = seed_;
  uint64_t child = SplitMix64(mixed) ^ Fnv1a64(key);
  return Rng(child);
}

std::string Rng::NextBytes(size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    const uint64_t v = NextU64();
    for (int i = 0; i < 8 && out.size() < n; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  }
  return out;
}

double Rng::Uniform() { return static_cast<double>(NextU64() >> 11) * 0x1.0p-53; }

double Rng::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

uint64_t Rng::UniformInt(uint64_t n) {
  uint64_t x = NextU64();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      x = NextU64();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

bool Rng::Bernoulli(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return Uniform() < p;
}

double Rng::Normal(double mean, double stddev) {
  const double u1 = 1.0 - Uniform();  // (0, 1]
  const double u2 = Uniform();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

double Rng::LogNormal(double mu, double sigma) { return std::exp(Normal(mu, sigma)); }

double Rng::Exponential(double mean) { return -mean * std::log(1.0 - Uniform()); }

double Rng::Pareto(double scale, double shape) {
  return scale / std::pow(1.0 - Uniform(), 1.0 / shape);
}

int64_t LatencyModel::DrawUs(Rng& rng) const {
  double ms = p50_ms;
  if (p95_ms > p50_ms && p50_ms > 0) {
    const double sigma = (std::log(p95_ms) - std::log(p50_ms)) / 1.6448536269514722;
    ms = rng.LogNormal(std::log(p50_ms), sigma);
  } else {
    rng.NextU64();  // keep the stream's consumption independent of the parameters
    rng.NextU64();
  }
  ms = std::clamp(ms, 0.0, max_ms);
  return static_cast<int64_t>(std::llround(ms * 1000.0));
}

}  // namespace callsim::agent
