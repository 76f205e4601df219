// load (arrival shorthand and phases, duration, mix) and thresholds, with their errors; mix
// loading with errors inside a mixed-in file reported at that file's own positions.
#include "harness/scenario/load_parser.h"

#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::ErrorStrings;
using testing::MustLoad;
using testing::OnlyErrorOf;
using testing::TempDir;

constexpr const char* kMinimal = "name: t\nturns:\n  - user: hello there\n";

TEST(LoadParserTest, ArrivalShorthandAndPhases) {
  Scenario s = MustLoad(std::string(kMinimal) +
                        "load: { callers: 50, arrival: { rate_per_s: 2.5 }, duration_s: 600 }\n");
  EXPECT_EQ(s.load.callers, 50);
  EXPECT_EQ(s.load.rate_per_s, 2.5);
  EXPECT_TRUE(s.load.phases.empty());
  EXPECT_EQ(s.load.duration_s, 600);
  s = MustLoad(std::string(kMinimal) +
               "load:\n"
               "  arrival:\n"
               "    phases:\n"
               "      - constant: { rate_per_s: 1, duration_s: 60 }\n"
               "      - ramp: { from_rate_per_s: 1, to_rate_per_s: 10, duration_s: 120 }\n"
               "      - poisson: { rate_per_s: 10, duration_s: 300 }\n");
  EXPECT_EQ(s.load.rate_per_s, 0);
  ASSERT_EQ(s.load.phases.size(), 3u);
  EXPECT_EQ(s.load.phases[0].kind, LoadPhase::kConstant);
  EXPECT_EQ(s.load.phases[0].rate_per_s, 1);
  EXPECT_EQ(s.load.phases[0].duration_s, 60);
  EXPECT_EQ(s.load.phases[0].where.line, 7);
  EXPECT_EQ(s.load.phases[0].where.column, 9);
  EXPECT_EQ(s.load.phases[1].kind, LoadPhase::kRamp);
  EXPECT_EQ(s.load.phases[1].rate_per_s, 1);
  EXPECT_EQ(s.load.phases[1].to_rate_per_s, 10);
  EXPECT_EQ(s.load.phases[1].duration_s, 120);
  EXPECT_EQ(s.load.phases[2].kind, LoadPhase::kPoisson);
  EXPECT_EQ(s.load.phases[2].rate_per_s, 10);
  EXPECT_EQ(s.load.phases[2].duration_s, 300);
}

TEST(LoadParserErrorTest, ArrivalErrors) {
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "load:\n  arrival: { rate_per_s: 1, phases: [ { poisson: "
                                          "{ rate_per_s: 1, duration_s: 5 } } ] }\n"),
      "s.yaml:5:29: load.arrival.phases: arrival takes exactly one of rate_per_s and phases, "
      "not both (rate_per_s is shorthand for one constant phase)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "load:\n  arrival: {}\n"),
            "s.yaml:5:12: load.arrival: arrival takes exactly one of rate_per_s and phases");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "load:\n  arrival:\n    phases:\n      - { constant: { rate_per_s: 1, "
                        "duration_s: 5 }, poisson: { rate_per_s: 1, duration_s: 5 } }\n"),
            "s.yaml:7:9: load.arrival.phases.0: expected one of constant, ramp, poisson per list "
            "item, got 2");
  EXPECT_EQ(
      OnlyErrorOf(
          std::string(kMinimal) +
          "load:\n  arrival:\n    phases:\n      - ramp: { from_rate_per_s: 1, duration_s: 5 }\n"),
      "s.yaml:7:15: load.arrival.phases.0.ramp.to_rate_per_s: missing required key "
      "to_rate_per_s");
  EXPECT_EQ(
      OnlyErrorOf(
          std::string(kMinimal) +
          "load:\n  arrival:\n    phases:\n      - constant: { rate_per_s: 1, duration_s: 0 }\n"),
      "s.yaml:7:48: load.arrival.phases.0.constant.duration_s: expected a number in (0, "
      "86400], got 0");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "load:\n  arrival:\n    phases:\n      - burst: { rate_per_s: 1 }\n"),
            "s.yaml:7:9: load.arrival.phases.0.burst: unknown key burst (expected one of: "
            "constant, ramp, poisson)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "load:\n  arrival: { phases: [] }\n"),
            "s.yaml:5:22: load.arrival.phases: expected a list of 1 to 1000 phases, got 0");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "load:\n  duration_s: -1\n"),
            "s.yaml:5:15: load.duration_s: expected a number in [0, 86400], got -1");
}

