// Shards and workers of a run combine into the run one process gives: the bundled load (a mix,
// shared LLM capacity, thresholds, post-call reports that overflow their queue) split four ways
// and merged, and run on 1, 2 and 3 workers, stores the same rows, metrics, histograms,
// thresholds and hash. Merge refuses parts of different runs, missing or repeated shards and runs
// that did not finish; coupled parts (a shared limiter that would have queued) are detected.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/observability/agent_metrics.h"
#include "harness/run/merge.h"
#include "harness/run/merge_state.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"
#include "tests/harness/run/same_run.h"

namespace callsim::harness {
namespace {

using testing::ExpectSameRun;

const std::string kLoad = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/load_1000.yaml";

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_merge_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Db(const std::string& name) const { return dir_ + "/" + name + ".db"; }

  Store& Open(const std::string& path) {
    std::string error;
    stores_.push_back(Store::Open(path, &error));
    EXPECT_TRUE(stores_.back()) << error;
    return *stores_.back();
  }

  // Runs `path` with `sets` into `db`; options.seed and the rest as given.
  RunResult Run(const std::string& db, RunOptions options, std::vector<std::string> sets = {},
                const std::string& path = kLoad) {
    LoadResult loaded = LoadScenarioFile(path, sets);
    EXPECT_TRUE(loaded.scenario) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
    if (!loaded.scenario) return {};
    scenarios_.push_back(std::make_unique<Scenario>(std::move(*loaded.scenario)));
    RunPlan plan;
    std::string error;
    EXPECT_TRUE(MakeRunPlan(*scenarios_.back(), &plan, &error)) << error;
    plans_.push_back(std::make_unique<RunPlan>(plan));
    options.scenario_arg = path;
    options.overrides = sets;
    return RunScenario(*plans_.back(), options, Open(db));
  }

  // The bundled load at 120 callers, with a post-call queue of 8 (so reports are dropped).
  static RunOptions LoadOptions() {
    RunOptions o;
    o.seed = 7;
    o.post_call_queue = 8;
    return o;
  }
  static std::vector<std::string> LoadSets() { return {"load.callers=120"}; }

