// The load engine at scale: 1,000 callers of the bundled order_status conversation (L16) in one
// virtual-time run, arriving 100 per second (all within the first 10 s), so about 1,000 calls
// are active at once. Reports simulated call-seconds per wall-second (budget: 1,000) and per
// CPU-second, the peak RSS, and the RSS growth per concurrently active call (budget: 1 MiB).
// The arguments are --workers (1 and 2) and whether the calls run on lanes (1, the default; 0:
// every call on the run's one clock, --no-lanes). Run each alone, since peak RSS is the
// process's high-water mark:
//   build/callsim_bench --benchmark_filter='Load1000/1/1/'
//   build/callsim_bench --benchmark_filter='Load1000/2/1/'
//   build/callsim_bench --benchmark_filter='Load1000/1/0/'
//   build/callsim_bench --benchmark_filter='Load1000/2/0/'
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "harness/run/runner.h"
#include "harness/scenario/loader.h"

namespace {

using namespace callsim;

// Peak resident set size of this process so far, in bytes (Linux reports KiB).
double PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

// CPU seconds this process has used (user + system): on a shared machine the wall-clock rate
// understates what one core does.
double CpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void BM_Load1000(benchmark::State& state) {
  const std::string path = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml";
  harness::LoadResult loaded =
      harness::LoadScenarioFile(path, {"load.callers=1000", "load.arrival.rate_per_s=100"});
  if (!loaded.scenario) {
    state.SkipWithError(loaded.errors.empty() ? "load failed" : loaded.errors[0].ToString().c_str());
    return;
  }
  harness::RunPlan plan;
  std::string error;
  if (!harness::MakeRunPlan(*loaded.scenario, &plan, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::string db = "/tmp/callsim_load_bench_" + std::to_string(getpid()) + ".db";
  double simulated_s = 0;
  double cpu_s = 0;
  double rss_growth = 0;
  int peak_active = 0;
  int calls = 0;
  for (auto _ : state) {
    std::unique_ptr<harness::Store> store = harness::Store::Open(db, &error);
    const double rss_before = PeakRssBytes();
    const double cpu_before = CpuSeconds();
    harness::RunOptions options;
    options.seed = 7;
    options.scenario_arg = "order_status.yaml";
    options.workers = static_cast<int>(state.range(0));
    options.call_lanes = state.range(1) != 0;
    const harness::RunResult result = harness::RunScenario(plan, options, *store);
    rss_growth = PeakRssBytes() - rss_before;
    cpu_s += CpuSeconds() - cpu_before;
    peak_active = result.peak_active_calls;
    calls = result.calls;
    for (const harness::CallRow& c : store->LoadCalls(result.run_id)) {
      simulated_s += (c.ended_ms - c.started_ms) / 1000.0;
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  state.counters["call_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  state.counters["call_s_per_cpu_s"] = cpu_s > 0 ? simulated_s / cpu_s : 0;
  state.counters["simulated_call_s"] = simulated_s;
  state.counters["calls"] = calls;
  state.counters["workers"] = static_cast<double>(state.range(0));
  state.counters["lanes"] = static_cast<double>(state.range(1));
  state.counters["peak_active_calls"] = peak_active;
  state.counters["peak_rss_MiB"] = PeakRssBytes() / (1024.0 * 1024.0);
  state.counters["rss_bytes_per_active_call"] = peak_active ? rss_growth / peak_active : 0;
}

BENCHMARK(BM_Load1000)
    ->Args({1, 1})
    ->Args({2, 1})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
