#include "harness/run/merge.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "harness/run/runner.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {
namespace {

constexpr const char* kProviders[] = {"stt", "llm", "tts"};

std::string ShardText(const Shard& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

std::string Describe(const MergePart& p) {
  return p.path + " (run " + std::to_string(p.run_id) + ", shard " + ShardText(p.state.shard) + ")";
}

std::unique_ptr<Store> OpenPart(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw MergeError(path + ": no such database file");
  }
  std::string error;
  std::unique_ptr<Store> store = Store::Open(path, &error);
  if (!store) throw MergeError(error);
  return store;
}

// The run's configuration without what differs between the parts of one run.
nlohmann::json CommonConfig(const MergePart& p) {
  nlohmann::json config = nlohmann::json::parse(p.info.config_json, nullptr, false);
  if (!config.is_object()) throw MergeError(Describe(p) + ": config_json is not a JSON object");
  config.erase("shard");
  config.erase("merged");
  return config;
}

// What differs between two parts' configurations, for the error message.
std::string FirstDifference(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> keys;
  for (auto it = a.begin(); it != a.end(); ++it) keys.push_back(it.key());
  for (auto it = b.begin(); it != b.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    const nlohmann::json x = a.contains(key) ? a[key] : nlohmann::json("(none)");
    const nlohmann::json y = b.contains(key) ? b[key] : nlohmann::json("(none)");
    if (x != y) return key + " " + x.dump() + " vs " + y.dump();
  }
  return "";
}

std::vector<ThresholdRow> ThresholdsOf(const Store& store, int64_t run_id) {
  std::vector<ThresholdRow> rows = store.LoadThresholds(run_id);
  for (ThresholdRow& r : rows) {  // only what the scenario declared
    r.run_id = 0;
    r.observed = 0;
    r.passed = false;
  }
  return rows;
}

std::vector<Threshold> ParseThresholds(const std::vector<ThresholdRow>& rows, const MergePart& p) {
  std::vector<Threshold> out;
  for (const ThresholdRow& row : rows) {
    Threshold t;
    t.metric = row.metric;
    const MetricInfo* metric = FindMetric(row.metric);
    std::string error;
    if (metric == nullptr || !ParseThresholdExpr(row.expression, *metric, &t.expr, &error)) {
      throw MergeError(Describe(p) + ": stored threshold " + row.metric + " " + row.expression +
                       " does not parse" + (error.empty() ? "" : ": " + error));
    }
    out.push_back(std::move(t));
  }
  return out;
}

void CheckTiling(const std::vector<MergePart>& parts, const Shard& output) {
  const int count = parts.front().state.shard.count;
  for (const MergePart& p : parts) {
    if (p.state.shard.count != count) {
      throw MergeError(Describe(parts.front()) + " and " + Describe(p) +
                       " slice the callers differently (" + std::to_string(count) + " vs " +
                       std::to_string(p.state.shard.count) + " shards)");
    }
  }
  if (count % output.count != 0) {
    throw MergeError(std::to_string(count) + " shards cannot make up slice " + ShardText(output));
  }
  std::map<int, const MergePart*> by_index;
  for (const MergePart& p : parts) {
    const int index = p.state.shard.index;
    if ((index - 1) % output.count != output.index - 1) {
      throw MergeError(Describe(p) + " is not part of " +
                       (output.whole() ? std::string("the run") : "slice " + ShardText(output)));
    }
    auto [it, inserted] = by_index.emplace(index, &p);
    if (!inserted) {
      throw MergeError("shard " + ShardText(p.state.shard) + " appears twice: " + it->second->path +
                       " and " + p.path);
    }
  }
  std::vector<std::string> missing;
  for (int index = output.index; index <= count; index += output.count) {
    if (!by_index.count(index)) missing.push_back(std::to_string(index) + "/" + std::to_string(count));
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    throw MergeError("missing shard" + std::string(missing.size() > 1 ? "s " : " ") + list +
                     ": a merged run needs every shard");
  }
}

MergeState CombinedState(const MergePlan& plan, const RunMetrics& metrics) {
  const MergeState& first = plan.parts.front().state;
  MergeState s;
  s.arrivals = first.arrivals;
  s.shard = plan.output;
  s.counters = metrics.CountersJson();
  for (const char* provider : kProviders) {
    std::optional<ProviderUse> combined;
    for (const MergePart& part : plan.parts) {
      for (const ProviderUse& use : part.state.providers) {
        if (use.provider != provider) continue;
        if (!combined) {
          combined = use;
          continue;
        }
        fakes::CapacityStats& t = combined->stats;
        t.requests += use.stats.requests;
        t.granted += use.stats.granted;
        t.queued += use.stats.queued;
        t.queue_timeouts += use.stats.queue_timeouts;
        t.over_capacity += use.stats.over_capacity;
        t.rate_limited += use.stats.rate_limited;
        t.peak_in_service = std::max(t.peak_in_service, use.stats.peak_in_service);
        t.peak_waiting = std::max(t.peak_waiting, use.stats.peak_waiting);
        t.max_wait_us = std::max(t.max_wait_us, use.stats.max_wait_us);
        t.total_wait_us += use.stats.total_wait_us;
        auto add = [](std::vector<int64_t>& into, const std::vector<int64_t>& more) {
          const size_t middle = into.size();
          into.insert(into.end(), more.begin(), more.end());
          std::inplace_merge(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(middle),
                             into.end());
        };
        add(combined->log.requests_us, use.log.requests_us);
        add(combined->log.grants_us, use.log.grants_us);
        add(combined->log.releases_us, use.log.releases_us);
      }
    }
    if (combined) s.providers.push_back(std::move(*combined));
  }
  s.breaker_threshold = first.breaker_threshold;
  s.max_active_calls = first.max_active_calls;
  s.builds_reports = first.builds_reports;
  s.post_call_capacity = first.post_call_capacity;
  s.post_call_processing_us = first.post_call_processing_us;
  s.all_reports = !plan.output.whole();
  for (const MergePart& part : plan.parts) {
    for (const auto& [name, n] : part.state.breaker_failures) s.breaker_failures[name] += n;
    for (const auto& [name, n] : part.state.summed_metrics) s.summed_metrics[name] += n;
    s.peak_active_calls += part.state.peak_active_calls;
    s.calls_not_started += part.state.calls_not_started;
  }
  return s;
}

}  // namespace

