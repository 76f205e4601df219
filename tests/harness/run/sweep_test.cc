#include "harness/run/sweep.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace callsim::harness {
namespace {

Threshold Slo(const std::string& metric, const std::string& text) {
  Threshold t;
  t.metric = metric;
  std::string error;
  EXPECT_TRUE(ParseThresholdExpr(text, *FindMetric(metric), &t.expr, &error)) << error;
  return t;
}

// What a synthetic level run looks like: p95 and task completion as functions of the level.
struct FakeLevel {
  double p95_ms;
  double task_completion;
  RunStatus status = RunStatus::kCompleted;
};

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_sweep_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    StoreOptions options;
    options.stamp_wall_time = false;
    std::string error;
    store_ = Store::Open(dir_ + "/runs.db", options, &error);
    ASSERT_NE(store_, nullptr) << error;
    plan_.name = "llm_capacity";
    plan_.scenario_path = "scenarios/order_status.yaml";
    plan_.set = {"fakes.llm.capacity.max_concurrent=30"};
    plan_.slo = {Slo("turn_latency", "p(95)<1700"), Slo("task_completion", "rate>0.9")};
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A run_level callable that stores a synthetic run whose metrics come from `levels` (by the
  // level in the last override), and remembers what it was asked.
  RunLevelFn Runner(std::map<std::string, FakeLevel> levels) {
    return [this, levels](const LevelRun& run) {
      const std::vector<std::string>& overrides = run.overrides;
      const uint64_t seed = run.seed;
      Store& store = *run.store;
      const std::lock_guard<std::mutex> lock(asked_lock_);
      asked_.push_back(overrides);
      seeds_.push_back(seed);
      const std::string level = overrides.back().substr(overrides.back().find('=') + 1);
      const FakeLevel& fake = levels.at(level);
      RunInfo info;
      info.scenario = plan_.scenario_path;
      info.seed = seed;
      RunResult result;
      result.run_id = store.BeginRun(info);
      if (run.on_begin) run.on_begin(result.run_id);
      result.status = fake.status;
      Histogram h;  // 100 turns, the slowest at the p95 figure, for percentiles not stored
      for (int i = 1; i <= 100; ++i) h.Record(static_cast<int64_t>(fake.p95_ms * 1000 * i / 95));
      store.SetMetrics(result.run_id, {{"calls_total", std::stod(level)},
                                         {"turn_latency_p50_ms", fake.p95_ms / 2},
                                         {"turn_latency_p95_ms", fake.p95_ms},
                                         {"turn_latency_p99_ms", fake.p95_ms * 1.2},
                                         {"dropped_calls_rate", 0},
                                         {"task_completion_rate", fake.task_completion}});
      store.SetHistogram(result.run_id, "turn_latency_us", h.Serialize());
      store.FinishRun(result.run_id, std::string(kRunStatusNames.Name(fake.status)), "hash",
                        0);
      return result;
    };
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  SweepPlan plan_;
  std::mutex asked_lock_;  // levels at once ask from their own threads
  std::vector<std::vector<std::string>> asked_;
  std::vector<uint64_t> seeds_;
};

TEST_F(SweepTest, TheKneeIsTheHighestLevelWhoseSloHolds) {
  plan_.levels = {10, 20, 30, 40};
  std::vector<double> told;
  const SweepResult r = RunSweep(
      plan_, 7, *store_,
      Runner({{"10", {1200, 1}}, {"20", {1400, 1}}, {"30", {1600, 0.95}}, {"40", {1800, 0.97}}}),
      [&](const SweepLevelResult& l) { told.push_back(l.level); });
  EXPECT_EQ(told, (std::vector<double>{10, 20, 30, 40}));
  ASSERT_EQ(r.levels.size(), 4u);
  EXPECT_EQ(r.knee, 30);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(SweepExitCode(r), 0);
  EXPECT_TRUE(r.levels[2].slo_met);
  EXPECT_FALSE(r.levels[3].slo_met);
  EXPECT_EQ(r.levels[3].results[0].observed, 1800);
  EXPECT_FALSE(r.levels[3].results[0].passed);
  EXPECT_TRUE(r.levels[3].results[1].passed);
  EXPECT_EQ(r.levels[1].key_metrics.at("turn_latency_p95_ms"), 1400);
  EXPECT_EQ(r.levels[1].key_metrics.at("calls_total"), 20);
  EXPECT_FALSE(r.levels[1].key_metrics.count("call_errors_rate"));  // not stored by that run
  // Each level: the fixed overrides, then the level; every level with the sweep's seed.
  ASSERT_EQ(asked_.size(), 4u);
  EXPECT_EQ(asked_[0], (std::vector<std::string>{"fakes.llm.capacity.max_concurrent=30",
                                                 "load.callers=10"}));
  EXPECT_EQ(asked_[3].back(), "load.callers=40");
  EXPECT_EQ(seeds_, (std::vector<uint64_t>{7, 7, 7, 7}));

  // Stored as it went.
  std::optional<SweepRow> sweep = store_->LoadSweep(r.sweep_id);
  ASSERT_TRUE(sweep);
  EXPECT_EQ(sweep->status, "completed");
  EXPECT_EQ(sweep->knee, 30);
  EXPECT_EQ(sweep->seed, 7u);
  EXPECT_EQ(sweep->parameter, "load.callers");
  EXPECT_EQ(sweep->plan_json, SweepPlanJson(plan_));
  const std::vector<SweepLevelRow> rows = store_->LoadSweepLevels(r.sweep_id);
  ASSERT_EQ(rows.size(), 4u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].level, r.levels[i].level);
    EXPECT_EQ(rows[i].run_id, r.levels[i].run_id);
    EXPECT_EQ(rows[i].slo_met, r.levels[i].slo_met);
  }
  const nlohmann::json slo = nlohmann::json::parse(rows[3].slo_json);
  EXPECT_EQ(slo[0]["observed_metric"], "turn_latency_p95_ms");
  EXPECT_EQ(slo[0]["observed"], 1800);
  EXPECT_EQ(slo[0]["passed"], false);
}

