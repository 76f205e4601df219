// Every bundled scenario at seed 1, pinned: the event-log hash and a digest of every row the run
// stores. A change that alters what a call does (or what is stored) fails here and must update the
// table on purpose, saying why in its commit; a refactoring must leave it untouched.
//
// To print the current values: CALLSIM_PRINT_PINS=1 ctest -R PinnedRuns --output-on-failure
#include <sqlite3.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/runtime/rng.h"
#include "tests/cli/cli_runner.h"

namespace callsim::testing {
namespace {

struct Pin {
  const char* scenario;  // file name under scenarios/
  int exit_code;
  const char* event_log_hash;
  const char* rows_digest;  // fnv1a64 of every stored row but wall-clock times, in key order
};

// Seed 1, L16 unless the scenario says otherwise.
constexpr Pin kPins[] = {
#include "tests/cli/pinned_runs.inc"
};

// Each table with the order that makes its rows canonical; run_id is 1 in a fresh store.
constexpr const char* kTables[][2] = {
    {"runs", "SELECT status, seed, mode, scenario, config_json, event_log_hash, exit_code, "
             "end_reason, calls_not_started FROM runs ORDER BY run_id"},
    {"calls", "SELECT * FROM calls ORDER BY call_id"},
    {"turns", "SELECT * FROM turns ORDER BY call_id, turn_index"},
    {"expectations", "SELECT * FROM expectations ORDER BY call_id, seq"},
    {"events", "SELECT * FROM events ORDER BY call_id, seq"},
    {"metrics", "SELECT * FROM metrics ORDER BY name"},
    {"histograms", "SELECT * FROM histograms ORDER BY name"},
    {"thresholds", "SELECT * FROM thresholds ORDER BY seq"},
    {"tool_calls", "SELECT * FROM tool_calls ORDER BY call_id, seq"},
    {"call_reports", "SELECT * FROM call_reports ORDER BY call_id"},
};

// Type-tagged, so NULL, 1 and '1' differ; reals at full precision.
std::string RowsDigest(const std::string& db_path, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    *error = "cannot open " + db_path;
    sqlite3_close(db);
    return "";
  }
  uint64_t h = agent::Fnv1a64("");
  for (const auto& [table, sql] : kTables) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      *error = std::string(table) + ": " + sqlite3_errmsg(db);
      break;
    }
    h = agent::Fnv1a64(table, h);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        // FNV-1a runs byte by byte, so the parts hash as their concatenation.
        char buf[40];
        std::string_view cell;
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL: cell = "N"; break;
          case SQLITE_INTEGER:
            std::snprintf(buf, sizeof buf, "I%lld", sqlite3_column_int64(stmt, c));
            cell = buf;
            break;
          case SQLITE_FLOAT:
            std::snprintf(buf, sizeof buf, "F%.17g", sqlite3_column_double(stmt, c));
            cell = buf;
            break;
          default: {
            const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, c));
            h = agent::Fnv1a64("T", h);
            cell = std::string_view(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c)));
          }
        }
        h = agent::Fnv1a64(cell, h);
        h = agent::Fnv1a64("\x1f", h);
      }
      h = agent::Fnv1a64("\x1e", h);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, h);
  return hex;
}

std::string RunHash(const std::string& db_path) {
  sqlite3* db = nullptr;
  std::string hash;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT event_log_hash FROM runs", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      hash = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return hash;
}

// Test names and failure messages show the scenario, not the struct's bytes.
void PrintTo(const Pin& pin, std::ostream* os) { *os << pin.scenario; }

class PinnedRuns : public ::testing::TestWithParam<Pin> {};

TEST_P(PinnedRuns, SeedOneGivesThePinnedLogAndRows) {
  const Pin& pin = GetParam();
  const std::string name = std::filesystem::path(pin.scenario).stem().string();
  const auto dir = std::filesystem::temp_directory_path() / ("callsim_pinned_" + name + "_" +
                                                             std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "pinned.db").string();
  // From the source folder, so the scenario path stored in the run is the same everywhere.
  const CliOutput out =
      RunCli("run scenarios/" + std::string(pin.scenario) + " --seed 1 --db " + db +
             " --skip-memory-check", CALLSIM_SOURCE_DIR);
  std::string error;
  const std::string digest = RowsDigest(db, &error);
  const std::string hash = RunHash(db);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(error.empty()) << error << "\n" << out.text;
  if (std::getenv("CALLSIM_PRINT_PINS")) {
    std::printf("    {\"%s\", %d, \"%s\", \"%s\"},\n", pin.scenario, out.exit_code, hash.c_str(),
                digest.c_str());
  }
  EXPECT_EQ(out.exit_code, pin.exit_code) << out.text;
  EXPECT_EQ(hash, pin.event_log_hash) << pin.scenario;
  EXPECT_EQ(digest, pin.rows_digest) << pin.scenario;
}

std::string PinName(const ::testing::TestParamInfo<Pin>& info) {
  std::string name = std::filesystem::path(info.param.scenario).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Bundled, PinnedRuns, ::testing::ValuesIn(kPins), PinName);

// Every bundled scenario is pinned, so a new one cannot slip in unpinned.
TEST(PinnedRunsTable, CoversEveryBundledScenario) {
  std::vector<std::string> bundled;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(CALLSIM_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() == ".yaml") bundled.push_back(entry.path().filename().string());
  }
  std::vector<std::string> pinned;
  for (const Pin& pin : kPins) pinned.push_back(pin.scenario);
  std::sort(bundled.begin(), bundled.end());
  std::sort(pinned.begin(), pinned.end());
  EXPECT_EQ(pinned, bundled);
}

}  // namespace
}  // namespace callsim::testing
