#include "harness/run/sweep_plan.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace callsim::harness {
namespace {

class SweepPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_sweep_plan_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/sweeps");
    Write("s.yaml", "name: s\nturns:\n  - hangup: {}\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& relative, const std::string& text) {
    const std::string path = dir_ + "/" + relative;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Loads `text` as sweeps/p.yaml; returns the errors with the folder cut off the front.
  std::vector<std::string> Errors(const std::string& text) {
    const std::string path = Write("sweeps/p.yaml", text);
    SweepPlan plan;
    plan.name = "untouched";
    std::vector<std::string> errors;
    EXPECT_FALSE(LoadSweepPlan(path, &plan, &errors));
    EXPECT_EQ(plan.name, "untouched");
    for (std::string& e : errors) {
      if (e.rfind(dir_ + "/", 0) == 0) e = e.substr(dir_.size() + 1);
    }
    return errors;
  }

  std::string dir_;
};

TEST_F(SweepPlanTest, ReadsEveryField) {
  const std::string path = Write("sweeps/p.yaml",
                                 "name: llm_capacity\n"
                                 "scenario: ../s.yaml\n"
                                 "parameter: load.callers\n"
                                 "levels: [10, 25, 50]\n"
                                 "set: [ \"fakes.llm.capacity.max_concurrent=30\", \"load.arrival.rate_per_s=0\" ]\n"
                                 "slo:\n"
                                 "  turn_latency: [\"p(95)<2000\", \"p(99.9)<4000\"]\n"
                                 "  task_completion: [\"rate>0.9\"]\n"
                                 "stop_on_failure: true\n");
  SweepPlan plan;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadSweepPlan(path, &plan, &errors)) << errors[0];
  EXPECT_EQ(plan.path, path);
  EXPECT_EQ(plan.name, "llm_capacity");
  EXPECT_EQ(plan.scenario_path, dir_ + "/s.yaml");  // relative to the plan's folder
  EXPECT_EQ(plan.parameter, "load.callers");
  EXPECT_EQ(plan.levels, (std::vector<double>{10, 25, 50}));
  EXPECT_EQ(plan.set, (std::vector<std::string>{"fakes.llm.capacity.max_concurrent=30",
                                                "load.arrival.rate_per_s=0"}));
  ASSERT_EQ(plan.slo.size(), 3u);
  EXPECT_EQ(plan.slo[0].metric, "turn_latency");
  EXPECT_EQ(plan.slo[0].expr.percentile, 95);
  EXPECT_EQ(plan.slo[0].expr.bound, 2000);
  EXPECT_EQ(plan.slo[1].expr.percentile, 99.9);
  EXPECT_EQ(plan.slo[2].metric, "task_completion");
  EXPECT_EQ(plan.slo[2].expr.aggregate, ThresholdAggregate::kRate);
  EXPECT_EQ(plan.slo[2].where.line, 8);
  EXPECT_EQ(plan.slo[2].where.column, 21);
  EXPECT_TRUE(plan.stop_on_failure);
  EXPECT_EQ(SweepLevelOverrides(plan, 25),
            (std::vector<std::string>{"fakes.llm.capacity.max_concurrent=30",
                                      "load.arrival.rate_per_s=0", "load.callers=25"}));
  EXPECT_EQ(SweepPlanJson(plan),
            R"({"levels":[10.0,25.0,50.0],"name":"llm_capacity","parameter":"load.callers",)"
            R"("scenario":")" + dir_ + R"(/s.yaml","set":["fakes.llm.capacity.max_concurrent=30",)"
            R"("load.arrival.rate_per_s=0"],"slo":{"task_completion":["rate>0.9"],)"
            R"("turn_latency":["p(95)<2000","p(99.9)<4000"]},"stop_on_failure":true})");
}

TEST_F(SweepPlanTest, DefaultsNameParameterSetAndStop) {
  const std::string path =
      Write("sweeps/net.yaml", "scenario: ../s.yaml\nlevels: [1]\nslo: {wer: [\"value<0.1\"]}\n");
  SweepPlan plan;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadSweepPlan(path, &plan, &errors)) << errors[0];
  EXPECT_EQ(plan.name, "net");
  EXPECT_EQ(plan.parameter, "load.callers");
  EXPECT_TRUE(plan.set.empty());
  EXPECT_FALSE(plan.stop_on_failure);
}

TEST_F(SweepPlanTest, AParameterOtherThanCallersTakesFractionalLevels) {
  const std::string path = Write("sweeps/p.yaml",
                                 "scenario: ../s.yaml\nparameter: network.uplink.loss\n"
                                 "levels: [0, 0.01, 0.05]\nslo: {wer: [\"value<0.1\"]}\n");
  SweepPlan plan;
  std::vector<std::string> errors;
  ASSERT_TRUE(LoadSweepPlan(path, &plan, &errors)) << errors[0];
  EXPECT_EQ(SweepLevelOverrides(plan, 0.05).back(), "network.uplink.loss=0.05");
  EXPECT_EQ(FormatLevel(100), "100");
  EXPECT_EQ(FormatLevel(0.1), "0.1");
}