  std::string dir_;
  std::vector<std::unique_ptr<Store>> stores_;
  std::vector<std::unique_ptr<Scenario>> scenarios_;
  std::vector<std::unique_ptr<RunPlan>> plans_;
};

TEST_F(MergeTest, FourShardsMergedEqualTheWholeRun) {
  const RunResult whole = Run(Db("whole"), LoadOptions(), LoadSets());
  ASSERT_EQ(whole.calls, 120);
  Store& whole_store = *stores_.back();
  const auto whole_metrics = whole_store.LoadMetrics(whole.run_id);
  ASSERT_GT(whole_metrics.at("post_call_reports_dropped"), 0);  // admission is exercised
  ASSERT_GT(whole_metrics.at("llm_capacity_requests"), 0);

  std::vector<std::string> shards;
  for (int i = 1; i <= 4; ++i) {
    RunOptions o = LoadOptions();
    o.shard = Shard{i, 4};
    const RunResult part = Run(Db("shard" + std::to_string(i)), o, LoadSets());
    EXPECT_EQ(part.calls, 30);
    // A shard keeps every call's report: admission happens when the shards are merged.
    EXPECT_EQ(stores_.back()->LoadCallReports(part.run_id).size(), 30u);
    EXPECT_NE(part.event_log_hash, whole.event_log_hash);
    shards.push_back(Db("shard" + std::to_string(i)));
  }
  std::reverse(shards.begin(), shards.end());  // any order
  const MergePlan plan = PlanMerge(shards, Shard{});
  EXPECT_EQ(plan.coupling, "");
  Store& merged_store = Open(Db("merged"));
  const MergeResult merged = WriteMerge(plan, merged_store);
  EXPECT_EQ(merged.event_log_hash, whole.event_log_hash);
  EXPECT_EQ(merged.exit_code, whole.exit_code);
  EXPECT_EQ(merged.calls, 120);
  ExpectSameRun(whole_store, whole.run_id, merged_store, merged.run_id);
  // The merged run reads as the whole run: same configuration, no shard.
  EXPECT_EQ(merged_store.LoadRun(merged.run_id)->config_json,
            whole_store.LoadRun(whole.run_id)->config_json);

  // Merged thresholds are evaluated on the merged run, not copied from a shard.
  ASSERT_EQ(merged.thresholds.size(), 2u);
  EXPECT_EQ(merged.thresholds[0].observed, whole.thresholds[0].observed);
}

TEST_F(MergeTest, WorkersGiveTheRowsOfOneWorker) {
  RunOptions one = LoadOptions();
  const RunResult single = Run(Db("one"), one, LoadSets());
  EXPECT_EQ(single.workers, 1);
  for (int workers : {2, 3}) {
    RunOptions o = LoadOptions();
    o.workers = workers;
    const std::string db = Db("workers" + std::to_string(workers));
    const RunResult r = Run(db, o, LoadSets());
    EXPECT_EQ(r.workers, workers);
    EXPECT_EQ(r.workers_note, "");
    EXPECT_EQ(r.event_log_hash, single.event_log_hash);
    EXPECT_EQ(r.exit_code, single.exit_code);
    EXPECT_EQ(r.calls, single.calls);
    EXPECT_EQ(r.calls_passed, single.calls_passed);
    ExpectSameRun(*stores_.front(), single.run_id, *stores_.back(), r.run_id);
    // The workers stored into the one run: no other run was begun (none was run again).
    EXPECT_EQ(stores_.back()->ListRuns().size(), 1u);
  }
}

// Lanes (each call on a clock of its own, all advanced a window at a time) store the rows one
// clock does: a plain load, barge-ins, DTMF, tools, provider faults, a lossy network, and the
// bundled mix without its shared LLM capacity.
TEST_F(MergeTest, LanesGiveTheRowsOfOneClock) {
  const std::string dir = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"order_status.yaml", {"load.callers=60", "load.arrival.rate_per_s=30"}},
      {"barge_in.yaml", {}},
      {"dtmf_menu.yaml", {}},
      {"tools_guardrails.yaml", {}},
      {"flaky_providers.yaml", {"load.callers=12"}},
      {"lossy_network.yaml", {"load.callers=10"}},
      {"load_1000.yaml", {"load.callers=40", "fakes.llm.capacity.max_concurrent=0",
                          "fakes.llm.capacity.queue=0"}},
      // Its shared LLM capacity never queues at this load: each call's own limiter stands in.
      {"load_1000.yaml", {"load.callers=150"}},
  };
  for (const auto& [file, sets] : cases) {
    SCOPED_TRACE(file);
    RunOptions one_clock = LoadOptions();
    one_clock.call_lanes = false;
    const RunResult single = Run(Db(file + ".one"), one_clock, sets, dir + file);
    EXPECT_FALSE(single.lanes);
    const RunResult lanes = Run(Db(file + ".lanes"), LoadOptions(), sets, dir + file);
    EXPECT_TRUE(lanes.lanes);
    EXPECT_EQ(lanes.lanes_note, "");
    EXPECT_EQ(lanes.event_log_hash, single.event_log_hash);
    EXPECT_EQ(lanes.virtual_end_us, single.virtual_end_us);
    EXPECT_EQ(lanes.peak_active_calls, single.peak_active_calls);
    EXPECT_EQ(lanes.llm_capacity.requests, single.llm_capacity.requests);
    EXPECT_EQ(lanes.llm_capacity.peak_in_service, single.llm_capacity.peak_in_service);
    ExpectSameRun(*stores_[stores_.size() - 2], single.run_id, *stores_.back(), lanes.run_id);
    // The merge state (provider logs, peaks, breaker failures) too: shards of either merge alike.
    EXPECT_EQ(stores_.back()->LoadMergeState(lanes.run_id),
              stores_[stores_.size() - 2]->LoadMergeState(single.run_id));
  }
}