TEST_F(SweepTest, AMissBelowEndsTheKneeEvenIfAHigherLevelMeetsAgain) {
  plan_.levels = {10, 20, 30};
  const SweepResult r = RunSweep(
      plan_, 1, *store_, Runner({{"10", {1200, 1}}, {"20", {1300, 0.8}}, {"30", {1400, 1}}}));
  EXPECT_TRUE(r.levels[2].slo_met);
  EXPECT_EQ(r.knee, 10);
  EXPECT_EQ(store_->LoadSweep(r.sweep_id)->knee, 10);
}

TEST_F(SweepTest, NoKneeWhenTheLowestLevelMisses) {
  plan_.levels = {10, 20};
  const SweepResult r =
      RunSweep(plan_, 1, *store_, Runner({{"10", {1800, 1}}, {"20", {1900, 1}}}));
  EXPECT_FALSE(r.knee);
  EXPECT_EQ(SweepExitCode(r), 99);
  EXPECT_FALSE(store_->LoadSweep(r.sweep_id)->knee);
}

TEST_F(SweepTest, PercentilesTheRunDidNotStoreComeFromItsHistogram) {
  plan_.levels = {10, 20};
  // The fake histogram's p97 is 97/95 of the p95 figure: 1633 and 1735.
  plan_.slo = {Slo("turn_latency", "p(97)<1700")};
  const SweepResult r =
      RunSweep(plan_, 1, *store_, Runner({{"10", {1600, 1}}, {"20", {1700, 1}}}));
  EXPECT_NEAR(r.levels[0].results[0].observed, 1600.0 * 97 / 95, 2);
  EXPECT_EQ(r.levels[0].results[0].observed_metric, "turn_latency_p97_ms");
  EXPECT_EQ(r.knee, 10);
}

TEST_F(SweepTest, StopOnFailureSkipsTheLevelsAboveTheFirstMiss) {
  plan_.levels = {10, 20, 30, 40};
  plan_.stop_on_failure = true;
  const SweepResult r = RunSweep(
      plan_, 1, *store_,
      Runner({{"10", {1200, 1}}, {"20", {1800, 1}}, {"30", {1400, 1}}, {"40", {1400, 1}}}));
  EXPECT_EQ(r.levels.size(), 2u);
  EXPECT_EQ(asked_.size(), 2u);
  EXPECT_EQ(r.knee, 10);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
}

TEST_F(SweepTest, AnAbortedLevelRunStopsTheSweep) {
  plan_.levels = {10, 20, 30};
  FakeLevel aborted{1200, 1, RunStatus::kAborted};
  const SweepResult r = RunSweep(plan_, 1, *store_,
                                 Runner({{"10", {1200, 1}}, {"20", aborted}, {"30", {1200, 1}}}));
  EXPECT_EQ(r.levels.size(), 2u);
  EXPECT_FALSE(r.levels[1].slo_met);  // its thresholds held, but the run did not finish
  EXPECT_EQ(r.levels[1].run_status, RunStatus::kAborted);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  EXPECT_EQ(r.knee, 10);
  EXPECT_EQ(SweepExitCode(r), 1);
  EXPECT_EQ(store_->LoadSweep(r.sweep_id)->status, "aborted");
}

TEST_F(SweepTest, AThrowingLevelMarksTheSweepFailedAndPassesTheErrorOn) {
  plan_.levels = {10, 20};
  RunLevelFn ok = Runner({{"10", {1200, 1}}});
  RunLevelFn fails = [&](const LevelRun& run) {
    if (run.overrides.back() == "load.callers=20") throw std::runtime_error("disk on fire");
    return ok(run);
  };
  EXPECT_THROW(RunSweep(plan_, 1, *store_, fails), std::runtime_error);
  const std::optional<int64_t> id = store_->LatestSweepId();
  ASSERT_TRUE(id);
  EXPECT_EQ(store_->LoadSweep(*id)->status, "failed");
  EXPECT_EQ(store_->LoadSweep(*id)->knee, 10);
  EXPECT_EQ(store_->LoadSweepLevels(*id).size(), 1u);
}

