#include "harness/run/merge.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "harness/run/run_parts.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {
namespace {

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

namespace {

// A stored part as the run's aggregation takes it.
RunPart ReadPart(const MergePart& part, const Store& in) {
  RunPart p;
  p.state = part.state;
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
  std::string error;
  if (!RunMetrics::FromState(part.state.counters, histograms, &p.metrics, &error)) {
    throw MergeError(Describe(part) + ": merge state: " + error);
  }
  p.call_hashes.assign(static_cast<size_t>(part.state.arrivals), 0);
  for (const CallRow& call : in.LoadCalls(part.run_id)) {
    uint64_t hash = 0;
    if (call.call_id < 0 || call.call_id >= part.state.arrivals ||
        !part.state.shard.Holds(static_cast<int>(call.call_id)) ||
        !ParseHashHex(call.event_hash, &hash)) {
      throw MergeError(Describe(part) + ": call " + std::to_string(call.call_id) +
                       " has no event hash or does not belong to its shard");
    }
    p.call_hashes[static_cast<size_t>(call.call_id)] = hash;
  }
  for (const auto& [call_id, ended_ms] : in.LoadReportedCallEnds(part.run_id)) {
    p.reported_calls.emplace_back(std::llround(ended_ms * 1000.0), call_id);
  }
  const std::map<std::string, double> metrics = in.LoadMetrics(part.run_id);
  if (!part.state.all_reports) {
    p.reports_written = static_cast<int64_t>(p.reported_calls.size());
    auto dropped = metrics.find("post_call_reports_dropped");
    p.reports_dropped = dropped == metrics.end() ? 0 : std::llround(dropped->second);
  }
  if (auto bound = metrics.find("harness_lateness_bound_ms"); bound != metrics.end()) {
    p.lateness_bound_ms = bound->second;
    Histogram lateness;
    if (const std::optional<std::string> data = in.LoadHistogram(part.run_id, "harness_lateness_us")) {
      if (!Histogram::Deserialize(*data, &lateness)) {
        throw MergeError(Describe(part) + ": histogram harness_lateness_us is malformed");
      }
    }
    p.lateness = std::move(lateness);
  }
  p.aborted = part.info.status == "aborted";
  return p;
}

}  // namespace

MergeResult WriteMerge(const MergePlan& plan, Store& out) {
  const MergePart& first = plan.parts.front();
  std::vector<RunPart> parts;
  std::vector<Threshold> thresholds;
  {
    std::vector<std::unique_ptr<Store>> stores;
    for (const MergePart& p : plan.parts) {
      stores.push_back(OpenPart(p.path));
      parts.push_back(ReadPart(p, *stores.back()));
    }
    thresholds = ParseThresholds(ThresholdsOf(*stores.front(), first.run_id), first);
  }
  const ReportVerdict reports = AdmitPartReports(parts, plan.output);

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
  try {
    for (size_t i = 0; i < plan.parts.size(); ++i) {
      out.ImportCalls(plan.parts[i].path, plan.parts[i].run_id, run_id, reports.kept[i]);
    }
    static_cast<FinishedRun&>(result) =
        FinishParts(out, run_id, parts, plan.output, thresholds, reports);
  } catch (const std::exception& e) {
    // Nothing half-merged stays 'running': the run is marked failed with the reason.
    try {
      out.FinishRun(run_id, RunOutcome{"failed", "", 1, std::string("merge failed: ") + e.what(), 0});
    } catch (const StoreError&) {
    }
    throw;
  }
  result.run_id = run_id;
  result.coupling = plan.coupling;
  return result;
}

}  // namespace callsim::harness