// Calls on lanes that turn out to have shared something run again on one clock, and the run's
// rows are those of one clock: a provider limiter that would have queued, a circuit breaker
// whose failures reach its threshold.
TEST_F(MergeTest, CapacityThatWouldQueueOrABreakerThatCouldOpenRunsAgainOnOneClock) {
  const std::vector<std::string> queueing = {"load.callers=40", "fakes.llm.capacity.max_concurrent=2"};
  RunOptions shared = LoadOptions();
  shared.call_lanes = false;
  const RunResult queued = Run(Db("queued.one"), shared, queueing);
  ASSERT_GT(queued.llm_capacity.queued, 0u);
  const RunResult queued_again = Run(Db("queued.lanes"), LoadOptions(), queueing);
  EXPECT_FALSE(queued_again.lanes);
  EXPECT_NE(queued_again.lanes_note.find("llm capacity"), std::string::npos)
      << queued_again.lanes_note;
  EXPECT_EQ(queued_again.llm_capacity.queued, queued.llm_capacity.queued);
  ExpectSameRun(*stores_[stores_.size() - 2], queued.run_id, *stores_.back(), queued_again.run_id);

  // The agent metrics count each call once, though the run ran twice.
  const std::string down = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/tools_backend_down.yaml";
  agent::AgentMetrics one_clock_metrics({"check_order_status"}), again_metrics({"check_order_status"});
  RunOptions one_clock = LoadOptions();
  one_clock.call_lanes = false;
  one_clock.agent_metrics = &one_clock_metrics;
  const RunResult single = Run(Db("down.one"), one_clock, {}, down);
  RunOptions lanes = LoadOptions();
  lanes.agent_metrics = &again_metrics;
  const RunResult again = Run(Db("down.lanes"), lanes, {}, down);
  EXPECT_EQ(again_metrics.Exposition(), one_clock_metrics.Exposition());
  EXPECT_FALSE(again.lanes);
  EXPECT_NE(again.lanes_note.find("circuit breaker of orders"), std::string::npos) << again.lanes_note;
  ExpectSameRun(*stores_[stores_.size() - 2], single.run_id, *stores_.back(), again.run_id);
  EXPECT_EQ(stores_.back()->ListRuns().size(), 1u);  // run again into the same run
}

// The workers' progress reads as one run's: every report counts all the calls, the clock never
// goes back, and the last report is the finished one with every call done.
TEST_F(MergeTest, WorkersReportProgressAsOneRun) {
  RunOptions o = LoadOptions();
  o.workers = 2;
  std::vector<RunProgress> reports;
  o.progress = [&](const RunProgress& p) { reports.push_back(p); };
  Run(Db("progress"), o, LoadSets());
  ASSERT_GT(reports.size(), 3u);
  int64_t last_us = 0;
  for (const RunProgress& p : reports) {
    EXPECT_EQ(p.calls_total, 120);
    EXPECT_GE(p.virtual_us, last_us);
    last_us = p.virtual_us;
  }
  EXPECT_TRUE(reports.back().finished);
  EXPECT_EQ(reports.back().calls_done, 120);
  EXPECT_EQ(std::count_if(reports.begin(), reports.end(), [](const RunProgress& p) { return p.finished; }), 1);
}

TEST_F(MergeTest, WorkersOfAShardMakeThatShard) {
  RunOptions o = LoadOptions();
  o.shard = Shard{2, 3};
  const RunResult single = Run(Db("one"), o, LoadSets());
  o.workers = 2;
  const RunResult parallel = Run(Db("two"), o, LoadSets());
  EXPECT_EQ(parallel.workers, 2);
  ExpectSameRun(*stores_.front(), single.run_id, *stores_.back(), parallel.run_id);
  EXPECT_EQ(stores_.back()->LoadRun(parallel.run_id)->config_json,
            stores_.front()->LoadRun(single.run_id)->config_json);
}

