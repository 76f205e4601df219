// `callsim run --junit FILE`: the JUnit XML of a failing run, read back by a standard XML parser
// (Python's xml.etree), holds a testcase per call and per threshold, and the failed ones say why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli/cli_runner.h"

namespace callsim {
namespace {

using testing::RunCli;

// Prints "tests failures" of each suite, then "classname|name|failure message" per testcase.
const char* kReader = R"(
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
assert root.tag == 'testsuites', root.tag
for suite in root:
    assert suite.tag == 'testsuite'
    print('suite', suite.get('tests'), suite.get('failures'), suite.get('errors'))
    for case in suite.findall('testcase'):
        f = case.find('failure')
        print('case', case.get('classname'), '|', case.get('name'), '|', float(case.get('time')) > 0 or case.get('classname') == 'thresholds', '|', '' if f is None else f.get('message'))
    assert suite.find('system-out').text.startswith('run ')
)";

// What kReader prints for `dir`/junit.xml, after the JUnit schema check (junit_schema.py: its
// "ok N" line first); fails the test if either does.
std::string ReadJunit(const std::string& dir) {
  std::ofstream(dir + "/read.py") << kReader;
  const std::string file = dir + "/junit.xml";
  const testing::CliOutput out =
      testing::RunShell("python3 " + std::string(CALLSIM_SOURCE_DIR) +
                        "/tests/cli/junit_schema.py " + file + " && python3 " + dir +
                        "/read.py " + file);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  return out.text;
}

TEST(Junit, AFailingRunListsItsFailedCallsAndThresholdsForAStandardParser) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 is not installed (make deps installs it): no XML parser to check with";
  }
  char tmpl[] = "/tmp/callsim_junit_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  // tools_guardrails with turn 1 expecting words the agent never says: every call fails, and so
  // does the task_completion threshold.
  const auto run = RunCli("run " + std::string(CALLSIM_SOURCE_DIR) +
                          "/scenarios/tools_guardrails.yaml --callers 2 --set "
                          "turns.1.expect.1.agent_says.contains=friday --db " + dir +
                          "/runs.db --junit " + dir + "/junit.xml");
  ASSERT_EQ(run.exit_code, 99) << run.text;
  const std::string out = ReadJunit(dir);
  // 2 calls and 2 thresholds; both calls and the task_completion threshold failed.
  EXPECT_EQ(out.rfind("ok 4\n", 0), 0u) << out;
  EXPECT_NE(out.find("suite 4 3 0"), std::string::npos) << out;
  EXPECT_NE(out.find("case tools_guardrails | call 0 | True | turn 1 agent_says: expected \"friday\""),
            std::string::npos) << out;
  EXPECT_NE(out.find("case tools_guardrails | call 1 | True | turn 1 agent_says"), std::string::npos) << out;
  EXPECT_NE(out.find("case thresholds | task_completion rate==1 | True | task_completion rate==1 observed 0"),
            std::string::npos) << out;
  EXPECT_NE(out.find("case thresholds | unsafe_tool_executions count==0 | True | \n"), std::string::npos) << out;
  // The failure body carries the replay command with the override.
  std::ifstream xml(dir + "/junit.xml");
  std::stringstream text;
  text << xml.rdbuf();
  EXPECT_NE(text.str().find("replay: callsim run "), std::string::npos);
  EXPECT_NE(text.str().find("--set turns.1.expect.1.agent_says.contains=friday"), std::string::npos);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST(Junit, ASweepWritesASuitePerLevel) {
  if (std::system("command -v python3 >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 is not installed (make deps installs it): no XML parser to check with";
  }
  char tmpl[] = "/tmp/callsim_junit_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/plan.yaml") << "name: two_levels\nscenario: " << CALLSIM_SOURCE_DIR
                                    << "/scenarios/order_status.yaml\nparameter: load.callers\n"
                                       "levels: [1, 2]\nslo:\n  task_completion: [\"rate>0\"]\n";
  const auto run = RunCli("sweep " + dir + "/plan.yaml --db " + dir + "/runs.db --junit " + dir +
                          "/junit.xml");
  ASSERT_EQ(run.exit_code, 0) << run.text;
  const std::string out = ReadJunit(dir);
  // One suite per level: 1 call, then 2 (order_status has no thresholds).
  EXPECT_NE(out.find("suite 1 "), std::string::npos) << out;
  EXPECT_NE(out.find("suite 2 "), std::string::npos) << out;
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace callsim
