#include "reports/summary_md.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace callsim::reports {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SummaryMdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_summary_md_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SummaryMdTest, AppendingNeverGrowsTheFilePast1MiB) {
  const std::string path = dir_ + "/summary.md";
  std::ofstream(path) << std::string(kMaxSummaryBytes - 100, 'x') << "\n";
  std::string more;
  for (int i = 0; i < 100; ++i) more += "| row " + std::to_string(i) + " |\n";
  std::string error;
  ASSERT_TRUE(AppendSummaryMarkdown(path, more, &error)) << error;
  const std::string text = Slurp(path);
  EXPECT_LE(text.size(), kMaxSummaryBytes);
  EXPECT_NE(text.find("summary cut"), std::string::npos);
  EXPECT_EQ(text.find("| row 99 |"), std::string::npos);
  // Room left: appended whole.
  const std::string small = dir_ + "/small.md";
  ASSERT_TRUE(AppendSummaryMarkdown(small, "a\n", &error));
  ASSERT_TRUE(AppendSummaryMarkdown(small, "b\n", &error));
  EXPECT_EQ(Slurp(small), "a\nb\n");
  EXPECT_FALSE(AppendSummaryMarkdown(dir_ + "/no/such/dir.md", "a\n", &error));
  EXPECT_NE(error.find("cannot write"), std::string::npos);
}

TEST_F(SummaryMdTest, StoredTextCannotBreakATableOrAFence) {
  std::string error;
  auto store = harness::Store::Open(dir_ + "/runs.db", &error);
  ASSERT_NE(store, nullptr) << error;
  harness::RunInfo run;
  run.scenario = "a|b```.yaml";
  const int64_t id = store->BeginRun(run);
  harness::CallRow call;
  call.run_id = id;
  call.scenario = "x|y";
  call.status = "failed";
  harness::ExpectationRow e{.turn_index = 1, .kind = "agent_says", .passed = false,
                            .detail = "heard <script>|</script>\nnext"};
  store->AddCall(call, {}, {e}, {});
  store->FinishRun(id, "completed", "h", 99);
  const std::string md = RunSummaryMarkdown(*store, id);
  EXPECT_NE(md.find("| 0 | x\\|y | failed | turn 1 agent_says: heard &lt;script&gt;\\|&lt;/script&gt; next |"),
            std::string::npos) << md;
  // The replay line holds three backticks, so its fence has four.
  EXPECT_NE(md.find("````\ncallsim run "), std::string::npos) << md;
}

TEST(CompareSummaryMd, ArrowsAndVerdictsPerRow) {
  CompareResult r;
  r.base.run_id = 1;
  r.now.run_id = 2;
  CompareRow slow{.metric = "turn_latency.p50", .family = "turn_latency", .unit = "ms",
                  .base = 1400, .now = 1550, .change = 150, .ci_low = 110, .ci_high = 190,
                  .verdict = Verdict::kRegressed, .note = ""};
  CompareRow wer{.metric = "wer", .family = "wer", .unit = "%", .base = 4.5, .now = 4.25,
                 .change = -0.25, .ci_low = -1, .ci_high = 0.5, .note = ""};
  r.rows = {slow, wer};
  const std::string md = CompareSummaryMarkdown(r);
  EXPECT_NE(md.find("### 🔴 callsim compare: regressed"), std::string::npos) << md;
  EXPECT_NE(md.find("| turn_latency.p50 | 1400.0 ms | 1550.0 ms | ↑ +150.0 | [+110.0, +190.0] | 🔴 regressed |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| wer | 4.50 % | 4.25 % | ↓ -0.25 | [-1.00, +0.50] | ⚪ no significant change |"),
            std::string::npos) << md;
}

}  // namespace
}  // namespace callsim::reports
