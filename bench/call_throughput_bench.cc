// Simulated call-seconds per wall-second: one long call (many question/answer turns) through the
// whole stack (caller, links, RTP, jitter buffers, reference agent, fakes, store) in virtual time.
// Budget (bench/RESULTS.md): at least 1,000 with L16 on one core.
//   build/callsim_bench --benchmark_filter=LongCall
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <unistd.h>

#include "harness/run/runner.h"
#include "harness/scenario/loader.h"

namespace {

using namespace callsim;

std::string LongCallYaml(const std::string& codec, int questions) {
  std::string yaml = "name: long_call\ncodec: " + codec + "\n" +
      "network:\n  uplink: { delay_ms: 40, jitter_ms: 5, loss: 0.01 }\n"
      "  downlink: { delay_ms: 40, jitter_ms: 5, loss: 0.01 }\n"
      "fakes:\n  llm: { script: llm/support.yaml }\nturns:\n"
      "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n";
  for (int i = 0; i < questions; ++i) {
    yaml += "  - user: \"hi, i want to check on my order, number four five six seven\"\n";
    yaml += "  - user: \"and when will the delivery arrive\"\n";
  }
  yaml += "  - hangup: {}\n";
  return yaml;
}

void RunLongCall(benchmark::State& state, const std::string& codec) {
  const std::string dir = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";
  harness::LoadResult loaded = harness::LoadScenarioText(
      LongCallYaml(codec, static_cast<int>(state.range(0))), dir + "bench_long_call.yaml");
  if (!loaded.scenario) {
    state.SkipWithError(loaded.errors.empty() ? "load failed" : loaded.errors[0].ToString().c_str());
    return;
  }
  fakes::LlmScript script;
  std::string error;
  if (!fakes::LoadLlmScript(loaded.scenario->fakes.llm.script, &script, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  const std::string db = "/tmp/callsim_bench_" + std::to_string(getpid()) + ".db";
  double simulated_s = 0;
  for (auto _ : state) {
    std::unique_ptr<harness::Store> store = harness::Store::Open(db, &error);
    harness::RunOptions options;
    options.seed = 7;
    options.scenario_arg = "bench_long_call.yaml";
    const harness::RunResult result = harness::RunScenario(*loaded.scenario, script, options, *store);
    for (const harness::CallRow& c : store->LoadCalls(result.run_id)) {
      simulated_s += (c.ended_ms - c.started_ms) / 1000.0;
    }
  }
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
  state.counters["call_s_per_wall_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
  state.counters["simulated_s"] = benchmark::Counter(simulated_s, benchmark::Counter::kAvgIterations);
}

void BM_LongCallL16(benchmark::State& state) { RunLongCall(state, "l16"); }
void BM_LongCallPcmu(benchmark::State& state) { RunLongCall(state, "pcmu"); }
// Opus both ways with FEC; the codec line carries the settings.
void BM_LongCallOpus48kC5(benchmark::State& state) {
  RunLongCall(state, "opus\nopus: { sample_rate_hz: 48000, complexity: 5 }");
}
void BM_LongCallOpus16kC0(benchmark::State& state) {
  RunLongCall(state, "opus\nopus: { sample_rate_hz: 16000, complexity: 0 }");
}
void BM_LongCallOpus48kC0(benchmark::State& state) {
  RunLongCall(state, "opus\nopus: { sample_rate_hz: 48000, complexity: 0 }");
}

BENCHMARK(BM_LongCallL16)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LongCallPcmu)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LongCallOpus48kC5)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_LongCallOpus16kC0)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_LongCallOpus48kC0)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