TEST(LoadParserTest, Thresholds) {
  const Scenario s = MustLoad(std::string(kMinimal) +
                              "thresholds:\n"
                              "  turn_latency: [\"p(95)<1200\", \"p(99)<2000\"]\n"
                              "  wer: [\"value<0.08\"]\n"
                              "  task_completion: [\"rate>0.9\"]\n");
  ASSERT_EQ(s.thresholds.size(), 4u);
  EXPECT_EQ(s.thresholds[0].metric, "turn_latency");
  EXPECT_EQ(s.thresholds[0].expr.aggregate, ThresholdAggregate::kPercentile);
  EXPECT_EQ(s.thresholds[0].expr.percentile, 95);
  EXPECT_EQ(s.thresholds[0].expr.op, ThresholdOp::kLt);
  EXPECT_EQ(s.thresholds[0].expr.bound, 1200);
  EXPECT_EQ(s.thresholds[0].where.line, 5);
  EXPECT_EQ(s.thresholds[0].where.column, 18);
  EXPECT_EQ(s.thresholds[1].expr.percentile, 99);
  EXPECT_EQ(s.thresholds[1].where.column, 32);
  EXPECT_EQ(s.thresholds[2].metric, "wer");
  EXPECT_EQ(s.thresholds[2].expr.aggregate, ThresholdAggregate::kValue);
  EXPECT_DOUBLE_EQ(s.thresholds[2].expr.bound, 0.08);
  EXPECT_EQ(s.thresholds[3].metric, "task_completion");
  EXPECT_EQ(s.thresholds[3].expr.aggregate, ThresholdAggregate::kRate);
  EXPECT_EQ(s.thresholds[3].expr.op, ThresholdOp::kGt);
}

TEST(LoadParserErrorTest, ThresholdErrors) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  latency_p95: [\"value<1\"]\n"),
            "s.yaml:5:3: thresholds.latency_p95: unknown metric latency_p95; known metrics: " +
                KnownMetricNames());
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  turn_latncy: [\"p(95)<1\"]\n"),
            "s.yaml:5:3: thresholds.turn_latncy: unknown metric turn_latncy (did you mean "
            "turn_latency?); known metrics: " +
                KnownMetricNames());
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  wer: [\"value<0.1\", \"p(95)<0.1\"]\n"),
      "s.yaml:5:22: thresholds.wer.1: \"p(95)\" does not apply to wer (it takes value)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  turn_latency: [\"p95<1200\"]\n"),
            "s.yaml:5:18: thresholds.turn_latency.0: expected AGGREGATE OP NUMBER such as "
            "\"p(95)<1200\" (aggregates for turn_latency: p(N), avg, min, max, med, count), got "
            "\"p95<1200\"");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  turn_latency: \"p(95)<1200\"\n"),
            "s.yaml:5:17: thresholds.turn_latency: expected a list of 1 to 100 expressions, got "
            "\"p(95)<1200\"");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "thresholds:\n  wer: [0.1]\n"),
            "s.yaml:5:9: thresholds.wer.0: expected a string, got 0.1");
}

TEST(LoadParserTest, SeedAndBigSeed) {
  EXPECT_EQ(MustLoad(std::string(kMinimal) + "seed: 18446744073709551615\n").seed,
            std::optional<uint64_t>(18446744073709551615ull));
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "seed: -1\n"),
            "s.yaml:4:7: seed: expected a whole number >= 0, got -1");
}

// A mix of two scenario files in a folder of their own.
class MixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.Write("llm/support.yaml", "rules: []\n");
    dir_.Write("calls/a.yaml",
               "name: a\nfakes: { llm: { script: ../llm/support.yaml } }\nturns:\n  - user: hi\n");
    dir_.Write("calls/b.yaml", "name: b\ncodec: pcmu\nturns:\n  - user: bye\n  - hangup: {}\n");
  }
  std::string Top(const std::string& mix) const {
    return dir_.Write("top.yaml", "name: top\nload:\n  callers: 100\n  mix:\n" + mix);
  }
  TempDir dir_;
};

