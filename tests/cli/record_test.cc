// `callsim run|sweep --record failed|all|N` through the built binary: bad values are refused
// before anything is opened, and recordings land beside the database, one folder per run, named
// by calls.recording.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/cli/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using callsim::testing::CliOutput;
using callsim::testing::RunCli;

const std::string kScenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";

class Record : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("callsim_record_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "demo.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // calls.recording of every call of run `run_id`, in call order ("NULL" for none).
  std::vector<std::string> Recordings(int run_id) const {
    std::vector<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT recording FROM calls WHERE run_id = ?1 ORDER BY call_id",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_int(stmt, 1, run_id);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  fs::path dir_;
  std::string db_;
};

TEST_F(Record, BadValuesAreRefusedBeforeAnythingRuns) {
  for (const char* value : {"0", "-1", "1000001", "x", "FAILED", "2.5", "''"}) {
    for (const char* command : {"run ", "sweep "}) {
      const std::string file = std::string(command) == "run " ? "order_status.yaml"
                                                              : "sweeps/llm_capacity.yaml";
      const CliOutput out =
          RunCli(command + kScenarios + file + " --db " + db_ + " --record " + value);
      EXPECT_EQ(out.exit_code, 2) << command << value << ": " << out.text;
      EXPECT_NE(out.text.find("callsim: --record: expected failed, all or a whole number of calls "
                              "in [1, 1000000], got \""),
                std::string::npos)
          << out.text;
    }
  }
  const CliOutput missing = RunCli("run " + kScenarios + "order_status.yaml --db " + db_ + " --record");
  EXPECT_EQ(missing.exit_code, 2) << missing.text;
  EXPECT_FALSE(fs::exists(db_)) << "nothing was opened";
  EXPECT_FALSE(fs::exists(dir_ / "demo.recordings"));
}

TEST_F(Record, FirstNWritesThatManyBesideTheDatabaseAndTheCallsTableNamesThem) {
  const CliOutput out = RunCli("run " + kScenarios + "order_status.yaml --callers 3 --db " + db_ +
                               " --record 2");
  ASSERT_EQ(out.exit_code, 0) << out.text;
  const fs::path folder = dir_ / "demo.recordings" / "run-1";
  EXPECT_NE(out.text.find("callsim: run 1: 2 recordings in " + folder.string()), std::string::npos)
      << out.text;
  EXPECT_EQ(Recordings(1), (std::vector<std::string>{"demo.recordings/run-1/call-0.wav",
                                                     "demo.recordings/run-1/call-1.wav", "NULL"}));
  EXPECT_TRUE(fs::is_regular_file(folder / "call-0.wav"));
  EXPECT_TRUE(fs::is_regular_file(folder / "call-1.wav"));
  EXPECT_FALSE(fs::exists(folder / "call-2.wav"));
  EXPECT_GT(fs::file_size(folder / "call-0.wav"), 5u * 16000 * 4) << "seconds of stereo audio";
}

// tools_guardrails expecting words the agent never says: every call fails, and each is written;
// order_status passes, and nothing is.
TEST_F(Record, FailedWritesTheFailedCallsOnly) {
  const CliOutput failing = RunCli("run " + kScenarios + "tools_guardrails.yaml --callers 2 --set "
                                   "turns.1.expect.1.agent_says.contains=friday --db " + db_ +
                                   " --record failed");
  ASSERT_EQ(failing.exit_code, 99) << failing.text;
  EXPECT_EQ(Recordings(1), (std::vector<std::string>{"demo.recordings/run-1/call-0.wav",
                                                     "demo.recordings/run-1/call-1.wav"}));
  const CliOutput passing = RunCli("run " + kScenarios + "order_status.yaml --callers 2 --db " +
                                   db_ + " --record failed");
  ASSERT_EQ(passing.exit_code, 0) << passing.text;
  EXPECT_NE(passing.text.find("callsim: run 2: no recordings"), std::string::npos) << passing.text;
  EXPECT_EQ(Recordings(2), (std::vector<std::string>{"NULL", "NULL"}));
  EXPECT_FALSE(fs::exists(dir_ / "demo.recordings" / "run-2"));
}

TEST_F(Record, WithoutTheFlagNothingIsRecorded) {
  const CliOutput out = RunCli("run " + kScenarios + "order_status.yaml --callers 1 --db " + db_);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  EXPECT_EQ(out.text.find("recordings"), std::string::npos) << out.text;
  EXPECT_EQ(Recordings(1), (std::vector<std::string>{"NULL"}));
  EXPECT_FALSE(fs::exists(dir_ / "demo.recordings"));
}

TEST_F(Record, EachSweepLevelRecordsIntoItsOwnRunFolder) {
  std::ofstream(dir_ / "plan.yaml") << "name: two_levels\nscenario: " << kScenarios
                                    << "order_status.yaml\nparameter: load.callers\n"
                                       "levels: [1, 2]\nslo:\n  task_completion: [\"rate>0\"]\n";
  const CliOutput out =
      RunCli("sweep " + (dir_ / "plan.yaml").string() + " --db " + db_ + " --record all");
  ASSERT_EQ(out.exit_code, 0) << out.text;
  EXPECT_EQ(Recordings(1), (std::vector<std::string>{"demo.recordings/run-1/call-0.wav"}));
  EXPECT_EQ(Recordings(2), (std::vector<std::string>{"demo.recordings/run-2/call-0.wav",
                                                     "demo.recordings/run-2/call-1.wav"}));
  for (const char* file : {"run-1/call-0.wav", "run-2/call-0.wav", "run-2/call-1.wav"}) {
    EXPECT_TRUE(fs::is_regular_file(dir_ / "demo.recordings" / file)) << file;
  }
}

}  // namespace
