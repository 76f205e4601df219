// G.711 mu-law encoding, the per-sample cost on the PCMU hot path (every 20 ms frame of both
// directions is encoded after resampling to 8 kHz).
//   build/callsim_bench --benchmark_filter=G711
//
// One second of 8 kHz audio per iteration: a 440 Hz tone sweeping through every segment, half its
// samples negative, so both sign paths and all eight segments are exercised.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "agent/media/g711.h"

namespace {

std::vector<int16_t> SweptTone() {
  constexpr int kSamples = 8000;
  std::vector<int16_t> samples(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const double envelope = 32767.0 * std::pow(static_cast<double>(i + 1) / kSamples, 4.0);
    samples[static_cast<size_t>(i)] =
        static_cast<int16_t>(envelope * std::sin(2 * M_PI * 440.0 * i / 8000.0));
  }
  return samples;
}

void BM_G711Encode(benchmark::State& state) {
  const std::vector<int16_t> samples = SweptTone();
  std::vector<uint8_t> codes(samples.size());
  for (auto _ : state) {
    for (size_t i = 0; i < samples.size(); ++i) codes[i] = callsim::agent::LinearToMulaw(samples[i]);
    benchmark::DoNotOptimize(codes.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples.size()));
}

void BM_G711Decode(benchmark::State& state) {
  std::vector<uint8_t> codes(8000);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i * 37);
  std::vector<int16_t> samples(codes.size());
  for (auto _ : state) {
    for (size_t i = 0; i < codes.size(); ++i) samples[i] = callsim::agent::MulawToLinear(codes[i]);
    benchmark::DoNotOptimize(samples.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(codes.size()));
}

BENCHMARK(BM_G711Encode);
BENCHMARK(BM_G711Decode);

}  // namespace
