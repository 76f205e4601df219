// `callsim report`: text and HTML from stored runs, exit 2 with one line for every bad input, and
// nothing created or written where it should not be.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/cli/cli_runner.h"

namespace callsim {
namespace {

using testing::ReadFile;
using testing::RunCli;

class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/callsim_report_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    const std::string scenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";
    // Run 1 passes; run 2 fails every call (turn 1 expects words the agent never says).
    const auto ok = RunCli("run " + scenarios + "order_status.yaml --callers 3 --db " + Db());
    ASSERT_EQ(ok.exit_code, 0) << ok.text;
    const auto bad = RunCli("run " + scenarios + "order_status.yaml --callers 2 --set "
                            "turns.1.expect.0.agent_says.contains=friday --db " + Db());
    ASSERT_EQ(bad.exit_code, 99) << bad.text;
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf " + *dir_).c_str());
    delete dir_;
  }
  static std::string Db() { return *dir_ + "/runs.db"; }
  static std::string* dir_;
};
std::string* Report::dir_ = nullptr;

size_t Lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

TEST_F(Report, TextIsTheSummaryOfTheLastRunOrOfEachRunNamed) {
  const auto last = RunCli("report " + Db());
  EXPECT_EQ(last.exit_code, 0) << last.text;
  EXPECT_EQ(last.text.rfind("run 2: ", 0), 0u) << last.text;
  EXPECT_NE(last.text.find("calls: 2 total, 0 passed, 2 failed"), std::string::npos);
  const auto both = RunCli("report " + Db() + "#1 " + Db() + "#2 --text");
  EXPECT_EQ(both.exit_code, 0) << both.text;
  EXPECT_EQ(both.text.rfind("run 1: ", 0), 0u) << both.text;
  EXPECT_NE(both.text.find("\n\nrun 2: "), std::string::npos);
  EXPECT_NE(both.text.find("--set turns.1.expect.0.agent_says.contains=friday"), std::string::npos);
  // Two runs are a base and a new one: the comparison follows (3 calls against 2: too few
  // samples for a latency verdict, and task completion 100% -> 0% is too few calls to test).
  EXPECT_NE(both.text.find("\ncompare " + Db() + "#1 ("), std::string::npos) << both.text;
  EXPECT_NE(both.text.find("turn_latency.p50 ms"), std::string::npos) << both.text;
  EXPECT_NE(both.text.find("need 10"), std::string::npos) << both.text;
}

TEST_F(Report, HtmlIsOneFileWithASectionPerRunAndTheFailedCalls) {
  const std::string out = *dir_ + "/report.html";
  const auto r = RunCli("report " + Db() + "#1 " + Db() + "#2 --html " + out);
  EXPECT_EQ(r.exit_code, 0) << r.text;
  EXPECT_NE(r.text.find("report: " + out + " (2 runs"), std::string::npos) << r.text;
  const std::string html = ReadFile(out);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("data-run-id=\"1\""), std::string::npos);
  EXPECT_NE(html.find("data-run-id=\"2\""), std::string::npos);
  EXPECT_NE(html.find("2 calls did not complete their task"), std::string::npos);
  EXPECT_NE(html.find("expected &quot;friday&quot;"), std::string::npos);
  // ... and the comparison of the two comes first.
  const size_t compare = html.find("<section class=\"compare\"");
  EXPECT_NE(compare, std::string::npos);
  EXPECT_LT(compare, html.find("data-run-id=\"1\""));
  EXPECT_NE(html.find("task_completion"), std::string::npos);
}

TEST_F(Report, BadInputIsOneLineAndExitTwo) {
  struct Case {
    std::string args;
    std::string says;
  };
  const std::string missing = *dir_ + "/missing.db";
  const Case cases[] = {
      {"report " + missing, "callsim: report: " + missing + ": no such file"},
      {"report " + *dir_, "callsim: report: " + *dir_ + ": not a regular file"},
      {"report " + Db() + "#9", "callsim: report: " + Db() + " has no run 9"},
      {"report " + Db() + "#x1", "the run id after # must be a whole number of at least 1"},
      {"report " + Db() + "#0", "the run id after # must be a whole number of at least 1"},
      {"report '#3'", "expected FILE.db or FILE.db#RUN_ID"},
      {"report " + Db() + " --html " + *dir_ + "/no/such/dir/r.html", "callsim: report: --html: "},
      {"report " + Db() + " --sweep", "callsim: report: " + Db() + " has no sweeps"},
      {"report " + Db() + " --sweep 3", "callsim: report: " + Db() + " has no sweep 3"},
  };
  for (const Case& c : cases) {
    const auto r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.text;
    EXPECT_NE(r.text.find(c.says), std::string::npos) << c.args << "\n" << r.text;
    EXPECT_EQ(Lines(r.text), 1u) << c.args << "\n" << r.text;
  }
  EXPECT_NE(access(missing.c_str(), F_OK), 0) << "a report must not create a database";
  EXPECT_EQ(RunCli("report " + Db() + " --text --html " + *dir_ + "/x.html").exit_code, 2);
}

TEST_F(Report, SweepAddsItsTableToTheTextAndItsChartsToTheHtml) {
  const std::string db = *dir_ + "/sweep.db";
  const std::string plan = *dir_ + "/plan.yaml";
  std::ofstream(plan) << "name: tiny\nscenario: " << CALLSIM_SOURCE_DIR
                      << "/scenarios/order_status.yaml\nlevels: [1, 2]\n"
                         "slo: { turn_latency: [\"p(95)<5000\"] }\n";
  const auto sweep = RunCli("sweep " + plan + " --db " + db);
  ASSERT_EQ(sweep.exit_code, 0) << sweep.text;
  const auto text = RunCli("report " + db + " --sweep");
  EXPECT_EQ(text.exit_code, 0) << text.text;
  EXPECT_NE(text.text.find("sweep 1: tiny"), std::string::npos) << text.text;
  EXPECT_NE(text.text.find("knee: 2 or above"), std::string::npos) << text.text;
  const std::string out = *dir_ + "/sweep.html";
  const auto html = RunCli("report " + db + " --sweep 1 --html " + out);
  EXPECT_EQ(html.exit_code, 0) << html.text;
  const std::string page = ReadFile(out);
  EXPECT_NE(page.find("data-sweep-id=\"1\""), std::string::npos);
  EXPECT_NE(page.find("data-label=\"knee\" data-value=\"2.0\""), std::string::npos);
}

}  // namespace
}  // namespace callsim