TEST_F(SweepPlanTest, ReportsEveryProblemWithFileLineAndColumn) {
  const std::vector<std::string> errors = Errors(
      "name: t\n"
      "scenario: ../s.yaml\n"
      "levels: [10, 5, \"20\", 2.5]\n"
      "slo: { turn_latency: [\"p(95)<abc\"], bogus: [\"rate>1\"], wer: [\"p(95)<1\"] }\n"
      "colour: blue\n"
      "levels: [1]\n"
      "set: [\"load.callers=3\", \"no_equals\"]\n");
  const std::vector<std::string> want = {
      "sweeps/p.yaml:5:1: colour: unknown key colour (expected one of: name, scenario, parameter, "
      "levels, set, slo, stop_on_failure)",
      "sweeps/p.yaml:6:1: levels: duplicate key levels (first at line 3)",
      "sweeps/p.yaml:3:14: levels.1: levels must be strictly increasing (5 after 10)",
      "sweeps/p.yaml:3:17: levels.2: expected a number",
      "sweeps/p.yaml:3:23: levels.3: load.callers levels must be whole numbers from 1 to 1000000",
      "sweeps/p.yaml:7:7: set.0: sets load.callers, which each level sets",
      "sweeps/p.yaml:7:25: set.1: expected \"dotted.path=VALUE\", got no_equals",
      "sweeps/p.yaml:4:23: slo.turn_latency.0: expected a number after the operator in "
      "\"p(95)<abc\"",
      "sweeps/p.yaml:4:37: slo.bogus: unknown metric bogus (known: " + KnownMetricNames() + ")",
      "sweeps/p.yaml:4:62: slo.wer.0: \"p(95)\" does not apply to wer (it takes value)",
  };
  EXPECT_EQ(errors, want);
}

TEST_F(SweepPlanTest, MissingKeysFilesAndBadYaml) {
  EXPECT_EQ(Errors("name: t\n"),
            (std::vector<std::string>{"sweeps/p.yaml:1:1: scenario: missing (it is required)",
                                      "sweeps/p.yaml:1:1: levels: missing (it is required)",
                                      "sweeps/p.yaml:1:1: slo: missing (it is required)"}));
  EXPECT_EQ(Errors("scenario: nowhere.yaml\nlevels: [1]\nslo: {wer: [\"value<1\"]}\n"),
            (std::vector<std::string>{"sweeps/p.yaml:1:11: scenario: no scenario file at " + dir_ +
                                      "/sweeps/nowhere.yaml"}));
  EXPECT_EQ(Errors("scenario: ../s.yaml\nlevels: []\nslo: {}\nstop_on_failure: maybe\n"),
            (std::vector<std::string>{
                "sweeps/p.yaml:2:9: levels: expected a non-empty list of numbers such as [10, 50, 100]",
                "sweeps/p.yaml:3:6: slo: give at least one threshold; without one no level can be judged",
                "sweeps/p.yaml:4:18: stop_on_failure: expected true or false"}));
  const std::vector<std::string> syntax = Errors("scenario: ../s.yaml\nlevels: [10, 20\n");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_EQ(syntax[0].rfind("sweeps/p.yaml:", 0), 0u) << syntax[0];
  EXPECT_NE(syntax[0].find("YAML syntax error"), std::string::npos) << syntax[0];
  EXPECT_EQ(Errors("- 1\n- 2\n"), (std::vector<std::string>{"sweeps/p.yaml:1:1: expected a map"}));

  SweepPlan plan;
  std::vector<std::string> errors;
  EXPECT_FALSE(LoadSweepPlan(dir_ + "/absent.yaml", &plan, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], dir_ + "/absent.yaml: no such file");
  // A folder or a FIFO is named as what it is and never blocks; invalid UTF-8 has its position.
  errors.clear();
  EXPECT_FALSE(LoadSweepPlan(dir_, &plan, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], dir_ + ": is a directory");
  const std::string fifo = dir_ + "/plan.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  errors.clear();
  EXPECT_FALSE(LoadSweepPlan(fifo, &plan, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], fifo + ": is not a regular file (a FIFO)");
  const std::string bad = dir_ + "/bad.yaml";
  std::ofstream(bad) << "name: ok\nlevels: [1, \xff]\n";
  errors.clear();
  EXPECT_FALSE(LoadSweepPlan(bad, &plan, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], bad + ":2:13: invalid UTF-8 (byte 0xff)");
}

TEST_F(SweepPlanTest, CheckSweepLevelsLoadsTheScenarioWithEachLevelsOverrides) {
  SweepPlan plan;
  plan.path = dir_ + "/sweeps/p.yaml";
  plan.scenario_path = dir_ + "/s.yaml";
  plan.levels = {1, 2};
  std::vector<std::string> errors;
  EXPECT_TRUE(CheckSweepLevels(plan, &errors));
  EXPECT_TRUE(errors.empty());
  plan.set = {"network.uplink.losss=0.1"};
  EXPECT_FALSE(CheckSweepLevels(plan, &errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].rfind("level 1: --set network.uplink.losss=0.1: ", 0), 0u) << errors[0];
}

}  // namespace
}  // namespace callsim::harness
