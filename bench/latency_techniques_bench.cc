// What each of the reference agent's latency techniques buys on the bundled order_status
// conversation (200 callers, virtual time, seed 7): turn latency p50 and p95 at the caller's ear,
// with the bundled provider figures (LLM first token p50 300 ms, TTS first byte p50 120 ms) and
// with a fast-provider profile (LLM first token p50 150 / p95 350 ms, TTS first byte p50 80 / p95
// 160 ms); the cost of preemption as wasted LLM requests and tokens per answered turn; and the
// waterfall's median share of each stage. Arguments: technique (0 none, 1 preemptive generation,
// 2 adaptive endpointing, 3 first clause, 4 all three, 5 all three and the agent's adaptive jitter
// buffer, as scenarios/fast_agent.yaml runs), profile (0 bundled, 1 fast).
//   build/callsim_bench --benchmark_filter=LatencyTechniques
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/pipeline/agent_events.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"

namespace {

using namespace callsim;

const char* const kTechniques[] = {"none",         "preemptive", "adaptive",
                                   "first_clause", "all",        "all+adaptive_jitter_buffer"};

std::vector<std::string> Overrides(int technique, int profile) {
  std::vector<std::string> o = {"load.callers=200", "load.arrival.rate_per_s=5"};
  const bool all = technique >= 4;
  if (technique == 1 || all) o.push_back("agent.preemptive_generation=true");
  if (technique == 2 || all) o.push_back("agent.endpointing.finished_delay_ms=0");
  if (technique == 3 || all) o.push_back("agent.first_clause_words=4");
  if (technique == 5) o.push_back("agent.jitter_buffer.adaptive=true");
  if (profile == 1) {
    for (const char* s : {"fakes.llm.ttft_ms.p50=150", "fakes.llm.ttft_ms.p95=350",
                          "fakes.tts.ttfb_ms.p50=80", "fakes.tts.ttfb_ms.p95=160"}) {
      o.push_back(s);
    }
  }
  return o;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

void BM_LatencyTechniques(benchmark::State& state) {
  const int technique = static_cast<int>(state.range(0));
  const int profile = static_cast<int>(state.range(1));
  const std::string path = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml";
  harness::LoadResult loaded = harness::LoadScenarioFile(path, Overrides(technique, profile));
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
  const std::string db = "/tmp/callsim_latency_bench_" + std::to_string(getpid()) + ".db";
  std::map<std::string, double> metrics;
  double turns = 0, wasted_requests = 0, wasted_tokens = 0, passed = 0;
  std::map<std::string, std::vector<double>> stages;
  for (auto _ : state) {
    std::unique_ptr<harness::Store> store = harness::Store::Open(db, &error);
    harness::RunOptions options;
    options.seed = 7;
    options.scenario_arg = "order_status.yaml";
    const harness::RunResult result = harness::RunScenario(plan, options, *store);
    metrics = store->LoadMetrics(result.run_id);
    passed = result.calls_passed;
    for (const harness::EventRow& e : store->LoadEventsOfKind(result.run_id, "usage")) {
      const auto j = nlohmann::json::parse(e.detail_json);
      wasted_requests += j.value("wasted_llm_requests", 0);
      wasted_tokens += j.value("wasted_llm_tokens", 0);
    }
    for (const harness::EventRow& e : store->LoadEventsOfKind(result.run_id, "turn_spans")) {
      agent::TurnSpansEvent spans;
      agent::FromJson(nlohmann::json::parse(e.detail_json), &spans);
      if (!spans.waterfall) continue;
      ++turns;
      stages["endpointing"].push_back(spans.waterfall->endpointing_ms);
      stages["stt"].push_back(spans.waterfall->stt_ms);
      stages["llm"].push_back(spans.waterfall->llm_ms);
      stages["first_sentence"].push_back(spans.waterfall->first_sentence_ms);
      stages["tts"].push_back(spans.waterfall->tts_ms);
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  state.SetLabel(std::string(kTechniques[technique]) + (profile == 1 ? " fast" : " bundled"));
  state.counters["turn_p50_ms"] = metrics["turn_latency_p50_ms"];
  state.counters["turn_p95_ms"] = metrics["turn_latency_p95_ms"];
  state.counters["calls_passed"] = passed;
  state.counters["wasted_requests_per_turn"] = turns > 0 ? wasted_requests / turns : 0;
  state.counters["wasted_tokens_per_turn"] = turns > 0 ? wasted_tokens / turns : 0;
  for (const auto& [name, values] : stages) state.counters["median_" + name + "_ms"] = Median(values);
}

BENCHMARK(BM_LatencyTechniques)
    ->ArgsProduct({{0, 1, 2, 3, 4, 5}, {0, 1}})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
