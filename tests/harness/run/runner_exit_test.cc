// Every way a run ends leaves it finished in the store: an abort marks the calls in progress
// 'aborted' and counts the ones not started; a database locked by another connection for longer
// than the old 5 s busy timeout delays the writes but loses nothing; a lock held past the wait
// bound, or an internal error, marks the run failed with the reason before the error passes on.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"

namespace callsim::harness {
namespace {

const std::string kScript = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/llm/support.yaml";

// Short calls (about 12 virtual seconds each), 10 arriving per second.
std::string ShortCallsYaml(int callers) {
  return "name: short_calls\ncodec: l16\n"
         "fakes:\n  stt: { profile: perfect }\n  llm: { script: " + kScript + " }\n"
         "turns:\n"
         "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
         "  - user: \"thank you, bye\"\n"
         "  - hangup: {}\n"
         "load: { callers: " + std::to_string(callers) + ", arrival: { rate_per_s: 10 } }\n";
}

// Another process's connection holding the write lock (BEGIN EXCLUSIVE) from Take() until
// Release(), on its own thread as a second process would.
class LockHolder {
 public:
  explicit LockHolder(std::string path) : path_(std::move(path)) {}
  ~LockHolder() { Release(); }

  // Returns once the lock is held; it is released after `hold` (or by Release()).
  void Take(std::chrono::milliseconds hold) {
    std::promise<bool> taken;
    std::future<bool> ready = taken.get_future();
    thread_ = std::thread([this, hold, taken = std::move(taken)]() mutable {
      sqlite3* db = nullptr;
      sqlite3_open(path_.c_str(), &db);
      sqlite3_busy_timeout(db, 10000);
      taken.set_value(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
      const auto until = std::chrono::steady_clock::now() + hold;
      while (!release_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      sqlite3_close(db);
    });
    ASSERT_TRUE(ready.get()) << "the test could not take the lock";
  }
  void Release() {
    release_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string path_;
  std::thread thread_;
  std::atomic<bool> release_{false};
};

class RunnerExit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/callsim_runner_exit_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str());
    db_ = dir_ + "/runs.db";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  void Open(const StoreOptions& options = {}) {
    std::string error;
    store_ = Store::Open(db_, options, &error);
    ASSERT_TRUE(store_) << error;
  }

  RunResult Run(const std::string& yaml, RunOptions options) {
    const std::string path = dir_ + "/main.yaml";
    std::ofstream(path) << yaml;
    LoadResult loaded = LoadScenarioText(yaml, path);
    if (!loaded.scenario) throw std::logic_error(loaded.errors.at(0).ToString());
    scenario_ = std::make_unique<Scenario>(std::move(*loaded.scenario));
    RunPlan plan;
    std::string error;
    if (!MakeRunPlan(*scenario_, &plan, &error)) throw std::logic_error(error);
    options.seed = 3;
    options.scenario_arg = "main.yaml";
    return RunScenario(plan, options, *store_);
  }

  // The run's stored calls by status.
  std::map<std::string, int> Statuses(int64_t run_id) {
    std::map<std::string, int> by_status;
    for (const CallRow& c : store_->LoadCalls(run_id)) ++by_status[c.status];
    return by_status;
  }

  std::string dir_, db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Scenario> scenario_;
};

TEST_F(RunnerExit, AnAbortMarksCallsInProgressAbortedAndCountsTheOnesNotStarted) {
  Open();
  std::atomic<bool> abort{false};
  RunOptions options;
  options.abort = &abort;
  options.progress = [&](const RunProgress& p) {
    if (p.virtual_us >= 20'000'000) abort.store(true);
  };
  const RunResult r = Run(ShortCallsYaml(400), options);
  EXPECT_EQ(r.status, RunStatus::kAborted);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_GT(r.calls_aborted, 0);
  EXPECT_EQ(r.calls_dropped, 0) << "an abort is not the system dropping calls";
  EXPECT_GT(r.calls_not_started, 0);
  EXPECT_EQ(r.calls + r.calls_not_started, 400);

  const std::map<std::string, int> statuses = Statuses(r.run_id);
  EXPECT_EQ(statuses.count("dropped"), 0u);
  EXPECT_EQ(statuses.at("aborted"), r.calls_aborted);
  EXPECT_GT(statuses.at("completed"), 0);
  const RunInfo run = *store_->LoadRun(r.run_id);
  EXPECT_EQ(run.status, "aborted");
  EXPECT_EQ(run.calls_not_started, r.calls_not_started);
  EXPECT_NE(run.end_reason.find("aborted"), std::string::npos) << run.end_reason;
  const std::map<std::string, double> metrics = store_->LoadMetrics(r.run_id);
  EXPECT_EQ(metrics.at("aborted_calls_count"), r.calls_aborted);
  EXPECT_EQ(metrics.at("dropped_calls_count"), 0);
  EXPECT_EQ(metrics.at("calls_not_started"), r.calls_not_started);
}

// The old store gave up after a 5 s busy timeout and lost the 64 calls of the batch; now the
// write waits (backoff, up to lock_wait_ms) and every call is stored.
TEST_F(RunnerExit, ALockHeldLongerThanFiveSecondsDelaysTheWritesButLosesNoCall) {
  StoreOptions store_options;
  store_options.lock_wait_ms = 30000;
  Open(store_options);
  LockHolder other(db_);
  RunOptions options;
  bool taken = false;  // once, just before the first flush
  options.progress = [&](const RunProgress&) {
    if (!taken && store_->buffered_calls() >= 50) {
      taken = true;
      other.Take(std::chrono::milliseconds(6000));
    }
  };
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = Run(ShortCallsYaml(200), options);
  const double waited_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited_s, 5.5) << "the lock was not in the way";
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.calls, 200);
  EXPECT_EQ(store_->LoadCalls(r.run_id).size(), 200u);
  EXPECT_EQ(Statuses(r.run_id).at("completed"), 200);
  const RunInfo run = *store_->LoadRun(r.run_id);
  EXPECT_EQ(run.status, "completed");
  EXPECT_EQ(run.exit_code, r.exit_code);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 99) << r.exit_code;
}

