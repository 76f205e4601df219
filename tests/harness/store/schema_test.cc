#include "harness/store/schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "harness/store/store.h"

namespace callsim::harness {
namespace {

class SchemaTempDir {
 public:
  SchemaTempDir() {
    char tmpl[] = "/tmp/callsim_schema_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~SchemaTempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Reads one integer or text with a raw connection, independent of the code under test.
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  std::string result;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    result = text ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

std::set<std::string> TableNames(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &stmt,
                     nullptr);
  std::set<std::string> names;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    names.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return names;
}

TEST(StoreSchemaTest, MigrationsAreOrderedFromOne) {
  const auto& migrations = SchemaMigrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) EXPECT_EQ(migrations[i].version, int(i) + 1);
  EXPECT_EQ(LatestSchemaVersion(), 7);
}

TEST(StoreSchemaTest, OpenCreatesSchemaAtTheLatestVersionInWalMode) {
  SchemaTempDir dir;
  const std::string path = dir.File("runs.db");
  std::string error;
  ASSERT_NE(Store::Open(path, &error), nullptr) << error;
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "7");
  EXPECT_EQ(RawQuery(path, "PRAGMA journal_mode"), "wal");
  std::set<std::string> tables = TableNames(path);
  for (const char* t : {"runs", "calls", "turns", "expectations", "events", "metrics",
                        "histograms", "thresholds", "sweeps", "sweep_levels", "tool_calls",
                        "call_reports", "call_media"}) {
    EXPECT_TRUE(tables.count(t)) << t;
  }
}

TEST(StoreSchemaTest, ReopenIsIdempotentAndKeepsData) {
  SchemaTempDir dir;
  const std::string path = dir.File("runs.db");
  std::string error;
  {
    auto store = Store::Open(path, &error);
    ASSERT_NE(store, nullptr) << error;
    RunInfo run;
    run.scenario = "s";
    run.seed = 5;
    store->BeginRun(run);
  }
  const std::string schema_before = RawQuery(path, "SELECT group_concat(sql, ';') FROM sqlite_master");
  for (int i = 0; i < 2; ++i) {
    auto store = Store::Open(path, &error);
    ASSERT_NE(store, nullptr) << error;
    ASSERT_EQ(store->ListRuns().size(), 1u);
    EXPECT_EQ(store->ListRuns()[0].seed, 5u);
  }
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "7");
  EXPECT_EQ(RawQuery(path, "SELECT group_concat(sql, ';') FROM sqlite_master"), schema_before);
}

