#include "harness/run/runner.h"

#include <cinttypes>
#include <cstdio>
#include <memory>

#include "harness/measure/histogram.h"
#include "harness/measure/percentile.h"
#include "harness/measure/wer.h"
#include "harness/run/sim_call.h"
#include "harness/runtime/sim_scheduler.h"

namespace callsim::harness {
namespace {

double UsToMs(int64_t us) { return static_cast<double>(us) / 1000.0; }

// Everything the run keeps about its calls between their end and the run's end.
struct Aggregates {
  int calls = 0;
  int passed = 0;
  int dropped = 0;
  WerCounts wer;
  std::vector<double> turn_latency_ms;
  std::vector<double> barge_in_stop_ms;
  Histogram turn_latency_hist;
  std::vector<uint64_t> call_hashes;  // by call_id
};

std::vector<TurnRow> MakeTurnRows(const CallRecord& r) {
  std::vector<TurnRow> rows;
  for (const TurnOutcome& o : r.outcomes) {
    if (!o.has_user) continue;
    TurnRow t;
    t.turn_index = o.turn_index;
    t.reference_text = o.reference_text;
    t.hypothesis_text = r.hypotheses[static_cast<size_t>(o.turn_index)];
    const WerCounts w = ComputeWer(t.reference_text, t.hypothesis_text);
    t.ref_words = w.ref_words;
    t.substitutions = w.substitutions;
    t.deletions = w.deletions;
    t.insertions = w.insertions;
    t.turn_latency_ms = o.turn_latency_ms;
    t.barge_in = o.barge_in;
    t.barge_in_stop_ms = o.barge_in_stop_ms;
    rows.push_back(std::move(t));
  }
  return rows;
}

void StoreCall(CallRecord r, int64_t run_id, Store& store, Aggregates& agg) {
  CallRow call;
  call.run_id = run_id;
  call.call_id = r.call_id;
  call.scenario = r.scenario;
  call.started_ms = UsToMs(r.started_us);
  call.ended_ms = UsToMs(r.ended_us);
  call.status = r.status;
  call.task_completed = r.task_completed;
  call.failure_reason = r.failure_reason;

  std::vector<TurnRow> turns = MakeTurnRows(r);
  for (const TurnRow& t : turns) {
    agg.wer += WerCounts{static_cast<int>(t.substitutions), static_cast<int>(t.deletions),
                         static_cast<int>(t.insertions), static_cast<int>(t.ref_words)};
    if (t.turn_latency_ms) {
      agg.turn_latency_ms.push_back(*t.turn_latency_ms);
      agg.turn_latency_hist.Record(static_cast<int64_t>(*t.turn_latency_ms * 1000.0));
    }
    if (t.barge_in_stop_ms) agg.barge_in_stop_ms.push_back(*t.barge_in_stop_ms);
  }
  std::vector<ExpectationRow> expectations;
  for (const ExpectationResult& e : r.expectations) {
    ExpectationRow row;
    row.turn_index = e.turn_index;
    row.kind = e.kind;
    row.passed = e.passed;
    row.detail = e.detail;
    expectations.push_back(std::move(row));
  }
  std::vector<EventRow> events;
  events.reserve(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i) {
    EventEntry& e = r.events[i];
    events.push_back(EventRow{run_id, r.call_id, static_cast<int64_t>(i), UsToMs(e.t_us),
                              std::move(e.source), std::move(e.kind), std::move(e.detail_json)});
  }
  ++agg.calls;
  if (r.task_completed) ++agg.passed;
  if (r.status == "dropped") ++agg.dropped;
  agg.call_hashes[static_cast<size_t>(r.call_id)] = r.event_hash;
  store.AddCall(std::move(call), std::move(turns), std::move(expectations), std::move(events));
}

std::string RunHash(const std::vector<uint64_t>& call_hashes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t id = 0; id < call_hashes.size(); ++id) {
    const std::string part = std::to_string(id) + ":" + std::to_string(call_hashes[id]) + ";";
    h = agent::Fnv1a64(part, h);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return buf;
}

void StoreMetrics(int64_t run_id, Aggregates& agg, Store& store) {
  store.SetMetric(run_id, "calls_total", agg.calls);
  store.SetMetric(run_id, "calls_passed", agg.passed);
  store.SetMetric(run_id, "calls_dropped", agg.dropped);
  store.SetMetric(run_id, "task_completion_rate", agg.calls ? static_cast<double>(agg.passed) / agg.calls : 0);
  store.SetMetric(run_id, "wer", agg.wer.Rate());
  store.SetMetric(run_id, "ref_words", agg.wer.ref_words);
  if (!agg.turn_latency_ms.empty()) {
    for (double q : {50.0, 90.0, 95.0, 99.0, 99.9}) {
      char name[48];
      std::snprintf(name, sizeof name, q == 99.9 ? "turn_latency_p%.1f_ms" : "turn_latency_p%.0f_ms", q);
      store.SetMetric(run_id, name, NearestRankPercentile(agg.turn_latency_ms, q));
    }
    store.SetMetric(run_id, "turn_latency_max_ms", NearestRankPercentile(agg.turn_latency_ms, 100));
    store.SetHistogram(run_id, "turn_latency_us", agg.turn_latency_hist.Serialize());
  }
  store.SetMetric(run_id, "barge_ins", static_cast<double>(agg.barge_in_stop_ms.size()));
  if (!agg.barge_in_stop_ms.empty()) {
    store.SetMetric(run_id, "barge_in_stop_p50_ms", NearestRankPercentile(agg.barge_in_stop_ms, 50));
    store.SetMetric(run_id, "barge_in_stop_max_ms", NearestRankPercentile(agg.barge_in_stop_ms, 100));
  }
}

std::string ConfigJson(const Scenario& s, const RunOptions& options) {
  nlohmann::json j = {{"scenario", options.scenario_arg}, {"name", s.name},
                      {"codec", std::string(agent::CodecName(s.codec))},
                      {"callers", s.load.callers}, {"set", options.overrides}};
  return j.dump();
}

}  // namespace

RunResult RunScenario(const Scenario& scenario, const fakes::LlmScript& script,
                      const RunOptions& options, Store& store) {
  RunInfo info;
  info.seed = options.seed;
  info.mode = "virtual";
  info.scenario = options.scenario_arg;
  info.config_json = ConfigJson(scenario, options);
  RunResult result;
  result.run_id = store.BeginRun(info);

  SimScheduler scheduler;
  const agent::Rng run_rng(options.seed);
  const int callers = scenario.load.callers;
  Aggregates agg;
  agg.call_hashes.assign(static_cast<size_t>(callers), 0);
  std::vector<std::unique_ptr<SimCall>> calls(static_cast<size_t>(callers));
  int64_t last_arrival_us = 0;
  for (int id = 0; id < callers; ++id) {
    const int64_t arrival_us = scenario.load.rate_per_s > 0
        ? static_cast<int64_t>(id * 1e6 / scenario.load.rate_per_s) : 0;
    last_arrival_us = std::max(last_arrival_us, arrival_us);
    scheduler.At(arrival_us, [&, id] {
      calls[id] = std::make_unique<SimCall>(scheduler, scenario, script, id, run_rng,
          [&, id](CallRecord record) {
            StoreCall(std::move(record), result.run_id, store, agg);
            calls[id].reset();
          });
      calls[id]->Start();
    });
  }

  // Bounds: the run ends by this virtual time, whatever the calls do.
  const int64_t limit_us = last_arrival_us +
      static_cast<int64_t>(scenario.agent.max_call_ms * 1000.0) + 120 * agent::kMicrosPerSecond;
  bool aborted = false;
  while (scheduler.NowUs() <= limit_us && scheduler.RunOne()) {
    if (options.abort && (scheduler.tasks_run() & 1023) == 0 && options.abort->load()) {
      aborted = true;
      break;
    }
  }
  // Calls still running at the limit (or at an abort) end now; their records are stored as dropped.
  for (auto& call : calls) {
    if (call && !call->ended()) call->End(aborted ? "run aborted" : "run time limit", "dropped");
  }
  scheduler.RunUntil(scheduler.NowUs());

  StoreMetrics(result.run_id, agg, store);
  result.event_log_hash = RunHash(agg.call_hashes);
  result.calls = agg.calls;
  result.calls_passed = agg.passed;
  result.status = aborted ? "aborted" : "completed";
  result.exit_code = aborted ? 1 : (agg.passed == agg.calls ? 0 : 99);
  store.FinishRun(result.run_id, result.status, result.event_log_hash, result.exit_code);
  return result;
}

}  // namespace callsim::harness