MergePlan PlanMerge(const std::vector<std::string>& paths, const Shard& output) {
  if (paths.empty()) throw MergeError("no databases to merge");
  MergePlan plan;
  plan.output = output;
  std::vector<std::vector<ThresholdRow>> thresholds;
  for (const std::string& path : paths) {
    std::unique_ptr<Store> store = OpenPart(path);
    MergePart part;
    part.path = path;
    const std::optional<int64_t> latest = store->LatestRunId();
    if (!latest) throw MergeError(path + ": holds no run");
    part.run_id = *latest;
    part.info = *store->LoadRun(part.run_id);
    const std::string where = path + " (run " + std::to_string(part.run_id) + ")";
    if (part.info.status == "running") {
      throw MergeError(where + " is still running, or its process was killed: only finished "
                       "runs merge");
    }
    if (part.info.status == "failed") {
      throw MergeError(where + " failed (" + part.info.end_reason + "): run that shard again");
    }
    const std::optional<std::string> state = store->LoadMergeState(part.run_id);
    if (!state) {
      throw MergeError(where + " has no merge state (a run of an older callsim): run that shard "
                       "again with this one");
    }
    std::string error;
    const nlohmann::json json = nlohmann::json::parse(*state, nullptr, false);
    if (!MergeStateFromJson(json, &part.state, &error)) {
      throw MergeError(where + ": merge state: " + error);
    }
    thresholds.push_back(ThresholdsOf(*store, part.run_id));
    plan.parts.push_back(std::move(part));
  }
  // Every part must come from the same run: scenario, seed, mode and every recorded setting.
  const MergePart& first = plan.parts.front();
  const nlohmann::json first_config = CommonConfig(first);
  for (size_t i = 1; i < plan.parts.size(); ++i) {
    const MergePart& p = plan.parts[i];
    std::string difference;
    if (p.info.seed != first.info.seed) {
      difference = "seed " + std::to_string(first.info.seed) + " vs " + std::to_string(p.info.seed);
    } else if (p.info.mode != first.info.mode) {
      difference = "mode " + first.info.mode + " vs " + p.info.mode;
    } else if (p.info.scenario != first.info.scenario) {
      difference = "scenario " + first.info.scenario + " vs " + p.info.scenario;
    } else if (const nlohmann::json config = CommonConfig(p); config != first_config) {
      difference = FirstDifference(first_config, config);
    } else if (p.state.arrivals != first.state.arrivals) {
      difference = "callers " + std::to_string(first.state.arrivals) + " vs " +
                   std::to_string(p.state.arrivals);
    } else if (thresholds[i] != thresholds.front()) {
      difference = "thresholds";
    }
    if (!difference.empty()) {
      throw MergeError(Describe(first) + " and " + Describe(p) + " are not shards of one run: " +
                       difference);
    }
  }
  CheckTiling(plan.parts, output);
  std::sort(plan.parts.begin(), plan.parts.end(), [](const MergePart& a, const MergePart& b) {
    return a.state.shard.index < b.state.shard.index;
  });
  std::vector<const MergeState*> states;
  for (const MergePart& p : plan.parts) states.push_back(&p.state);
  plan.coupling = Coupling(states);
  return plan;
}

