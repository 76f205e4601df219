#include "reports/compare.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/runtime/rng.h"
#include "reports/bootstrap.h"
#include "reports/proportion_test.h"
#include "tests/reports/store_fixture.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::RunInfo;
using harness::Store;
using harness::TurnRow;

// Lognormal turn latencies around `median_ms`, spread as order_status's are (p95/p50 = 1.33).
std::vector<double> Latencies(uint64_t seed, size_t n, double median_ms, double shift_ms = 0) {
  agent::Rng rng(seed);
  std::vector<double> v;
  for (size_t i = 0; i < n; ++i) v.push_back(rng.LogNormal(std::log(median_ms), 0.175) + shift_ms);
  return v;
}

TEST(NormalQuantile, MatchesTheTabulatedValues) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963985, 1e-8);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.995), 2.575829304, 1e-8);
  EXPECT_NEAR(NormalQuantile(0.025), -1.959963985, 1e-8);
}

TEST(TwoProportionTest, SeparatesARealChangeFromNoise) {
  // 5% vs 8% of 1000: z = 0.03 / sqrt(0.065 * 0.935 * 0.002) = 2.72.
  const ProportionChange big = TwoProportionTest(50, 1000, 80, 1000, 0.95);
  EXPECT_NEAR(big.z, 2.7207, 1e-3);
  EXPECT_TRUE(big.significant);
  EXPECT_GT(big.ci_low, 0);
  const ProportionChange small = TwoProportionTest(50, 1000, 55, 1000, 0.95);
  EXPECT_FALSE(small.significant);
  EXPECT_LT(small.ci_low, 0);
  EXPECT_GT(small.ci_high, 0);
  // Nothing varies: no test statistic, no significance.
  const ProportionChange none = TwoProportionTest(0, 20, 0, 20, 0.95);
  EXPECT_EQ(none.z, 0);
  EXPECT_FALSE(none.significant);
  // WER's insertions can exceed the reference words: clamped, not a crash.
  EXPECT_EQ(TwoProportionTest(30, 20, 0, 20, 0.95).p1, 1.0);
}

TEST(Bootstrap, IdenticalSamplesGiveAnIntervalAroundZero) {
  const std::vector<double> a = Latencies(1, 300, 1400);
  agent::Rng rng(7);
  const auto changes = BootstrapPercentileChange(a, a, {50, 95, 99}, 2000, 0.95, rng);
  ASSERT_EQ(changes.size(), 3u);
  for (const PercentileChange& c : changes) {
    EXPECT_EQ(c.base, c.now);
    EXPECT_LT(c.ci_low, 0) << c.percentile;
    EXPECT_GT(c.ci_high, 0) << c.percentile;
  }
}

TEST(Bootstrap, AShiftOf150MsIsInsideTheIntervalAndZeroIsNot) {
  const std::vector<double> a = Latencies(1, 300, 1400);
  const std::vector<double> b = Latencies(1, 300, 1400, 150);
  agent::Rng rng(7);
  const PercentileChange p50 = BootstrapPercentileChange(a, b, {50}, 2000, 0.95, rng)[0];
  EXPECT_NEAR(p50.now - p50.base, 150, 1e-9);
  EXPECT_GT(p50.ci_low, 60);
  EXPECT_LT(p50.ci_high, 240);
}

TEST(Bootstrap, TheSameSeedReplaysTheSameIntervalAndAnotherSeedDoesNot) {
  const std::vector<double> a = Latencies(1, 200, 1400), b = Latencies(2, 200, 1420);
  agent::Rng r1(3), r2(3), r3(4);
  const auto x = BootstrapPercentileChange(a, b, {50, 95}, 500, 0.95, r1);
  const auto y = BootstrapPercentileChange(a, b, {50, 95}, 500, 0.95, r2);
  const auto z = BootstrapPercentileChange(a, b, {50, 95}, 500, 0.95, r3);
  EXPECT_EQ(x[0].ci_low, y[0].ci_low);
  EXPECT_EQ(x[1].ci_high, y[1].ci_high);
  EXPECT_NE(x[0].ci_low + x[0].ci_high + x[1].ci_low, z[0].ci_low + z[0].ci_high + z[1].ci_low);
}