TEST_F(MergeTest, CoupledWorkersRunAgainOnOneWorker) {
  // Two LLM slots for 40 callers: one shared limiter queues, so the parts are not the run.
  const std::vector<std::string> sets = {"load.callers=40", "fakes.llm.capacity.max_concurrent=2"};
  RunOptions o = LoadOptions();
  agent::AgentMetrics single_metrics, parallel_metrics;
  o.agent_metrics = &single_metrics;
  const RunResult single = Run(Db("one"), o, sets);
  ASSERT_GT(single.llm_capacity.queued, 0u);
  o.workers = 2;
  o.agent_metrics = &parallel_metrics;
  const RunResult parallel = Run(Db("two"), o, sets);
  EXPECT_EQ(parallel.workers, 1);
  // The agent metrics count each call once, though the run ran twice.
  EXPECT_EQ(parallel_metrics.Exposition(), single_metrics.Exposition());
  EXPECT_NE(parallel.workers_note.find("llm capacity"), std::string::npos) << parallel.workers_note;
  ExpectSameRun(*stores_.front(), single.run_id, *stores_.back(), parallel.run_id);

  // Shards of it merge, and the merged run says they were coupled.
  std::vector<std::string> shards;
  for (int i = 1; i <= 2; ++i) {
    RunOptions s = LoadOptions();
    s.shard = Shard{i, 2};
    Run(Db("s" + std::to_string(i)), s, sets);
    shards.push_back(Db("s" + std::to_string(i)));
  }
  const MergePlan plan = PlanMerge(shards, Shard{});
  EXPECT_NE(plan.coupling.find("llm capacity"), std::string::npos) << plan.coupling;
  Store& merged_store = Open(Db("merged"));
  const MergeResult merged = WriteMerge(plan, merged_store);
  const nlohmann::json config = nlohmann::json::parse(merged_store.LoadRun(merged.run_id)->config_json);
  EXPECT_EQ(config["merged"]["parts"], 2);
  EXPECT_EQ(config["merged"]["coupled"], plan.coupling);
}

