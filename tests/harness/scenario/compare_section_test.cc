// The scenario's compare section: how `callsim compare` judges a run of it. Numbers are range
// checked and gate names are the compared metrics, both reported where they are written.
#include <gtest/gtest.h>

#include "harness/measure/compared_metrics.h"
#include "harness/scenario/loader.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::MustLoad;
using testing::OnlyErrorOf;

const std::string kBase = "name: t\nturns: [ { user: hi } ]\n";

TEST(CompareSectionTest, ParsesToTypedSettings) {
  const Scenario s = MustLoad(kBase +
                              "compare: { tolerance_pct: 10, tolerance_ms: 35.5, confidence: 0.99,"
                              " gate: [turn_latency.p95, wer] }\n");
  EXPECT_EQ(s.compare.tolerance_pct, 10);
  EXPECT_EQ(s.compare.tolerance_ms, 35.5);
  EXPECT_EQ(s.compare.confidence, 0.99);
  EXPECT_EQ(s.compare.gate, (std::vector<std::string>{"turn_latency.p95", "wer"}));
}

// The schema's pattern for gate names and the code's list (compared_metrics.h) agree.
TEST(CompareSectionTest, EveryComparedMetricIsAGateName) {
  for (const ComparedFamily& f : ComparedFamilies()) {
    std::vector<std::string> names = {f.name};
    if (f.latency) {
      for (const char* stat : {".p50", ".p95", ".p99"}) names.push_back(f.name + stat);
    }
    for (const std::string& name : names) {
      EXPECT_EQ(MustLoad(kBase + "compare: { gate: [" + name + "] }\n").compare.gate[0], name);
    }
  }
}

TEST(CompareSectionTest, AbsentMeansTheDefaults) {
  const Scenario s = MustLoad(kBase);
  EXPECT_FALSE(s.compare.tolerance_pct);
  EXPECT_FALSE(s.compare.confidence);
  EXPECT_TRUE(s.compare.gate.empty());
}

TEST(CompareSectionTest, BadValuesAreReportedWhereTheyAreWritten) {
  EXPECT_EQ(OnlyErrorOf(kBase + "compare: { confidence: 1 }\n"),
            "s.yaml:3:24: compare.confidence: expected a number in [0.5, 0.999], got 1");
  const std::string gate = OnlyErrorOf(kBase + "compare: { gate: [wer, turn_latency.p90] }\n");
  EXPECT_EQ(gate.rfind("s.yaml:3:24: compare.gate.1: unknown metric \"turn_latency.p90\"; known: "
                       "turn_latency, barge_in_stop", 0), 0u) << gate;
  EXPECT_EQ(OnlyErrorOf(kBase + "compare: { gate: wer }\n"),
            "s.yaml:3:18: compare.gate: expected a list of items, got wer");
  EXPECT_EQ(OnlyErrorOf(kBase + "compare: { tolerance: 5 }\n").rfind("s.yaml:3:12: compare.tolerance: unknown key", 0), 0u);
}

}  // namespace
}  // namespace callsim::harness
