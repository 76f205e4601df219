#include "reports/sweep_report.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include "tests/reports/store_fixture.h"

namespace callsim::reports {
namespace {

using harness::RunInfo;
using harness::Store;
using harness::SweepLevelRow;
using harness::SweepRow;

class SweepReportTest : public testing::StoreFixture {
 protected:

  int64_t Sweep(const std::string& status, std::optional<double> knee) {
    SweepRow s;
    s.name = "llm_capacity";
    s.scenario = "scenarios/order_status.yaml";
    s.parameter = "load.callers";
    s.seed = 3;
    const int64_t id = store_->BeginSweep(s);
    store_->FinishSweep(id, status, knee);
    return id;
  }

  void Level(int64_t sweep_id, int64_t seq, double level, bool met,
             const std::map<std::string, double>& metrics, const std::string& slo_json = "[]") {
    RunInfo run;
    run.scenario = "scenarios/order_status.yaml";
    const int64_t run_id = store_->BeginRun(run);
    store_->SetMetrics(run_id, metrics);
    store_->AddSweepLevel(SweepLevelRow{sweep_id, seq, level, run_id, met, slo_json});
  }

  static std::map<std::string, double> Metrics(double calls, double p50, double p95, double p99,
                                               double errors, double dropped, double completion) {
    return {{"calls_total", calls},         {"turn_latency_p50_ms", p50},
            {"turn_latency_p95_ms", p95},   {"turn_latency_p99_ms", p99},
            {"call_errors_rate", errors},   {"dropped_calls_rate", dropped},
            {"task_completion_rate", completion}};
  }

};

TEST_F(SweepReportTest, RendersTheLoadTableWithTheKneeMarked) {
  const int64_t id = Sweep("completed", 25);
  Level(id, 0, 10, true, Metrics(10, 1412.4, 1690, 1702, 0, 0, 1));
  Level(id, 1, 25, true, Metrics(25, 1431, 1733, 1790, 0.04, 0, 0.96));
  Level(id, 2, 100, false, Metrics(100, 1690, 2410.04, 2630, 0.125, 0.01, 0.875),
        R"([{"metric":"turn_latency","expression":"p(95)<2000","observed_metric":"turn_latency_p95_ms","observed":2410.04,"passed":false},)"
        R"({"metric":"task_completion","expression":"rate>0.9","observed_metric":"task_completion_rate","observed":0.875,"passed":false},)"
        R"({"metric":"wer","expression":"value<0.1","observed_metric":"wer","observed":null,"passed":false}])");
  const std::string want =
      "sweep " + std::to_string(id) + ": llm_capacity  scenario scenarios/order_status.yaml  "
      "parameter load.callers  seed 3\n"
      "status completed\n"
      "level | calls | p50 ms | p95 ms | p99 ms | errors | dropped | task completion | SLO\n"
      "------+-------+--------+--------+--------+--------+---------+-----------------+-------------\n"
      "   10 |    10 |   1412 |   1690 |   1702 |   0.0% |    0.0% |          100.0% | met\n"
      "   25 |    25 |   1431 |   1733 |   1790 |   4.0% |    0.0% |           96.0% | met  <- knee\n"
      "  100 |   100 |   1690 |   2410 |   2630 |  12.5% |    1.0% |           87.5% | missed\n"
      "level 100 missed: turn_latency p(95)<2000 observed 2410.0; task_completion rate>0.9 "
      "observed 0.875; wer value<0.1 observed no data\n"
      "knee: 25 (the highest load.callers at which it and every lower level met the SLO)\n";
  EXPECT_EQ(RenderSweepTable(*store_, id), want);
}

TEST_F(SweepReportTest, SaysWhenThereIsNoKneeOrItLiesBeyondTheRange) {
  const int64_t none = Sweep("completed", std::nullopt);
  Level(none, 0, 10, false, Metrics(10, 3000, 5000, 6000, 0, 0, 0.5));
  const std::string none_out = RenderSweepTable(*store_, none);
  EXPECT_NE(none_out.find("knee: none (the lowest level, 10, already missed the SLO)\n"),
            std::string::npos) << none_out;
  EXPECT_NE(none_out.find("level 10 missed: the level's run did not complete\n"),
            std::string::npos) << none_out;

  const int64_t all = Sweep("completed", 20);
  Level(all, 0, 10, true, {});  // a run without metrics reads n/a
  Level(all, 1, 20, true, Metrics(20, 700, 1100, 1500, 0, 0, 1));
  const std::string all_out = RenderSweepTable(*store_, all);
  EXPECT_NE(all_out.find("   10 |   n/a |    n/a |    n/a |    n/a |    n/a |     n/a |"
                         "             n/a | met\n"),
            std::string::npos) << all_out;
  EXPECT_NE(all_out.find("knee: 20 or above (every level met the SLO; the limit lies beyond the "
                         "range tried)\n"),
            std::string::npos) << all_out;

  const int64_t aborted = Sweep("aborted", 10);
  Level(aborted, 0, 10, true, Metrics(10, 700, 1100, 1500, 0, 0, 1));
  const std::string aborted_out = RenderSweepTable(*store_, aborted);
  EXPECT_NE(aborted_out.find("knee: 10 (the highest load.callers at which it and every lower "
                             "level met the SLO); the sweep did not finish (aborted), so higher "
                             "levels are untried\n"),
            std::string::npos) << aborted_out;

  EXPECT_EQ(RenderSweepTable(*store_, 99), "no sweep 99 in " + dir_ + "/runs.db\n");
}

}  // namespace
}  // namespace callsim::reports
