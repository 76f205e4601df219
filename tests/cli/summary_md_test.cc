// `--summary-md FILE`: the job summary of a failing run, as GitHub shows it. It is appended to
// (several commands in one step add up), stays under 1 MiB however many calls failed, and every
// table in it is one GFM renders as a table (checked by tests/cli/gfm_tables.py).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

#include "tests/cli/cli_runner.h"

namespace callsim {
namespace {

using testing::CliOutput;
using testing::ReadFile;
using testing::RunCli;
using testing::RunShell;

// What gfm_tables.py prints for `path`; fails the test when it finds a problem.
std::string CheckTables(const std::string& path) {
  const CliOutput out = RunShell("python3 " + std::string(CALLSIM_SOURCE_DIR) +
                                 "/tests/cli/gfm_tables.py " + path);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  return out.text;
}

class SummaryMd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v python3 >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "python3 is not installed (make deps installs it): no table check";
    }
    char tmpl[] = "/tmp/callsim_summary_md_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  std::string dir_;
};

TEST_F(SummaryMd, AFailingRunsSummaryHasItsThresholdsFailedCallsAndReplayLine) {
  // tools_guardrails with turn 1 expecting words the agent never says: both calls fail, and so
  // does the task_completion threshold.
  const std::string set = "--set turns.1.expect.1.agent_says.contains=friday";
  const CliOutput run = RunCli("run " + std::string(CALLSIM_SOURCE_DIR) +
                               "/scenarios/tools_guardrails.yaml --callers 2 " + set + " --db " +
                               dir_ + "/runs.db --junit " + dir_ + "/junit.xml --summary-md " +
                               dir_ + "/summary.md");
  ASSERT_EQ(run.exit_code, 99) << run.text;
  const std::string md = ReadFile(dir_ + "/summary.md");
  EXPECT_EQ(md.rfind("### ❌ callsim run 1: ", 0), 0u) << md;
  EXPECT_NE(md.find("| ❌ | task_completion | `rate==1` | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ✅ | unsafe_tool_executions | `count==0` | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("**Failed calls** (2)"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0 | tools_guardrails | expectations failed | turn 1 agent_says: expected \"friday\""),
            std::string::npos) << md;
  EXPECT_NE(md.find("callsim run "), std::string::npos);
  EXPECT_NE(md.find(set), std::string::npos) << md;
  // Thresholds and failed calls: two tables, 2 rows each.
  EXPECT_EQ(CheckTables(dir_ + "/summary.md"), "tables 2 rows 4\n");
  // The same run's JUnit holds the same failed calls.
  const std::string xml = ReadFile(dir_ + "/junit.xml");
  EXPECT_NE(xml.find("name=\"call 0\""), std::string::npos);
  EXPECT_NE(xml.find("expected &quot;friday&quot;"), std::string::npos);
}

TEST_F(SummaryMd, ManyFailedCallsStayUnder1MiBAndCommandsAppend) {
  // Every call of 150 fails turn 1: the list stops at 50 and says how many more there are.
  const std::string scenario = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml";
  const CliOutput run =
      RunCli("run " + scenario + " --callers 150 --set turns.1.expect.0.agent_says.contains=friday"
             " --db " + dir_ + "/runs.db --summary-md " + dir_ + "/summary.md");
  ASSERT_EQ(run.exit_code, 99) << run.text;
  const std::string first = ReadFile(dir_ + "/summary.md");
  EXPECT_NE(first.find("**Failed calls** (150)"), std::string::npos);
  EXPECT_NE(first.find("100 more failed calls are in the calls table."), std::string::npos);
  EXPECT_LT(first.size(), 64u * 1024);
  // A second command in the same step adds its part after the first.
  const CliOutput again = RunCli("run " + scenario + " --callers 2 --db " + dir_ +
                                 "/runs.db --summary-md " + dir_ + "/summary.md");
  ASSERT_EQ(again.exit_code, 0) << again.text;
  const std::string both = ReadFile(dir_ + "/summary.md");
  EXPECT_EQ(both.rfind(first, 0), 0u);
  EXPECT_NE(both.find("### ✅ callsim run 2: "), std::string::npos);
  EXPECT_EQ(CheckTables(dir_ + "/summary.md"), "tables 1 rows 50\n");
}

TEST_F(SummaryMd, ASweepSummaryIsItsLevelsTable) {
  std::ofstream(dir_ + "/plan.yaml") << "name: two_levels\nscenario: " << CALLSIM_SOURCE_DIR
                                     << "/scenarios/order_status.yaml\nparameter: load.callers\n"
                                        "levels: [1, 2]\nslo:\n  task_completion: [\"rate>0\"]\n";
  const CliOutput run = RunCli("sweep " + dir_ + "/plan.yaml --db " + dir_ +
                               "/runs.db --summary-md " + dir_ + "/summary.md");
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const std::string md = ReadFile(dir_ + "/summary.md");
  EXPECT_NE(md.find("### callsim sweep 1: two_levels"), std::string::npos) << md;
  EXPECT_NE(md.find("knee **2**"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2 ← knee | 2 | "), std::string::npos) << md;
  EXPECT_EQ(CheckTables(dir_ + "/summary.md"), "tables 1 rows 2\n");
}

TEST_F(SummaryMd, AnUnwritableSummaryIsRefusedBeforeTheRun) {
  const CliOutput run = RunCli("run " + std::string(CALLSIM_SOURCE_DIR) +
                               "/scenarios/order_status.yaml --callers 1 --db " + dir_ +
                               "/runs.db --summary-md /no/such/dir/summary.md");
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_NE(run.text.find("--summary-md: "), std::string::npos) << run.text;
}

}  // namespace
}  // namespace callsim