// A database written by a build that knew only version 1 (its exact schema, from migration 1),
// with a finished run in it.
void WriteVersionOneDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string v1(SchemaMigrations()[0].sql);
  ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  const char* fill =
      "PRAGMA user_version = 1;"
      "INSERT INTO runs (status, seed, mode, scenario, config_json, event_log_hash, exit_code) "
      "VALUES ('completed', 7, 'virtual', 'old.yaml', '{}', 'abc', 0);"
      "INSERT INTO metrics (run_id, name, value) VALUES (1, 'turn_latency_p95_ms', 1234.5);";
  ASSERT_EQ(sqlite3_exec(db, fill, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(StoreSchemaTest, UpgradesAVersionOneDatabaseKeepingItsRuns) {
  SchemaTempDir dir;
  const std::string path = dir.File("v1.db");
  WriteVersionOneDatabase(path);
  ASSERT_EQ(RawQuery(path, "PRAGMA user_version"), "1");
  ASSERT_EQ(TableNames(path).count("thresholds"), 0u);

  std::string error;
  auto store = Store::Open(path, &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "7");
  for (const char* t : {"thresholds", "sweeps", "sweep_levels", "tool_calls", "call_reports", "call_media"}) {
    EXPECT_TRUE(TableNames(path).count(t)) << t;
  }
  // The old run is intact and the new tables work against it.
  ASSERT_EQ(store->ListRuns().size(), 1u);
  EXPECT_EQ(store->ListRuns()[0].scenario, "old.yaml");
  EXPECT_EQ(store->LoadMetrics(1).at("turn_latency_p95_ms"), 1234.5);
  store->SetThresholds(1, {ThresholdRow{.metric = "turn_latency", .expression = "p(95)<1200",
                                        .observed_metric = "turn_latency_p95_ms",
                                        .observed = 1234.5, .passed = false}});
  ASSERT_EQ(store->LoadThresholds(1).size(), 1u);
  EXPECT_FALSE(store->LoadThresholds(1)[0].passed);
  // Opening again changes nothing more.
  const std::string schema = RawQuery(path, "SELECT group_concat(sql, ';') FROM sqlite_master");
  store.reset();
  ASSERT_NE(Store::Open(path, &error), nullptr) << error;
  EXPECT_EQ(RawQuery(path, "SELECT group_concat(sql, ';') FROM sqlite_master"), schema);
}

// A database a version 3 build wrote, with one finished run holding a call and its child rows.
void WriteVersionThreeDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (int i = 0; i < 3; ++i) {
    const std::string sql(SchemaMigrations()[i].sql);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << i;
  }
  const char* fill =
      "PRAGMA user_version = 3;"
      "INSERT INTO runs (status, seed, mode, scenario, config_json, event_log_hash, exit_code) "
      "VALUES ('aborted', 7, 'virtual', 'old.yaml', '{}', 'abc', 1);"
      "INSERT INTO calls VALUES (1, 0, 'old', 0, 900, 'completed', 1, NULL);"
      "INSERT INTO calls VALUES (1, 1, 'old', 0, 500, 'dropped', 0, 'run aborted');"
      "INSERT INTO turns VALUES (1, 0, 1, 'hi', 'hi', 1, 0, 0, 0, 812.5, 0, NULL);"
      "INSERT INTO events VALUES (1, 0, 0, 0, 'call', 'start', '{}');"
      "INSERT INTO call_reports VALUES (1, 0, '[]', 's', '[]', '{}', 0.01, 0);";
  ASSERT_EQ(sqlite3_exec(db, fill, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// Version 4 rebuilds the calls table (a new status in its CHECK): the children must survive.
TEST(StoreSchemaTest, UpgradesAVersionThreeDatabaseKeepingCallsAndTheirRows) {
  SchemaTempDir dir;
  const std::string path = dir.File("v3.db");
  WriteVersionThreeDatabase(path);
  std::string error;
  auto store = Store::Open(path, &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "7");
  EXPECT_EQ(RawQuery(path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM pragma_foreign_key_check"), "0");
  const std::vector<CallRow> calls = store->LoadCalls(1);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].status, "dropped");
  EXPECT_EQ(calls[1].failure_reason, "run aborted");
  ASSERT_EQ(store->LoadTurns(1).size(), 1u);
  EXPECT_EQ(store->LoadTurns(1)[0].turn_latency_ms, 812.5);
  EXPECT_EQ(store->LoadEvents(1, 0).size(), 1u);
  EXPECT_EQ(store->LoadCallReports(1).size(), 1u);
  const RunInfo run = *store->LoadRun(1);
  EXPECT_EQ(run.end_reason, "");
  EXPECT_EQ(run.calls_not_started, 0);
  // The rebuilt table keeps its index, its keys and its cascade.
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM sqlite_master WHERE name = 'calls_by_status'"),
            "1");
  CallRow aborted;
  aborted.run_id = 1;
  aborted.call_id = 2;
  aborted.scenario = "old";
  aborted.status = "aborted";
  store->AddCall(aborted, {}, {}, {});
  store->Flush();
  EXPECT_EQ(store->LoadCalls(1).size(), 3u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM calls WHERE call_id = 0",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(store->LoadTurns(1).empty());
  EXPECT_TRUE(store->LoadEvents(1, 0).empty());
}

// A database a version 4 build wrote: one run with a call (and an event), before recordings.
void WriteVersionFourDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (int i = 0; i < 4; ++i) {
    const std::string sql(SchemaMigrations()[i].sql);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << i;
  }
  const char* fill =
      "PRAGMA user_version = 4;"
      "INSERT INTO runs (status, seed, mode, scenario, config_json, event_log_hash, exit_code) "
      "VALUES ('completed', 7, 'virtual', 'old.yaml', '{}', 'abc', 99);"
      "INSERT INTO calls VALUES (1, 0, 'old', 0, 900, 'failed', 0, 'maximum call duration');"
      "INSERT INTO events VALUES (1, 0, 0, 0, 'call', 'start', '{}');";
  ASSERT_EQ(sqlite3_exec(db, fill, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// Version 5 adds calls.recording: the old calls read as not recorded, new ones keep their path.
TEST(StoreSchemaTest, UpgradesAVersionFourDatabaseWhoseCallsHaveNoRecording) {
  SchemaTempDir dir;
  const std::string path = dir.File("v4.db");
  WriteVersionFourDatabase(path);
  ASSERT_EQ(RawQuery(path, "SELECT count(*) FROM pragma_table_info('calls') WHERE name = "
                           "'recording'"),
            "0");
  std::string error;
  auto store = Store::Open(path, &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "7");
  EXPECT_EQ(RawQuery(path, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(RawQuery(path, "SELECT recording IS NULL FROM calls WHERE call_id = 0"), "1");
  std::vector<CallRow> calls = store->LoadCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].recording, "");
  EXPECT_EQ(calls[0].failure_reason, "maximum call duration");
  EXPECT_EQ(store->LoadEvents(1, 0).size(), 1u);
  CallRow recorded = calls[0];
  recorded.call_id = 1;
  recorded.recording = "v4.recordings/run-1/call-1.wav";
  store->AddCall(recorded, {}, {}, {});
  store->Flush();
  calls = store->LoadCalls(1);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].recording, "v4.recordings/run-1/call-1.wav");
}

TEST(StoreSchemaTest, RefusesDatabaseFromNewerBuild) {
  SchemaTempDir dir;
  const std::string path = dir.File("future.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 999", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  std::string error;
  EXPECT_EQ(Store::Open(path, &error), nullptr);
  EXPECT_NE(error.find("999"), std::string::npos) << error;
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_EQ(RawQuery(path, "PRAGMA user_version"), "999");  // left untouched
  EXPECT_EQ(TableNames(path), std::set<std::string>{"future"});
}

TEST(StoreSchemaTest, RefusesFileThatIsNotADatabase) {
  SchemaTempDir dir;
  const std::string path = dir.File("notes.txt");
  std::ofstream(path) << "this is not an sqlite database, just some text that is long enough";
  std::string error;
  EXPECT_EQ(Store::Open(path, &error), nullptr);
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

}  // namespace
}  // namespace callsim::harness