TEST_F(MixTest, EntriesAreLoadedWithTheirWeights) {
  const std::string top =
      Top("    - { scenario: calls/a.yaml, weight: 3 }\n    - { scenario: calls/b.yaml }\n");
  const LoadResult r = LoadScenarioFile(top);
  for (const ScenarioError& e : r.errors) ADD_FAILURE() << e.ToString();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.scenario->turns.empty());
  ASSERT_EQ(r.scenario->load.mix.size(), 2u);
  const MixEntry& a = r.scenario->load.mix[0];
  EXPECT_EQ(a.scenario_path, (dir_.path() / "calls/a.yaml").string());
  EXPECT_EQ(a.weight, 3);
  ASSERT_NE(a.scenario, nullptr);
  EXPECT_EQ(a.scenario->name, "a");
  EXPECT_EQ(a.scenario->source_path, a.scenario_path);
  EXPECT_EQ(a.scenario->fakes.llm.script, (dir_.path() / "llm/support.yaml").string());
  const MixEntry& b = r.scenario->load.mix[1];
  EXPECT_EQ(b.weight, 1);
  ASSERT_NE(b.scenario, nullptr);
  EXPECT_EQ(b.scenario->codec, agent::CodecKind::kPcmu);
  EXPECT_EQ(b.scenario->turns.size(), 2u);
}

TEST_F(MixTest, ErrorsInsideAMixedInFileNameThatFile) {
  const std::string bad =
      dir_.Write("calls/bad.yaml", "name: bad\nturns:\n  - user: hi\n    wait_for: never\n");
  const std::string top =
      Top("    - { scenario: calls/a.yaml }\n    - { scenario: calls/bad.yaml }\n");
  const LoadResult r = LoadScenarioFile(top);
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{
                bad + ":4:15: turns.0.wait_for: expected reply | tool_result, got never"});
}

TEST_F(MixTest, MixesDoNotNest) {
  dir_.Write("calls/inner.yaml", "name: inner\nload:\n  mix: [ { scenario: a.yaml } ]\n");
  const std::string top =
      Top("    - { scenario: calls/a.yaml }\n    - { scenario: calls/inner.yaml }\n");
  const LoadResult r = LoadScenarioFile(top);
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{
                top + ":6:19: load.mix.1.scenario: " + (dir_.path() / "calls/inner.yaml").string() +
                " has a load.mix of its own; mixes do not nest (list its "
                "scenarios here instead)"});
}

TEST_F(MixTest, MixErrorsInTheTopFile) {
  std::string top = Top("    - { scenario: calls/nope.yaml }\n");
  EXPECT_EQ(ErrorStrings(LoadScenarioFile(top)),
            std::vector<std::string>{top + ":5:9: load.mix.0.scenario: no such file: " +
                                     (dir_.path() / "calls/nope.yaml").string() +
                                     " (relative paths start at the scenario's folder)"});
  top = Top("    - { scenario: calls/a.yaml, weight: 0 }\n");
  EXPECT_EQ(ErrorStrings(LoadScenarioFile(top)),
            std::vector<std::string>{top + ":5:41: load.mix.0.weight: expected a number in (0, "
                                           "1000000], got 0"});
  top = dir_.Write(
      "top.yaml",
      "name: top\nturns: [ { user: hi } ]\nload: { mix: [ { scenario: calls/a.yaml } ] }\n");
  EXPECT_EQ(
      ErrorStrings(LoadScenarioFile(top)),
      std::vector<std::string>{top + ":2:1: turns: turns is not allowed with load.mix: every "
                                     "call runs one of the mixed scenarios, so these turns "
                                     "would never run (move them into a scenario of the mix)"});
  top = dir_.Write("top.yaml", "name: top\nload: { callers: 3 }\n");
  EXPECT_EQ(ErrorStrings(LoadScenarioFile(top)),
            std::vector<std::string>{top + ":1:1: turns: missing required key turns"});
}

}  // namespace
}  // namespace callsim::harness
