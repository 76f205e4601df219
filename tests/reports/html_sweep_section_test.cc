#include "reports/html_sweep_section.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/reports/occurrences.h"
#include "tests/reports/store_fixture.h"

namespace callsim::reports {
namespace {

using harness::RunInfo;
using harness::SweepLevelRow;
using harness::SweepRow;

using testing::Count;

class HtmlSweepSectionTest : public testing::StoreFixture {
 protected:
  void Level(int64_t sweep_id, int64_t seq, double level, bool met, double p95_ms,
             double completion, const std::string& slo_json = "[]") {
    RunInfo run;
    run.scenario = "order_status.yaml";
    const int64_t run_id = store_->BeginRun(run);
    store_->SetMetrics(run_id, {{"calls_total", level},
                                {"turn_latency_p50_ms", p95_ms - 300},
                                {"turn_latency_p95_ms", p95_ms},
                                {"turn_latency_p99_ms", p95_ms + 200},
                                {"task_completion_rate", completion}});
    store_->AddSweepLevel(SweepLevelRow{sweep_id, seq, level, run_id, met, slo_json});
  }
};

TEST_F(HtmlSweepSectionTest, ChartsEveryLevelAndMarksTheKnee) {
  SweepRow sweep;
  sweep.name = "llm_capacity";
  sweep.scenario = "order_status.yaml";
  sweep.parameter = "load.callers";
  sweep.seed = 1;
  const int64_t id = store_->BeginSweep(sweep);
  Level(id, 0, 10, true, 1751, 1.0);
  Level(id, 1, 25, true, 1790, 1.0);
  Level(id, 2, 50, false, 2410, 0.92,
        R"([{"metric":"turn_latency","expression":"p(95)<2000","observed_metric":"turn_latency_p95_ms","observed":2410,"passed":false}])");
  store_->FinishSweep(id, "completed", 25);
  const std::string html = SweepSectionHtml(*store_, id, "runs.db sweep 1", "sweep-1");
  // Latency (three series) and task completion (one), three levels each, the knee on both.
  EXPECT_NE(html.find("data-series=\"3\" data-points=\"3\""), std::string::npos) << html;
  EXPECT_NE(html.find("data-series=\"1\" data-points=\"3\""), std::string::npos);
  EXPECT_EQ(Count(html, "data-label=\"knee\" data-value=\"25.0\""), 2u);
  EXPECT_EQ(Count(html, "<circle class=\"dot\""), 12u);
  EXPECT_NE(html.find("<tr class=\"pass knee\"><td>25 \u2190 knee</td>"), std::string::npos);
  EXPECT_NE(html.find("missed: turn_latency p(95)&lt;2000 observed 2410.0"), std::string::npos);
  EXPECT_NE(html.find("knee: 25 (the highest load.callers"), std::string::npos);
}

TEST_F(HtmlSweepSectionTest, AMissingSweepSaysSo) {
  EXPECT_NE(SweepSectionHtml(*store_, 9, "runs.db sweep 9", "s").find("No sweep 9"),
            std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
