// `callsim run --workers N` and `callsim run --shard I/N` + `callsim merge` as a user runs them:
// the bundled 1,000-caller load on one and on two workers, and on one clock (--no-lanes), stores
// the same run; four shard
// processes run side by side and merged give the unsharded run, and merge refuses what is not one
// run with exit 2 and writes nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"
#include "tests/harness/run/same_run.h"

namespace callsim {
namespace {

using testing::RunCli;
using testing::RunShell;

const std::string kScenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";

class MergeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_merge_cli_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str());
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Db(const std::string& name) const { return dir_ + "/" + name + ".db"; }

  harness::Store& Open(const std::string& path) {
    std::string error;
    stores_.push_back(harness::Store::Open(path, &error));
    EXPECT_TRUE(stores_.back()) << error;
    return *stores_.back();
  }

  std::string dir_;
  std::vector<std::unique_ptr<harness::Store>> stores_;
};

TEST_F(MergeCli, OneAndTwoWorkersStoreTheSameBundledLoad) {
  const std::string scenario = kScenarios + "load_1000.yaml";
  const auto one = RunCli("run " + scenario + " --workers 1 --db " + Db("one"));
  const auto two = RunCli("run " + scenario + " --workers 2 --db " + Db("two"));
  ASSERT_TRUE(one.exit_code == 0 || one.exit_code == 99) << one.text;
  EXPECT_EQ(two.exit_code, one.exit_code) << two.text;
  EXPECT_EQ(two.text.find("ran again on one worker"), std::string::npos) << two.text;
  harness::Store& a = Open(Db("one"));
  harness::Store& b = Open(Db("two"));
  ASSERT_EQ(a.LoadCalls(1).size(), 1000u);
  harness::testing::ExpectSameRun(a, 1, b, 1);
  // Lanes (the default) against every call on one clock.
  const auto one_clock = RunCli("run " + scenario + " --workers 1 --no-lanes --db " + Db("clock"));
  EXPECT_EQ(one_clock.exit_code, one.exit_code) << one_clock.text;
  harness::testing::ExpectSameRun(a, 1, Open(Db("clock")), 1);
}

// Calls on lanes that could have shared a circuit breaker's opening run again on one clock, and
// the run says so.
TEST_F(MergeCli, ARunAgainOnOneClockSaysWhy) {
  const auto r = RunCli("run " + kScenarios + "tools_backend_down.yaml --workers 1 --db " + Db("d"));
  EXPECT_EQ(r.exit_code, 0) << r.text;
  EXPECT_NE(r.text.find("run 1: ran again on one clock: circuit breaker of orders"),
            std::string::npos)
      << r.text;
  EXPECT_EQ(Open(Db("d")).LoadCalls(1).size(), 8u);
}

TEST_F(MergeCli, FourShardProcessesMergeIntoTheWholeRun) {
  const std::string scenario = kScenarios + "order_status.yaml";
  const auto whole = RunCli("run " + scenario + " --seed 3 --db " + Db("whole"));
  ASSERT_TRUE(whole.exit_code == 0 || whole.exit_code == 99) << whole.text;
  // Four load generators at once, as an Indexed Job runs them; a shard's own verdict does not
  // matter (thresholds are judged on the merged run).
  std::string command = "cd " + dir_ + " && for i in 1 2 3 4; do (" + std::string(CALLSIM_BINARY) +
                        " run " + scenario + " --seed 3 --shard $i/4 --db shard-$i.db " +
                        "--workers 1 > shard-$i.log 2>&1; echo $? > shard-$i.rc) & done; wait; " +
                        "cat shard-*.rc";
  const auto shards = RunShell("sh -c '" + command + "'");
  for (char c : shards.text) {
    if (c != '\n') {
      EXPECT_TRUE(c == '0' || c == '9') << shards.text;
    }
  }
  const auto merged = RunCli("merge " + Db("merged") + " " + Db("shard-4") + " " + Db("shard-2") +
                             " " + Db("shard-1") + " " + Db("shard-3"));
  EXPECT_EQ(merged.exit_code, whole.exit_code) << merged.text;
  EXPECT_NE(merged.text.find("4 shards into run 1 of"), std::string::npos) << merged.text;
  EXPECT_NE(merged.text.find("replay: callsim run " + scenario + " --seed 3"), std::string::npos)
      << merged.text;
  EXPECT_EQ(merged.text.find("--shard"), std::string::npos) << merged.text;
  harness::testing::ExpectSameRun(Open(Db("whole")), 1, Open(Db("merged")), 1);
}

TEST_F(MergeCli, RefusesWhatIsNotOneRunAndWritesNothing) {
  const std::string scenario = kScenarios + "order_status.yaml";
  for (const char* shard : {"1/2", "2/2"}) {
    const std::string name = std::string("s") + shard[0];
    ASSERT_NE(RunCli("run " + scenario + " --callers 4 --shard " + shard + " --db " + Db(name)).exit_code, 2);
  }
  ASSERT_NE(RunCli("run " + scenario + " --callers 4 --seed 9 --shard 2/2 --db " + Db("seed9")).exit_code, 2);
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {Db("out") + " " + Db("s1"), "missing shard 2/2"},
      {Db("out") + " " + Db("s1") + " " + Db("seed9"), "are not shards of one run: seed 1 vs 9"},
      {Db("out") + " " + Db("s1") + " " + Db("s1"), "shard 1/2 appears twice"},
      {Db("s1") + " " + Db("s1") + " " + Db("s2"), "is both the output and an input"},
      {Db("out") + " " + Db("s1") + " " + dir_ + "/none.db", "none.db: no such database file"},
  };
  for (const Case& c : cases) {
    const auto out = RunCli("merge " + c.args);
    EXPECT_EQ(out.exit_code, 2) << c.args << "\n" << out.text;
    EXPECT_NE(out.text.find("callsim: merge: " ), std::string::npos) << out.text;
    EXPECT_NE(out.text.find(c.message), std::string::npos) << c.args << "\n" << out.text;
  }
  EXPECT_NE(access(Db("out").c_str(), F_OK), 0);  // nothing was written
  EXPECT_EQ(RunCli("merge").exit_code, 2);
}

}  // namespace
}  // namespace callsim