SweepOptions AtOnce(int n, const std::string& db) {
  SweepOptions options;
  options.levels_at_once = n;
  options.open_store = [db] {
    StoreOptions store_options;
    store_options.stamp_wall_time = false;
    std::string error;
    return Store::Open(db, store_options, &error);
  };
  return options;
}

// Levels side by side, each on its own connection, give the rows levels one after another give:
// run ids in plan order, the same judgements, the same knee.
TEST_F(SweepTest, LevelsAtOnceStoreWhatLevelsOneAtATimeStore) {
  plan_.levels = {10, 20, 30, 40, 50};
  const std::map<std::string, FakeLevel> fakes = {{"10", {1200, 1}}, {"20", {1400, 1}},
                                                  {"30", {1600, 0.95}}, {"40", {1800, 0.97}},
                                                  {"50", {1500, 1}}};
  std::vector<double> told;
  const SweepResult one = RunSweep(plan_, 3, *store_, Runner(fakes));
  const SweepResult three =
      RunSweep(plan_, 3, *store_, Runner(fakes),
               [&](const SweepLevelResult& l) { told.push_back(l.level); },
               AtOnce(3, dir_ + "/runs.db"));
  EXPECT_EQ(told, plan_.levels);  // told in plan order
  ASSERT_EQ(three.levels.size(), one.levels.size());
  EXPECT_EQ(three.knee, 30);
  EXPECT_EQ(three.knee, one.knee);
  const std::vector<SweepLevelRow> a = store_->LoadSweepLevels(one.sweep_id);
  const std::vector<SweepLevelRow> b = store_->LoadSweepLevels(three.sweep_id);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].level, a[i].level);
    EXPECT_EQ(b[i].slo_met, a[i].slo_met);
    EXPECT_EQ(b[i].slo_json, a[i].slo_json);
    // The second sweep's runs follow the first's, in the same order.
    EXPECT_EQ(b[i].run_id, a[i].run_id + static_cast<int64_t>(a.size())) << i;
  }
  EXPECT_EQ(store_->LoadSweep(three.sweep_id)->status, "completed");
}

TEST_F(SweepTest, LevelsAtOnceStopAtAnAbortedLevelAndKeepOnlyTheLevelsUpToIt) {
  plan_.levels = {10, 20, 30, 40};
  FakeLevel aborted{1200, 1, RunStatus::kAborted};
  const SweepResult r = RunSweep(
      plan_, 1, *store_,
      Runner({{"10", {1200, 1}}, {"20", aborted}, {"30", {1200, 1}}, {"40", {1200, 1}}}),
      nullptr, AtOnce(2, dir_ + "/runs.db"));
  EXPECT_EQ(r.levels.size(), 2u);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  EXPECT_EQ(store_->LoadSweepLevels(r.sweep_id).size(), 2u);
  EXPECT_EQ(store_->LoadSweep(r.sweep_id)->status, "aborted");
}

TEST_F(SweepTest, LevelsAtOncePassAThrownErrorOnAfterTheOthersFinish) {
  plan_.levels = {10, 20, 30};
  RunLevelFn ok = Runner({{"10", {1200, 1}}, {"30", {1200, 1}}});
  RunLevelFn fails = [&](const LevelRun& run) {
    if (run.overrides.back() == "load.callers=20") throw std::runtime_error("disk on fire");
    return ok(run);
  };
  EXPECT_THROW(RunSweep(plan_, 1, *store_, fails, nullptr, AtOnce(3, dir_ + "/runs.db")),
               std::runtime_error);
  const std::optional<int64_t> id = store_->LatestSweepId();
  ASSERT_TRUE(id);
  EXPECT_EQ(store_->LoadSweep(*id)->status, "failed");
  EXPECT_EQ(store_->LoadSweepLevels(*id).size(), 1u);
}

TEST_F(SweepTest, APlanThatStopsOnFailureRunsOneLevelAtATime) {
  plan_.levels = {10, 20, 30, 40};
  plan_.stop_on_failure = true;
  const SweepResult r = RunSweep(
      plan_, 1, *store_,
      Runner({{"10", {1200, 1}}, {"20", {1800, 1}}, {"30", {1400, 1}}, {"40", {1400, 1}}}),
      nullptr, AtOnce(4, dir_ + "/runs.db"));
  EXPECT_EQ(r.levels.size(), 2u);
  EXPECT_EQ(asked_.size(), 2u);  // nothing above the miss ran
}

TEST(FindKneeTest, FollowsTheUnbrokenRunFromTheLowestLevel) {
  auto levels = [](std::vector<bool> met) {
    std::vector<SweepLevelResult> out;
    for (size_t i = 0; i < met.size(); ++i) {
      SweepLevelResult l;
      l.level = 10.0 * (i + 1);
      l.slo_met = met[i];
      out.push_back(l);
    }
    return out;
  };
  EXPECT_EQ(FindKnee(levels({true, true, true})), 30);
  EXPECT_EQ(FindKnee(levels({true, false, true})), 10);
  EXPECT_EQ(FindKnee(levels({false, true})), std::nullopt);
  EXPECT_EQ(FindKnee(levels({})), std::nullopt);
}

}  // namespace
}  // namespace callsim::harness
