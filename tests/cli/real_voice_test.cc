// The caller's ASR ear against the reference agent's espeak-ng replies, through the built binary:
// what the ear heard of each reply (reply_end's "heard") scored against what the agent said (its
// sentence events), on a clean line as L16 and as a telephone line (PCMU).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "harness/measure/wer.h"
#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"

namespace callsim::harness {
namespace {

namespace fs = std::filesystem;

const std::string kScenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";

class RealVoiceEar : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("callsim_real_voice_ear_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "runs.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string db_;
};

TEST_P(RealVoiceEar, HearsTheAgentsRepliesWithinTenPercentWer) {
  const auto out = testing::RunCli("run " + kScenarios + "real_voice_agent.yaml --set codec=" +
                                   GetParam() + " --db " + db_);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::string error;
  std::unique_ptr<Store> store = Store::Open(db_, &error);
  ASSERT_NE(store, nullptr) << error;
  const int64_t run_id = *store->LatestRunId();
  WerCounts total;
  int replies = 0;
  for (const CallRow& call : store->LoadCalls(run_id)) {
    std::string said;
    for (const EventRow& e : store->LoadEvents(run_id, call.call_id)) {
      const nlohmann::json detail = nlohmann::json::parse(e.detail_json);
      if (e.kind == "sentence") {
        said += (said.empty() ? "" : " ") + detail.value("text", std::string());
      } else if (e.kind == "reply_end") {
        total += ComputeWer(said, detail.value("heard", std::string()));
        said.clear();
        ++replies;
      }
    }
  }
  std::printf("[ ear %s ] %d replies, WER %.2f%% (S %d D %d I %d N %d)\n", GetParam(), replies,
              100 * total.Rate(), total.substitutions, total.deletions, total.insertions,
              total.ref_words);
  EXPECT_GE(replies, 12);  // three replies in each of four calls
  EXPECT_GT(total.ref_words, 200);
  EXPECT_LE(total.Rate(), 0.10);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RealVoiceEar, ::testing::Values("l16", "pcmu"));

}  // namespace
}  // namespace callsim::harness