TEST(Bootstrap, PercentilesInAnyOrderGetTheirOwnIntervals) {
  const std::vector<double> a = Latencies(1, 200, 1000);
  agent::Rng r1(5), r2(5);
  const auto ascending = BootstrapPercentileChange(a, a, {50, 99}, 300, 0.9, r1);
  const auto descending = BootstrapPercentileChange(a, a, {99, 50}, 300, 0.9, r2);
  EXPECT_EQ(ascending[0].ci_low, descending[1].ci_low);
  EXPECT_EQ(ascending[1].ci_high, descending[0].ci_high);
  EXPECT_EQ(descending[0].percentile, 99);
}

class CompareRunsTest : public testing::StoreFixture {
 protected:

  // A run of `calls` calls with one answered turn each (latency from `latencies`), `completed`
  // of them passing, and WER errors/words per turn.
  int64_t MakeRun(const std::vector<double>& latencies, size_t completed, int errors = 1) {
    RunInfo run;
    run.scenario = "order_status";
    run.seed = 1;
    const int64_t id = store_->BeginRun(run);
    for (size_t i = 0; i < latencies.size(); ++i) {
      CallRow c;
      c.run_id = id;
      c.call_id = static_cast<int64_t>(i);
      c.scenario = "order_status";
      c.status = i < completed ? "completed" : "failed";
      c.task_completed = i < completed;
      TurnRow t;
      t.turn_index = 1;
      t.ref_words = 20;
      t.substitutions = errors;
      t.turn_latency_ms = latencies[i];
      store_->AddCall(c, {t}, {}, {});
    }
    store_->SetMetrics(id, {{"task_completion_rate", static_cast<double>(completed) /
                                                         static_cast<double>(latencies.size())},
                            {"calls_total", static_cast<double>(latencies.size())}});
    store_->FinishRun(id, "completed", "hash", 0);
    return id;
  }

  const CompareRow& Row(const CompareResult& r, const std::string& metric) {
    for (const CompareRow& row : r.rows) {
      if (row.metric == metric) return row;
    }
    ADD_FAILURE() << "no row " << metric;
    static CompareRow none;
    return none;
  }

};

TEST_F(CompareRunsTest, TheSameSamplesCompareAsNoSignificantChangeOnEveryMetric) {
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 290);
  const int64_t b = MakeRun(Latencies(1, 300, 1400), 290);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  ASSERT_EQ(r.rows.size(), 5u);  // turn_latency p50/p95/p99, wer, task_completion
  for (const CompareRow& row : r.rows) {
    EXPECT_EQ(row.verdict, Verdict::kNoChange) << row.metric;
    EXPECT_EQ(row.change, 0) << row.metric;
  }
  EXPECT_FALSE(r.regressed());
  EXPECT_NE(RenderCompareText(r).find("verdict: no regression"), std::string::npos);
}

TEST_F(CompareRunsTest, A150MsSlowerBuildRegressesTurnLatency) {
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 300);
  const int64_t b = MakeRun(Latencies(2, 300, 1400, 150), 300);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  const CompareRow& p50 = Row(r, "turn_latency.p50");
  EXPECT_EQ(p50.verdict, Verdict::kRegressed);
  EXPECT_GT(p50.ci_low, p50.tolerance);
  EXPECT_NEAR(p50.tolerance, 0.05 * p50.base, 1e-9);  // 5% of ~1400 beats 20 ms
  EXPECT_TRUE(r.regressed());
  const std::string text = RenderCompareText(r);
  EXPECT_NE(text.find("verdict: regressed (turn_latency.p50"), std::string::npos) << text;
}

TEST_F(CompareRunsTest, A5MsChangeOnANoisyMetricIsNotFlagged) {
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 300);
  const int64_t b = MakeRun(Latencies(2, 300, 1400, 5), 300);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  for (const CompareRow& row : r.rows) EXPECT_EQ(row.verdict, Verdict::kNoChange) << row.metric;
}

TEST_F(CompareRunsTest, AFasterBuildIsImprovedNotRegressed) {
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 300);
  const int64_t b = MakeRun(Latencies(2, 300, 1400, -200), 300);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  EXPECT_EQ(Row(r, "turn_latency.p50").verdict, Verdict::kImproved);
  EXPECT_FALSE(r.regressed());
}

