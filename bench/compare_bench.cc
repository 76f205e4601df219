// How long `callsim compare` takes to judge one latency family: the bootstrap of p50, p95 and
// p99 (2000 resamples, reports/bootstrap.h) over two samples of n turns each. A compare has 7
// latency families, so a whole compare costs about 7 times the figure (plus reading the rows).
//   build/callsim_bench --benchmark_filter=CompareBootstrap
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "agent/runtime/rng.h"
#include "reports/bootstrap.h"

namespace {

std::vector<double> Turns(uint64_t seed, int64_t n) {
  callsim::agent::Rng rng(seed);
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(rng.LogNormal(std::log(1400.0), 0.175));
  return v;
}

void BM_CompareBootstrap(benchmark::State& state) {
  const std::vector<double> base = Turns(1, state.range(0)), now = Turns(2, state.range(0));
  for (auto _ : state) {
    callsim::agent::Rng rng(1);
    benchmark::DoNotOptimize(
        callsim::reports::BootstrapPercentileChange(base, now, {50, 95, 99}, 2000, 0.95, rng));
  }
  state.counters["turns_per_side"] = static_cast<double>(state.range(0));
}

}  // namespace

BENCHMARK(BM_CompareBootstrap)->Name("CompareBootstrap")->Arg(200)->Arg(3000)->Arg(30000)
    ->Unit(benchmark::kMillisecond);
