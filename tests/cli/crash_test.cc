// Faults against the real binary: a run interrupted by SIGINT or SIGTERM keeps every finished call,
// is marked aborted and exits 1, within 2 s even when busy; a run killed with SIGKILL leaves a consistent database whose run still
// says 'running' and whose stored calls are whole.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "harness/store/store.h"

namespace callsim::harness {
namespace {

// A run far longer than any test waits for (5,000 short calls arriving `rate_per_s`, at 5 per
// second about 1,000 virtual seconds), whose first batch of 64 calls is stored after little work.
std::string LongRunYaml(int rate_per_s = 5) {
  return "name: long_run\ncodec: l16\n"
         "fakes:\n  stt: { profile: perfect }\n  llm: { script: " CALLSIM_SOURCE_DIR
         "/scenarios/llm/support.yaml }\n"
         "turns:\n"
         "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
         "  - user: \"thank you, bye\"\n"
         "  - hangup: {}\n"
         "load: { callers: 5000, arrival: { rate_per_s: " + std::to_string(rate_per_s) + " } }\n";
}
constexpr int kUserTurns = 1;

// Reads one integer with its own read-only connection (as a second process would); -1 when the
// database or the table is not there yet.
int64_t QueryInt(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      value = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return value;
}

std::string QueryText(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::string value;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return value;
}

class Crash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_crash_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str());
    scenario_ = dir_ + "/long.yaml";
    std::ofstream(scenario_) << LongRunYaml();
    db_ = dir_ + "/runs.db";
  }
  void TearDown() override {
    if (child_ > 0) {  // a failed test must not leave the run behind
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    std::system(("rm -rf " + dir_).c_str());
  }

  // `workers`: --workers (0: the default, one per core).
  void StartRun(int workers = 0) {
    const std::string workers_text = std::to_string(workers);
    std::fflush(nullptr);
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      const int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      execl(CALLSIM_BINARY, CALLSIM_BINARY, "run", scenario_.c_str(), "--seed", "3", "--db",
            db_.c_str(), "--workers", workers_text.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  // Polls with a second connection until the run has committed some calls (at most 30 s).
  bool WaitForStoredCalls() {
    for (int i = 0; i < 600; ++i) {
      if (QueryInt(db_, "SELECT count(*) FROM calls") > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // The child's exit status, or -1 if it has not exited within 30 s.
  int WaitForExit() {
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (waitpid(child_, &status, WNOHANG) == child_) {
        child_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  std::string dir_, scenario_, db_;
  pid_t child_ = -1;
};

// On one worker calls arrive in id order, so the calls stored are exactly ids 0..n-1. (On several,
// each worker's clock runs on its own: every arrived call is stored, and the ids need not be a
// prefix; SigtermEndsABusyRunWithinTwoSeconds runs that way.)
TEST_F(Crash, SigintStoresEveryFinishedCallMarksTheRunAbortedAndExits1) {
  StartRun(/*workers=*/1);
  ASSERT_TRUE(WaitForStoredCalls()) << "no call was stored within 30 s";
  ASSERT_EQ(kill(child_, SIGINT), 0);
  const int status = WaitForExit();
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);

  std::string error;
  std::unique_ptr<Store> store = Store::Open(db_, &error);
  ASSERT_TRUE(store) << error;
  const std::optional<int64_t> run_id = store->LatestRunId();
  ASSERT_TRUE(run_id);
  const std::optional<RunInfo> run = store->LoadRun(*run_id);
  EXPECT_EQ(run->status, "aborted");
  EXPECT_EQ(run->exit_code, 1);
  const std::vector<CallRow> calls = store->LoadCalls(*run_id);
  ASSERT_GT(calls.size(), 64u) << "more than the first batch was running";
  ASSERT_LT(calls.size(), 5000u) << "the run was cut short";
  // Every call that arrived is stored: ids 0..n-1; the ones still running as aborted (not
  // dropped: the system did not fail them); the ones not arrived yet are counted on the run.
  EXPECT_EQ(run->calls_not_started + static_cast<int64_t>(calls.size()), 5000);
  EXPECT_NE(run->end_reason.find("aborted"), std::string::npos) << run->end_reason;
  int completed = 0, aborted = 0;
  std::map<int64_t, int> turns_per_call;
  for (const TurnRow& t : store->LoadTurns(*run_id)) ++turns_per_call[t.call_id];
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].call_id, static_cast<int64_t>(i));
    if (calls[i].status == "completed") {
      ++completed;
      EXPECT_EQ(turns_per_call[calls[i].call_id], kUserTurns) << calls[i].call_id;
    } else {
      EXPECT_EQ(calls[i].status, "aborted");
      EXPECT_EQ(calls[i].failure_reason, "run aborted");
      ++aborted;
    }
  }
  EXPECT_GT(completed, 0);
  EXPECT_GT(aborted, 0);
  EXPECT_EQ(store->LoadMetrics(*run_id).at("calls_total"), static_cast<double>(calls.size()));
  EXPECT_EQ(store->LoadMetrics(*run_id).at("aborted_calls_count"), aborted);
}

// An AddressSanitizer build runs this code several times slower (4.2 s measured where a release
// build takes under 1 s), so the wall-time bound scales with it; the promise is the release one.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSigtermBoundS = 10.0;
#else
constexpr double kSigtermBoundS = 2.0;
#endif

// Hundreds of calls in progress (50 arrive per second) and thousands not started: SIGTERM still
// ends the run within 2 s, the finished calls kept and the run marked aborted.
TEST_F(Crash, SigtermEndsABusyRunWithinTwoSeconds) {
  std::ofstream(scenario_) << LongRunYaml(50);
  StartRun();
  ASSERT_TRUE(WaitForStoredCalls()) << "no call was stored within 30 s";
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(child_, SIGTERM), 0);
  const int status = WaitForExit();
  const double exit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_LT(exit_s, kSigtermBoundS);
  RecordProperty("sigterm_exit_ms", static_cast<int>(exit_s * 1000));

  std::string error;
  std::unique_ptr<Store> store = Store::Open(db_, &error);
  ASSERT_TRUE(store) << error;
  const int64_t run_id = *store->LatestRunId();
  const RunInfo run = *store->LoadRun(run_id);
  EXPECT_EQ(run.status, "aborted");
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  EXPECT_GT(run.calls_not_started, 0);
  EXPECT_EQ(run.calls_not_started + static_cast<int64_t>(calls.size()), 5000);
  int completed = 0, aborted = 0;
  for (const CallRow& c : calls) {
    completed += c.status == "completed";
    aborted += c.status == "aborted";
  }
  EXPECT_GE(completed, 64) << "the flushed calls are kept";
  EXPECT_GT(aborted, 100) << "the test wants many calls in progress";
  EXPECT_EQ(completed + aborted, static_cast<int>(calls.size()));
}

TEST_F(Crash, SigkillLeavesAConsistentDatabaseWithWholeCalls) {
  StartRun();
  ASSERT_TRUE(WaitForStoredCalls()) << "no call was stored within 30 s";
  ASSERT_EQ(kill(child_, SIGKILL), 0);
  const int status = WaitForExit();
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;

  EXPECT_EQ(QueryText(db_, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryText(db_, "SELECT status FROM runs ORDER BY run_id DESC LIMIT 1"), "running");
  std::string error;
  std::unique_ptr<Store> store = Store::Open(db_, &error);
  ASSERT_TRUE(store) << error;
  const int64_t run_id = *store->LatestRunId();
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  ASSERT_FALSE(calls.empty());
  std::map<int64_t, int> turns_per_call;
  for (const TurnRow& t : store->LoadTurns(run_id)) ++turns_per_call[t.call_id];
  for (const CallRow& call : calls) {
    EXPECT_EQ(call.status, "completed") << call.call_id;
    EXPECT_EQ(turns_per_call[call.call_id], kUserTurns) << call.call_id;
    EXPECT_FALSE(store->LoadEvents(run_id, call.call_id).empty()) << call.call_id;
  }
}

}  // namespace
}  // namespace callsim::harness