TEST_F(MergeTest, RefusesPartsThatAreNotOneRun) {
  const std::vector<std::string> sets = {"load.callers=8"};
  auto shard = [&](const std::string& name, int index, int count, uint64_t seed,
                   std::vector<std::string> s) {
    RunOptions o;
    o.seed = seed;
    o.shard = Shard{index, count};
    Run(Db(name), o, s);
    return Db(name);
  };
  const std::string a1 = shard("a1", 1, 2, 1, sets);
  const std::string a2 = shard("a2", 2, 2, 1, sets);
  const std::string seed2 = shard("seed2", 2, 2, 2, sets);
  const std::string other_set = shard("set", 2, 2, 1, {"load.callers=8", "network.uplink.delay_ms=60"});
  const std::string thirds = shard("thirds", 2, 3, 1, sets);
  auto refused = [&](const std::vector<std::string>& paths, const std::string& message) {
    try {
      PlanMerge(paths, Shard{});
      ADD_FAILURE() << "merged, expected: " << message;
    } catch (const MergeError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  refused({a1, seed2}, "are not shards of one run: seed 1 vs 2");
  refused({a1, other_set}, "are not shards of one run: set");
  refused({a1, thirds}, "slice the callers differently (2 vs 3 shards)");
  refused({a1}, "missing shard 2/2");
  refused({a1, a1}, "shard 1/2 appears twice");
  refused({a1, Db("nowhere")}, "no such database file");
  // A run still marked running (its process killed) cannot be merged.
  {
    Store& s = Open(Db("running"));
    RunInfo info;
    info.seed = 1;
    info.scenario = kLoad;
    s.BeginRun(info);
  }
  refused({a1, Db("running")}, "is still running");
  const MergePlan ok = PlanMerge({a2, a1}, Shard{});
  EXPECT_EQ(ok.parts.size(), 2u);
  EXPECT_EQ(ok.parts[0].state.shard.index, 1);  // ordered by shard
}

TEST(ReportAdmissionTest, DropsWhileTheQueueIsFullAndAdmitsWhenItDrains) {
  ReportAdmission a(2, 100);
  EXPECT_TRUE(a.Offer(0));    // built 0..100
  EXPECT_TRUE(a.Offer(0));    // 100..200
  EXPECT_FALSE(a.Offer(50));  // two waiting
  EXPECT_TRUE(a.Offer(100));  // the first is done at 100: it has left
  EXPECT_FALSE(a.Offer(150));
  EXPECT_TRUE(a.Offer(400));  // all done
  EXPECT_EQ(a.accepted(), 4);
  EXPECT_EQ(a.dropped(), 2);
  ReportAdmission none(0, 100);
  EXPECT_FALSE(none.Offer(0));
}

TEST(MergeStateTest, RoundTripsAndRejectsMalformedStates) {
  MergeState s;
  s.arrivals = 10;
  s.shard = Shard{2, 5};
  s.counters = {{"calls", 2}};
  ProviderUse use;
  use.provider = "llm";
  use.config.max_concurrent = 3;
  use.config.rate_limit_per_s = 2.5;
  use.stats.requests = 3;
  use.log.requests_us = {5, 5, 9};
  use.log.grants_us = {5, 5, 9};
  use.log.releases_us = {7, 8, 20};
  s.providers.push_back(use);
  s.breaker_failures = {{"orders", 2}};
  s.summed_metrics = {{"recordings_written", 4}};
  s.post_call_capacity = 256;
  s.post_call_processing_us = 200000;
  s.builds_reports = true;
  MergeState back;
  std::string error;
  ASSERT_TRUE(MergeStateFromJson(MergeStateToJson(s), &back, &error)) << error;
  EXPECT_EQ(MergeStateToJson(back), MergeStateToJson(s));
  EXPECT_EQ(back.providers[0].log.releases_us, (std::vector<int64_t>{7, 8, 20}));

  nlohmann::json bad = MergeStateToJson(s);
  bad["version"] = 99;
  EXPECT_FALSE(MergeStateFromJson(bad, &back, &error));
  EXPECT_NE(error.find("version 99"), std::string::npos) << error;
  bad = MergeStateToJson(s);
  bad["providers"][0]["grants_us"] = {5, -1};  // a log that goes back in time
  EXPECT_FALSE(MergeStateFromJson(bad, &back, &error));
  bad = MergeStateToJson(s);
  bad["shard"]["index"] = 6;
  EXPECT_FALSE(MergeStateFromJson(bad, &back, &error));
  EXPECT_NE(error.find("6/5"), std::string::npos) << error;
}

TEST(MergeStateTest, PeakInServiceCountsSameTimeGrantsAndReleasesAsOverlapping) {
  EXPECT_EQ(fakes::PeakInService({}, {}), 0);
  EXPECT_EQ(fakes::PeakInService({0, 10}, {10, 20}), 2);  // released and granted at 10
  EXPECT_EQ(fakes::PeakInService({0, 11}, {10, 20}), 1);
  EXPECT_EQ(fakes::PeakInService({0, 0, 0, 5}, {1, 2, 3, 9}), 3);
}

TEST(MergeStateTest, RunHashCoversEveryIdAndHexRoundTrips) {
  EXPECT_NE(RunHash({1, 2}), RunHash({2, 1}));
  EXPECT_NE(RunHash({1, 0}), RunHash({1}));
  uint64_t back = 0;
  ASSERT_TRUE(ParseHashHex(HashHex(0x0123456789abcdefULL), &back));
  EXPECT_EQ(back, 0x0123456789abcdefULL);
  EXPECT_FALSE(ParseHashHex("0123456789ABCDEF", &back));  // stored lowercase
  EXPECT_FALSE(ParseHashHex("123", &back));
}

}  // namespace
}  // namespace callsim::harness