TEST_F(CompareRunsTest, RatesUseTheTwoProportionTest) {
  // Completion 98% -> 80% of 300 calls: regressed (higher is better). WER 5% -> 15%: regressed.
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 294, 1);
  const int64_t b = MakeRun(Latencies(1, 300, 1400), 240, 3);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  const CompareRow& completion = Row(r, "task_completion");
  EXPECT_EQ(completion.verdict, Verdict::kRegressed);
  EXPECT_NEAR(completion.change, -18.0, 1e-9);
  EXPECT_EQ(completion.base_n, 300u);
  EXPECT_EQ(Row(r, "wer").verdict, Verdict::kRegressed);
  EXPECT_NEAR(Row(r, "wer").now, 15.0, 1e-9);
  // 294 -> 291 of 300 is within noise.
  const int64_t c = MakeRun(Latencies(1, 300, 1400), 291, 1);
  EXPECT_EQ(Row(CompareRuns(*store_, a, *store_, c, CompareOptions{}), "task_completion").verdict,
            Verdict::kNoChange);
}

TEST_F(CompareRunsTest, TheGateLimitsWhichRegressionsFail) {
  const int64_t a = MakeRun(Latencies(1, 300, 1400), 300);
  const int64_t b = MakeRun(Latencies(2, 300, 1400, 150), 300);
  CompareOptions wer_only;
  wer_only.gate = {"wer"};
  const CompareResult r = CompareRuns(*store_, a, *store_, b, wer_only);
  EXPECT_EQ(Row(r, "turn_latency.p50").verdict, Verdict::kRegressed);
  EXPECT_FALSE(Row(r, "turn_latency.p50").gated);
  EXPECT_FALSE(r.regressed());
  CompareOptions p50_only;
  p50_only.gate = {"turn_latency.p50"};
  EXPECT_TRUE(CompareRuns(*store_, a, *store_, b, p50_only).regressed());
  std::string error;
  EXPECT_TRUE(CheckGateNames({"turn_latency", "llm_ttft.p95", "task_completion"}, &error));
  EXPECT_FALSE(CheckGateNames({"turn_latency.p90"}, &error));
  EXPECT_NE(error.find("turn_latency.p90"), std::string::npos) << error;
}

TEST_F(CompareRunsTest, TooFewSamplesGiveNoVerdictAndSaySo) {
  const int64_t a = MakeRun(Latencies(1, 5, 1400), 5);
  const int64_t b = MakeRun(Latencies(2, 5, 1400, 900), 0);
  const CompareResult r = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  for (const CompareRow& row : r.rows) {
    EXPECT_EQ(row.verdict, Verdict::kNoChange) << row.metric;
    // WER counts words (100 here), the others turns or calls (5).
    if (row.metric != "wer") {
      EXPECT_NE(row.note.find("need 10"), std::string::npos) << row.metric;
    }
  }
}

TEST_F(CompareRunsTest, TheVerdictReplaysWithTheSameSeed) {
  const int64_t a = MakeRun(Latencies(1, 100, 1400), 100);
  const int64_t b = MakeRun(Latencies(2, 100, 1400, 60), 100);
  const CompareResult x = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  const CompareResult y = CompareRuns(*store_, a, *store_, b, CompareOptions{});
  EXPECT_EQ(RenderCompareText(x), RenderCompareText(y));
}

TEST(RunRef, ParsesAFileAndAnOptionalRunId) {
  RunRef ref;
  std::string error;
  ASSERT_TRUE(ParseRunRef("base.db", &ref, &error));
  EXPECT_EQ(ref.path, "base.db");
  EXPECT_FALSE(ref.run_id);
  ASSERT_TRUE(ParseRunRef("ci/base.db#12", &ref, &error));
  EXPECT_EQ(ref.path, "ci/base.db");
  EXPECT_EQ(ref.run_id, 12);
  EXPECT_EQ(ref.ToString(), "ci/base.db#12");
  EXPECT_FALSE(ParseRunRef("base.db#0", &ref, &error));
  EXPECT_FALSE(ParseRunRef("base.db#x", &ref, &error));
  EXPECT_FALSE(ParseRunRef("#3", &ref, &error));
  EXPECT_NE(error.find("FILE.db"), std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
