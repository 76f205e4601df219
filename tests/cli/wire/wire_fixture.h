// What the real-time tests over loopback share: the bundled scenarios' folder, the loosened
// harness-lateness bound, a fixture with a scratch folder and its database, and the check that
// every call of a run passed.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"

namespace callsim::testing {

inline const std::string kScenarios = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";
// These tests check what happens on the wire, on a machine that runs other tests beside them: the
// harness-lateness bound is raised so a busy machine does not turn a correct run into a saturated
// one. Saturation itself is checked on its own (realtime_test.cc).
inline const std::string kLooseLateness = " --set realtime.lateness_bound_ms=100";

// A scratch folder per test, removed after it; db_ is runs.db in it.
class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_wire_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/runs.db";
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // The database at `path` (db_ when empty).
  std::unique_ptr<harness::Store> Open(const std::string& path = "") {
    std::string error;
    std::unique_ptr<harness::Store> store =
        harness::Store::Open(path.empty() ? db_ : path, &error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }

  std::string dir_;
  std::string db_;
};

// Every call of the latest run passed, in a completed real-time run of `expected_calls` calls;
// returns the run's id (0 when there is none).
inline int64_t ExpectAllPassed(harness::Store& store, int expected_calls) {
  const std::optional<int64_t> run_id = store.LatestRunId();
  EXPECT_TRUE(run_id.has_value());
  if (!run_id) return 0;
  const std::optional<harness::RunInfo> run = store.LoadRun(*run_id);
  EXPECT_EQ(run->mode, "realtime");
  EXPECT_EQ(run->status, "completed");
  const std::vector<harness::CallRow> calls = store.LoadCalls(*run_id);
  EXPECT_EQ(static_cast<int>(calls.size()), expected_calls);
  for (const harness::CallRow& c : calls) {
    EXPECT_EQ(c.status, "completed") << c.failure_reason;
    EXPECT_TRUE(c.task_completed) << "call " << c.call_id << ": " << c.failure_reason;
  }
  return *run_id;
}

}  // namespace callsim::testing