// The lock outlasts the wait bound: the run stops, and is marked failed (with the calls it had
// buffered) as soon as the lock goes, within one more wait.
TEST_F(RunnerExit, ALockHeldPastTheBoundFailsTheRunWithTheReasonOnceTheLockGoes) {
  StoreOptions store_options;
  store_options.lock_wait_ms = 2000;
  store_options.lock_backoff_max_ms = 200;
  Open(store_options);
  LockHolder other(db_);
  RunOptions options;
  bool taken = false;
  options.progress = [&](const RunProgress&) {
    if (!taken && store_->buffered_calls() >= 50) {  // just before the first flush
      taken = true;
      other.Take(std::chrono::milliseconds(3000));  // past the first wait, inside the second
    }
  };
  try {
    Run(ShortCallsYaml(200), options);
    FAIL() << "the run did not report the store error";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_BUSY) << e.what();
    EXPECT_EQ(std::string(e.what()).find("could not be marked"), std::string::npos) << e.what();
  }
  const int64_t run_id = *store_->LatestRunId();
  const RunInfo run = *store_->LoadRun(run_id);
  EXPECT_EQ(run.status, "failed");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.end_reason.find("locked"), std::string::npos) << run.end_reason;
  EXPECT_GT(run.calls_not_started, 0);
  const std::vector<CallRow> calls = store_->LoadCalls(run_id);
  EXPECT_GE(calls.size(), 64u) << "the batch that could not be written then was kept";
}

TEST_F(RunnerExit, ALockThatNeverGoesSaysTheRunCouldNotBeMarked) {
  StoreOptions store_options;
  store_options.lock_wait_ms = 300;
  Open(store_options);
  LockHolder other(db_);
  RunOptions options;
  bool taken = false;
  options.progress = [&](const RunProgress& p) {
    if (!taken && p.virtual_us >= 2'000'000) {
      taken = true;
      other.Take(std::chrono::milliseconds(60000));
    }
  };
  try {
    Run(ShortCallsYaml(200), options);
    FAIL() << "the run did not report the store error";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("could not be marked failed"), std::string::npos)
        << e.what();
  }
  other.Release();
  EXPECT_EQ(store_->LoadRun(*store_->LatestRunId())->status, "running");
  // The calls are still buffered: the next commit writes them.
  EXPECT_GE(store_->buffered_calls(), 64u);
  store_->Flush();
  EXPECT_GE(store_->LoadCalls(*store_->LatestRunId()).size(), 64u);
}

TEST_F(RunnerExit, AnInternalErrorMarksTheRunFailedWithTheReasonAndPassesOn) {
  Open();
  RunOptions options;
  options.progress = [](const RunProgress& p) {
    if (p.virtual_us >= 15'000'000) throw std::runtime_error("progress sink broke");
  };
  EXPECT_THROW(Run(ShortCallsYaml(200), options), std::runtime_error);
  const int64_t run_id = *store_->LatestRunId();
  const RunInfo run = *store_->LoadRun(run_id);
  EXPECT_EQ(run.status, "failed");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.end_reason.find("progress sink broke"), std::string::npos) << run.end_reason;
  EXPECT_GT(run.calls_not_started, 0);
  EXPECT_GT(store_->LoadCalls(run_id).size(), 0u) << "the calls finished before are kept";
}

}  // namespace
}  // namespace callsim::harness