MergeResult WriteMerge(const MergePlan& plan, Store& out) {
  const MergePart& first = plan.parts.front();
  std::vector<std::unique_ptr<Store>> stores;
  for (const MergePart& p : plan.parts) stores.push_back(OpenPart(p.path));
  std::vector<Threshold> thresholds =
      ParseThresholds(ThresholdsOf(*stores.front(), first.run_id), first);

  RunInfo info;
  info.seed = first.info.seed;
  info.mode = first.info.mode;
  info.scenario = first.info.scenario;
  nlohmann::json config = CommonConfig(first);
  if (!plan.output.whole()) config["shard"] = ShardText(plan.output);
  if (!plan.coupling.empty()) {
    config["merged"] = {{"parts", plan.parts.size()}, {"coupled", plan.coupling}};
  }
  info.config_json = config.dump();
  const int64_t run_id = out.BeginRun(info);
  MergeResult result;
  result.run_id = run_id;
  result.coupling = plan.coupling;
  try {
    // Post-call reports: every part's reported calls offered to one queue, in (end, id) order.
    const MergeState& state = first.state;
    std::vector<std::vector<int64_t>> report_calls(plan.parts.size());
    int64_t reports_written = 0;
    int64_t reports_dropped = 0;
    struct Ended {
      int64_t ended_us;
      int64_t call_id;
      size_t part;
    };
    std::vector<Ended> ended;
    for (size_t i = 0; i < plan.parts.size(); ++i) {
      for (const auto& [call_id, ended_ms] : stores[i]->LoadReportedCallEnds(plan.parts[i].run_id)) {
        ended.push_back(Ended{std::llround(ended_ms * 1000.0), call_id, i});
      }
    }
    std::sort(ended.begin(), ended.end(), [](const Ended& a, const Ended& b) {
      return a.ended_us != b.ended_us ? a.ended_us < b.ended_us : a.call_id < b.call_id;
    });
    ReportAdmission admission(state.post_call_capacity, state.post_call_processing_us);
    for (const Ended& e : ended) {
      if (!plan.output.whole() || admission.Offer(e.ended_us)) {
        report_calls[e.part].push_back(e.call_id);
        ++reports_written;
      } else {
        ++reports_dropped;
      }
    }

    // Rows, and the calls' hashes; then the aggregates.
    std::vector<uint64_t> call_hashes(static_cast<size_t>(state.arrivals), 0);
    RunMetrics metrics;
    for (size_t i = 0; i < plan.parts.size(); ++i) {
      const MergePart& part = plan.parts[i];
      const Store& in = *stores[i];
      std::sort(report_calls[i].begin(), report_calls[i].end());
      out.ImportCalls(part.path, part.run_id, run_id, report_calls[i]);
      for (const CallRow& call : in.LoadCalls(part.run_id)) {
        uint64_t hash = 0;
        if (call.call_id < 0 || call.call_id >= state.arrivals || !part.state.shard.Holds(static_cast<int>(call.call_id)) ||
            !ParseHashHex(call.event_hash, &hash)) {
          throw MergeError(Describe(part) + ": call " + std::to_string(call.call_id) +
                           " has no event hash or does not belong to its shard");
        }
        call_hashes[static_cast<size_t>(call.call_id)] = hash;
        ++result.calls;
        if (call.task_completed) ++result.calls_passed;
      }
      std::map<std::string, Histogram> histograms;
      for (std::string_view name : RunMetrics::kTrendNames) {
        const std::optional<std::string> data = in.LoadHistogram(part.run_id, std::string(name) + "_us");
        if (!data) continue;
        Histogram h;
        if (!Histogram::Deserialize(*data, &h)) {
          throw MergeError(Describe(part) + ": histogram " + std::string(name) + "_us is malformed");
        }
        histograms[std::string(name)] = std::move(h);
      }
      RunMetrics part_metrics;
      std::string error;
      if (!RunMetrics::FromState(part.state.counters, histograms, &part_metrics, &error)) {
        throw MergeError(Describe(part) + ": merge state: " + error);
      }
      metrics.Merge(part_metrics);
    }
    metrics.Store(out, run_id);
    result.thresholds = metrics.Evaluate(thresholds);
    StoreThresholdResults(out, run_id, result.thresholds);
    for (const char* provider : kProviders) {
      std::vector<const ProviderUse*> uses;
      for (const MergePart& part : plan.parts) {
        for (const ProviderUse& use : part.state.providers) {
          if (use.provider == provider) uses.push_back(&use);
        }
      }
      if (!uses.empty()) out.SetMetrics(run_id, CapacityMetrics(uses));
    }
    out.SetMetric(run_id, "post_call_reports", static_cast<double>(reports_written));
    out.SetMetric(run_id, "post_call_reports_dropped", static_cast<double>(reports_dropped));
    const MergeState combined = CombinedState(plan, metrics);
    std::map<std::string, double> summed;
    for (const auto& [name, n] : combined.summed_metrics) summed[name] = static_cast<double>(n);
    if (!summed.empty()) out.SetMetrics(run_id, summed);
    result.calls_not_started = combined.calls_not_started;
    out.SetMetric(run_id, "calls_not_started", static_cast<double>(combined.calls_not_started));

    // Real time: the harness lateness of every part together, against the scenario's bound.
    bool saturated = false;
    std::string end_reason;
    const std::map<std::string, double> first_metrics = stores.front()->LoadMetrics(first.run_id);
    if (auto bound = first_metrics.find("harness_lateness_bound_ms"); bound != first_metrics.end()) {
      Histogram lateness;
      for (size_t i = 0; i < plan.parts.size(); ++i) {
        const std::optional<std::string> data =
            stores[i]->LoadHistogram(plan.parts[i].run_id, "harness_lateness_us");
        Histogram h;
        if (data && Histogram::Deserialize(*data, &h)) lateness.Merge(h);
      }
      const LatenessVerdict verdict = StoreLateness(out, run_id, lateness, bound->second);
      saturated = verdict.saturated;
      end_reason = verdict.reason;
    }
    const bool aborted = std::any_of(plan.parts.begin(), plan.parts.end(),
                                     [](const MergePart& p) { return p.info.status == "aborted"; });
    if (aborted) end_reason = "run aborted (SIGINT or SIGTERM)";
    result.exit_code = RunExitCode(aborted, thresholds.empty(), result.calls_passed, result.calls,
                                   result.thresholds, saturated);
    result.status = aborted ? "aborted" : "completed";
    result.event_log_hash = RunHash(call_hashes);
    out.SetMergeState(run_id, MergeStateToJson(combined).dump());
    out.FinishRun(run_id, RunOutcome{result.status, result.event_log_hash, result.exit_code,
                                     end_reason, result.calls_not_started});
  } catch (const std::exception& e) {
    // Nothing half-merged stays 'running': the run is marked failed with the reason.
    try {
      out.FinishRun(run_id, RunOutcome{"failed", "", 1, std::string("merge failed: ") + e.what(), 0});
    } catch (const StoreError&) {
    }
    throw;
  }
  return result;
}

}  // namespace callsim::harness
