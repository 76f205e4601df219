#include "harness/store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <map>
#include <filesystem>
#include <string>
#include <vector>

namespace callsim::harness {
namespace {

class StoreTempDir {
 public:
  StoreTempDir() {
    char tmpl[] = "/tmp/callsim_store_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~StoreTempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::unique_ptr<Store> OpenOrDie(const std::string& path, StoreOptions options = {}) {
  std::string error;
  auto store = Store::Open(path, options, &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

RunInfo MakeRun() {
  RunInfo run;
  run.started_at = "2026-01-02T03:04:05Z";
  run.seed = 0xfedcba9876543210ULL;  // above INT64_MAX: must survive the signed column
  run.mode = "realtime";
  run.scenario = "scenarios/order_status.yaml";
  run.config_json = R"({"codec":"pcmu","load":{"callers":3}})";
  return run;
}

CallRow MakeCall(int64_t run_id, int64_t call_id) {
  CallRow c;
  c.run_id = run_id;
  c.call_id = call_id;
  c.scenario = "order_status";
  c.started_ms = 1000.25 * call_id;
  c.ended_ms = c.started_ms + 8123.5;
  c.status = call_id % 2 ? "completed" : "failed";
  c.task_completed = call_id % 2 == 1;
  c.failure_reason = call_id % 2 ? "" : "turn 1: agent_says missed";
  return c;
}

std::vector<TurnRow> MakeTurns(int64_t run_id, int64_t call_id) {
  TurnRow a;
  a.run_id = run_id;
  a.call_id = call_id;
  a.turn_index = 0;
  a.reference_text = "";
  a.hypothesis_text = "";
  a.turn_latency_ms = 812.375;
  TurnRow b = a;
  b.turn_index = 1;
  b.reference_text = "i want to check on order number four five six seven";
  b.hypothesis_text = "i want to check an order number four five seven";
  b.ref_words = 11;
  b.substitutions = 1;
  b.deletions = 1;
  b.insertions = 0;
  b.turn_latency_ms = std::nullopt;
  b.barge_in = true;
  b.barge_in_stop_ms = 187.5;
  return {a, b};
}

std::vector<ExpectationRow> MakeExpectations(int64_t run_id, int64_t call_id) {
  ExpectationRow e;
  e.run_id = run_id;
  e.call_id = call_id;
  e.turn_index = 1;
  e.kind = "tool_call";
  e.passed = true;
  e.detail = "check_order_status(4567)";
  ExpectationRow f = e;
  f.kind = "agent_says";
  f.passed = false;
  f.detail = "expected \"shipped\", heard \"it's on the way\"";
  e.seq = 0;
  f.seq = 1;
  return {e, f};
}

std::vector<EventRow> MakeEvents(int64_t run_id, int64_t call_id, int count = 3) {
  std::vector<EventRow> events;
  for (int i = 0; i < count; ++i) {
    EventRow e;
    e.run_id = run_id;
    e.call_id = call_id;
    e.seq = i;
    e.t_ms = 20.0 * i + 0.125;
    e.source = i % 2 ? "agent" : "caller";
    e.kind = "state";
    e.detail_json = R"({"to":"listening","i":)" + std::to_string(i) + "}";
    events.push_back(e);
  }
  return events;
}

void AddFullCall(Store& store, int64_t run_id, int64_t call_id) {
  store.AddCall(MakeCall(run_id, call_id), MakeTurns(run_id, call_id),
                MakeExpectations(run_id, call_id), MakeEvents(run_id, call_id));
}

std::vector<int64_t> CallIds(const Store& store, int64_t run_id) {
  std::vector<int64_t> ids;
  for (const CallRow& c : store.LoadCalls(run_id)) ids.push_back(c.call_id);
  return ids;
}

// True for "YYYY-MM-DDTHH:MM:SSZ". A plain loop: a fixed shape needs no regular expression.
bool IsIsoUtcSecond(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool ok = shape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(s[i])) != 0 : s[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string result;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

TEST(StoreTest, RoundTripsEveryColumnOfEveryTable) {
  StoreTempDir dir;
  StoreOptions options;
  options.stamp_wall_time = false;  // so finished_at has a known value (none)
  auto store = OpenOrDie(dir.File("runs.db"), options);
  const RunInfo run = MakeRun();
  const int64_t run_id = store->BeginRun(run);
  EXPECT_GT(run_id, 0);
  AddFullCall(*store, run_id, 1);
  AddFullCall(*store, run_id, 2);
  store->SetMetric(run_id, "wer", 0.5);
  store->SetMetric(run_id, "wer", 0.0625);  // replaces
  store->SetMetric(run_id, "turn_latency_p95_ms", 1210.5);
  const std::string blob("\x00\x01\xff hdr\x00", 8);
  store->SetHistogram(run_id, "turn_latency_ms", blob);
  store->SetHistogram(run_id, "empty", "");
  store->FinishRun(run_id, "failed", "fnv1a64:0123456789abcdef", 99);

  RunInfo want = run;
  want.run_id = run_id;
  want.status = "failed";
  want.event_log_hash = "fnv1a64:0123456789abcdef";
  want.exit_code = 99;
  ASSERT_EQ(store->ListRuns().size(), 1u);
  EXPECT_EQ(store->ListRuns()[0], want);
  EXPECT_EQ(store->LoadRun(run_id), want);
  EXPECT_EQ(store->LatestRunId(), run_id);

  EXPECT_EQ(store->LoadCalls(run_id), (std::vector<CallRow>{MakeCall(run_id, 1), MakeCall(run_id, 2)}));
  std::vector<TurnRow> turns = MakeTurns(run_id, 1);
  for (const TurnRow& t : MakeTurns(run_id, 2)) turns.push_back(t);
  EXPECT_EQ(store->LoadTurns(run_id), turns);
  std::vector<ExpectationRow> expectations = MakeExpectations(run_id, 1);
  for (const ExpectationRow& e : MakeExpectations(run_id, 2)) expectations.push_back(e);
  EXPECT_EQ(store->LoadExpectations(run_id), expectations);
  EXPECT_EQ(store->LoadFailedExpectations(run_id, 10),
            (std::vector<ExpectationRow>{expectations[1], expectations[3]}));
  EXPECT_EQ(store->LoadFailedExpectations(run_id, 1).size(), 1u);
  EXPECT_EQ(store->LoadEvents(run_id, 2), MakeEvents(run_id, 2));
  EXPECT_EQ(store->LoadMetrics(run_id),
            (std::map<std::string, double>{{"turn_latency_p95_ms", 1210.5}, {"wer", 0.0625}}));
  EXPECT_EQ(store->LoadHistogram(run_id, "turn_latency_ms"), blob);
  EXPECT_EQ(store->LoadHistogram(run_id, "empty"), std::string());
  EXPECT_EQ(store->LoadHistogram(run_id, "missing"), std::nullopt);
}

// calls.recording: a path round-trips, an empty one is stored as NULL and reads back empty.
TEST(StoreTest, ACallsRecordingRoundTripsAndNoneIsNull) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  auto store = OpenOrDie(path);
  const int64_t run_id = store->BeginRun(MakeRun());
  CallRow recorded = MakeCall(run_id, 1);
  recorded.recording = "runs.recordings/run-1/call-1.wav";
  store->AddCall(recorded, {}, {}, {});
  store->AddCall(MakeCall(run_id, 2), {}, {}, {});
  store->Flush();
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], recorded);
  EXPECT_EQ(calls[1].recording, "");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT call_id, recording IS NULL FROM calls ORDER BY call_id",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  std::vector<int> nulls;
  while (sqlite3_step(stmt) == SQLITE_ROW) nulls.push_back(sqlite3_column_int(stmt, 1));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_EQ(nulls, (std::vector<int>{0, 1}));
}

// call_media: rows of a SIP call's media round-trip with the call's ids, NULLs stay NULL, and a
// row the schema refuses (a fraction above 1) leaves its whole call out.
TEST(StoreTest, CallMediaRowsRoundTripAndABadRowLeavesItsCallOut) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  CallMediaRow receiver;
  receiver.direction = "downlink";
  receiver.measured_by = "receiver";
  receiver.packets_expected = 1500;
  receiver.packets_lost = 31;
  receiver.fraction_lost = 31.0 / 1500;
  receiver.jitter_ms = 4.25;
  receiver.concealed_frames = 40;
  receiver.late_dropped = 2;
  receiver.srtp_auth_failures = 1;
  receiver.srtp_replays = 3;
  CallMediaRow rtcp;
  rtcp.direction = "uplink";
  rtcp.measured_by = "rtcp";
  rtcp.packets_expected = 1499;
  rtcp.packets_lost = -1;  // a duplicate
  rtcp.jitter_ms = 0.5;
  store->AddCall(MakeCall(run_id, 4), {}, {}, {}, {}, {receiver, rtcp});
  CallMediaRow bad = rtcp;
  bad.fraction_lost = 1.5;
  store->AddCall(MakeCall(run_id, 5), {}, {}, {}, {}, {bad});
  EXPECT_THROW(store->Flush(), StoreError);
  const std::vector<CallMediaRow> media = store->LoadCallMedia(run_id);
  ASSERT_EQ(media.size(), 2u);
  receiver.run_id = rtcp.run_id = run_id;
  receiver.call_id = rtcp.call_id = 4;
  EXPECT_EQ(media[0], receiver);  // downlink sorts first
  EXPECT_EQ(media[1], rtcp);
  EXPECT_FALSE(media[1].concealed_frames.has_value());
  EXPECT_EQ(store->LoadCalls(run_id).size(), 1u);
}

TEST(StoreTest, UsesTheCallsIdsForChildRowsAndNumbersExpectations) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  std::vector<ExpectationRow> expectations = MakeExpectations(/*run_id=*/77, /*call_id=*/88);
  expectations[0].seq = 40;
  expectations[1].seq = 40;
  store->AddCall(MakeCall(run_id, 5), MakeTurns(0, 0), expectations, MakeEvents(0, 0));
  store->Flush();
  auto loaded = store->LoadExpectations(run_id);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].call_id, 5);
  EXPECT_EQ(loaded[0].seq, 0);
  EXPECT_EQ(loaded[1].seq, 1);
  EXPECT_EQ(store->LoadTurns(run_id).at(1).call_id, 5);
  EXPECT_EQ(store->LoadEvents(run_id, 5).size(), 3u);
}

TEST(StoreTest, StampsWallTimeWhenAskedAndKeepsAGivenStart) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  RunInfo run = MakeRun();
  run.started_at = "";
  const int64_t stamped = store->BeginRun(run);
  const int64_t given = store->BeginRun(MakeRun());
  store->FinishRun(stamped, "completed", "h", 0);
  EXPECT_TRUE(IsIsoUtcSecond(store->LoadRun(stamped)->started_at));
  EXPECT_TRUE(IsIsoUtcSecond(store->LoadRun(stamped)->finished_at));
  EXPECT_FALSE(IsIsoUtcSecond("2026-01-02 03:04:05"));
  EXPECT_EQ(store->LoadRun(given)->started_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(store->LoadRun(given)->finished_at, "");
  EXPECT_EQ(store->LatestRunId(), given);
}

TEST(StoreTest, BufferedCallsAreInvisibleToAnotherConnectionUntilFlush) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  auto writer = OpenOrDie(path);
  auto reader = OpenOrDie(path);
  const int64_t run_id = writer->BeginRun(MakeRun());
  EXPECT_EQ(reader->LatestRunId(), run_id);  // BeginRun commits at once
  for (int64_t id = 1; id <= 3; ++id) AddFullCall(*writer, run_id, id);
  EXPECT_EQ(writer->buffered_calls(), 3u);
  EXPECT_TRUE(reader->LoadCalls(run_id).empty());
  EXPECT_TRUE(reader->LoadTurns(run_id).empty());
  writer->Flush();
  EXPECT_EQ(writer->buffered_calls(), 0u);
  EXPECT_EQ(CallIds(*reader, run_id), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(reader->LoadTurns(run_id).size(), 6u);
  EXPECT_EQ(reader->LoadEvents(run_id, 3).size(), 3u);
}

TEST(StoreTest, CommitsByItselfWhenTheBatchIsFull) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  StoreOptions options;
  options.batch_calls = 3;
  auto writer = OpenOrDie(path, options);
  auto reader = OpenOrDie(path);
  const int64_t run_id = writer->BeginRun(MakeRun());
  AddFullCall(*writer, run_id, 1);
  AddFullCall(*writer, run_id, 2);
  EXPECT_TRUE(reader->LoadCalls(run_id).empty());
  AddFullCall(*writer, run_id, 3);
  EXPECT_EQ(writer->buffered_calls(), 0u);
  EXPECT_EQ(CallIds(*reader, run_id), (std::vector<int64_t>{1, 2, 3}));
  AddFullCall(*writer, run_id, 4);
  EXPECT_EQ(writer->buffered_calls(), 1u);
  EXPECT_EQ(reader->LoadCalls(run_id).size(), 3u);
}

TEST(StoreTest, CommitsByItselfWhenTheBufferedRowsReachTheBound) {
  StoreTempDir dir;
  StoreOptions options;
  options.batch_rows = 20;  // each call below holds 2 turns + 2 expectations + 6 events = 10 rows
  auto store = OpenOrDie(dir.File("runs.db"), options);
  const int64_t run_id = store->BeginRun(MakeRun());
  auto add = [&](int64_t id) {
    store->AddCall(MakeCall(run_id, id), MakeTurns(run_id, id), MakeExpectations(run_id, id),
                   MakeEvents(run_id, id, 6));
  };
  add(1);
  EXPECT_EQ(store->buffered_calls(), 1u);
  add(2);
  EXPECT_EQ(store->buffered_calls(), 0u);
  add(3);
  EXPECT_EQ(store->buffered_calls(), 1u);
}

TEST(StoreTest, ACrashedWriterLeavesExactlyTheFlushedCalls) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  // The child owns the only connection; it dies without destructors, FinishRun or a checkpoint.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string error;
    auto store = Store::Open(path, &error);
    if (!store) _exit(3);
    const int64_t run_id = store->BeginRun(MakeRun());
    for (int64_t id = 1; id <= 3; ++id) AddFullCall(*store, run_id, id);
    store->Flush();
    for (int64_t id = 4; id <= 5; ++id) AddFullCall(*store, run_id, id);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);

  EXPECT_EQ(IntegrityCheck(path), "ok");
  auto store = OpenOrDie(path);
  const std::optional<int64_t> run_id = store->LatestRunId();
  ASSERT_TRUE(run_id.has_value());
  EXPECT_EQ(CallIds(*store, *run_id), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(store->LoadTurns(*run_id).size(), 6u);
  EXPECT_EQ(store->LoadExpectations(*run_id).size(), 6u);
  EXPECT_TRUE(store->LoadEvents(*run_id, 4).empty());
  const RunInfo run = *store->LoadRun(*run_id);
  EXPECT_EQ(run.status, "running");
  EXPECT_EQ(run.finished_at, "");
  EXPECT_EQ(run.exit_code, std::nullopt);
}

TEST(StoreTest, DestroyingWithoutFinishKeepsTheRunRunningWithFlushedCallsOnly) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  int64_t run_id = 0;
  {
    auto store = OpenOrDie(path);
    run_id = store->BeginRun(MakeRun());
    AddFullCall(*store, run_id, 1);
    AddFullCall(*store, run_id, 2);
    store->Flush();
    AddFullCall(*store, run_id, 3);
  }
  EXPECT_EQ(IntegrityCheck(path), "ok");
  auto store = OpenOrDie(path);
  EXPECT_EQ(CallIds(*store, run_id), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(store->LoadRun(run_id)->status, "running");
}

TEST(StoreTest, FinishRunFlushesAndRecordsTheOutcome) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  AddFullCall(*store, run_id, 1);
  store->FinishRun(run_id, "completed", "abc", 0);
  EXPECT_EQ(CallIds(*store, run_id), (std::vector<int64_t>{1}));
  const RunInfo run = *store->LoadRun(run_id);
  EXPECT_EQ(run.status, "completed");
  EXPECT_EQ(run.event_log_hash, "abc");
  EXPECT_EQ(run.exit_code, 0);
}

TEST(StoreTest, FinishRunRecordsWhyTheRunEndedAndTheCallsNotStarted) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  CallRow cut = MakeCall(run_id, 1);
  cut.status = "aborted";
  cut.failure_reason = "run aborted";
  store->AddCall(cut, {}, {}, {});
  store->FinishRun(run_id, RunOutcome{"aborted", "h", 1, "run aborted (SIGINT or SIGTERM)", 42});
  const RunInfo run = *store->LoadRun(run_id);
  EXPECT_EQ(run.status, "aborted");
  EXPECT_EQ(run.end_reason, "run aborted (SIGINT or SIGTERM)");
  EXPECT_EQ(run.calls_not_started, 42);
  ASSERT_EQ(store->LoadCalls(run_id).size(), 1u);
  EXPECT_EQ(store->LoadCalls(run_id)[0].status, "aborted");
}

// Another connection holds the write lock past the wait bound: nothing is lost, the calls wait
// in the buffer and the next Flush writes them.
TEST(StoreTest, ACommitThatCannotGetTheLockKeepsTheCallsBuffered) {
  StoreTempDir dir;
  const std::string path = dir.File("runs.db");
  StoreOptions options;
  options.lock_wait_ms = 200;
  auto store = OpenOrDie(path, options);
  const int64_t run_id = store->BeginRun(MakeRun());
  AddFullCall(*store, run_id, 1);
  AddFullCall(*store, run_id, 2);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    store->Flush();
    FAIL() << "the flush got past a held lock";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.sqlite_code() & 0xff, SQLITE_BUSY) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 buffered calls are not stored yet"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store->buffered_calls(), 2u);
  EXPECT_THROW(store->FinishRun(run_id, "completed", "h", 0), StoreError);
  EXPECT_EQ(store->LoadRun(run_id)->status, "running");
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  store->FinishRun(run_id, "completed", "h", 0);
  EXPECT_EQ(store->buffered_calls(), 0u);
  EXPECT_EQ(CallIds(*store, run_id), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(store->LoadRun(run_id)->status, "completed");
}

TEST(StoreTest, CheckConstraintRejectsABadRunStatusOrMode) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  try {
    store->FinishRun(run_id, "done", "h", 0);
    FAIL() << "a bad status was accepted";
  } catch (const StoreError& e) {
    EXPECT_EQ(e.sqlite_code(), SQLITE_CONSTRAINT_CHECK);
    EXPECT_NE(std::string(e.what()).find("CHECK constraint failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("UPDATE runs"), std::string::npos) << e.what();
  }
  EXPECT_EQ(store->LoadRun(run_id)->status, "running");
  RunInfo bad = MakeRun();
  bad.mode = "turbo";
  EXPECT_THROW(store->BeginRun(bad), StoreError);
  EXPECT_EQ(store->ListRuns().size(), 1u);
  EXPECT_THROW(store->FinishRun(run_id + 100, "completed", "h", 0), StoreError);
}

TEST(StoreTest, ABadCallIsLeftOutWholeAndTheRestOfTheBatchIsKept) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  AddFullCall(*store, run_id, 1);
  CallRow bad = MakeCall(run_id, 2);
  bad.status = "exploded";
  store->AddCall(bad, MakeTurns(run_id, 2), MakeExpectations(run_id, 2), MakeEvents(run_id, 2));
  std::vector<TurnRow> impossible = MakeTurns(run_id, 3);
  impossible[1].substitutions = 12;  // more than the 11 reference words
  store->AddCall(MakeCall(run_id, 3), impossible, {}, {});
  AddFullCall(*store, run_id, 4);
  try {
    store->Flush();
    FAIL() << "bad calls were accepted";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("2 of 4 calls were rejected"), std::string::npos) << what;
    EXPECT_NE(what.find("call 2 of run"), std::string::npos) << what;
    EXPECT_NE(what.find("INSERT INTO calls"), std::string::npos) << what;
  }
  EXPECT_EQ(store->buffered_calls(), 0u);
  EXPECT_EQ(CallIds(*store, run_id), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(store->LoadTurns(run_id).size(), 4u);  // none of call 2's or call 3's
  EXPECT_TRUE(store->LoadEvents(run_id, 2).empty());
  AddFullCall(*store, run_id, 1);  // a duplicate id is rejected the same way
  EXPECT_THROW(store->Flush(), StoreError);
  EXPECT_EQ(store->LoadExpectations(run_id).size(), 4u);
}

TEST(StoreTest, KeepsRunsApartInOneFile) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t first = store->BeginRun(MakeRun());
  const int64_t second = store->BeginRun(MakeRun());
  AddFullCall(*store, first, 1);
  AddFullCall(*store, second, 1);
  AddFullCall(*store, second, 2);
  store->Flush();
  store->SetMetric(second, "wer", 0.25);
  EXPECT_EQ(CallIds(*store, first), (std::vector<int64_t>{1}));
  EXPECT_EQ(CallIds(*store, second), (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(store->LoadMetrics(first).empty());
  EXPECT_EQ(store->LatestRunId(), second);
  EXPECT_EQ(store->ListRuns().size(), 2u);
}

TEST(StoreTest, ThresholdRowsRoundTripAndReplaceTheRunsEarlierOnes) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  const int64_t other = store->BeginRun(MakeRun());
  std::vector<ThresholdRow> rows = {
      {.metric = "turn_latency", .expression = "p(95)<1200", .observed_metric = "turn_latency_p95_ms",
       .observed = 1143.25, .passed = true},
      {.metric = "heard_wer", .expression = "value<0.1", .observed_metric = "heard_wer",
       .observed = std::nan(""), .passed = false},  // no data: NULL, read back as NaN
      {.metric = "dropped_calls", .expression = "count==0", .observed_metric = "dropped_calls_count",
       .observed = 2, .passed = false},
  };
  store->SetThresholds(run_id, rows);
  store->SetThresholds(other, {rows[0]});
  std::vector<ThresholdRow> want = rows;
  for (size_t i = 0; i < want.size(); ++i) {
    want[i].run_id = run_id;
    want[i].seq = static_cast<int64_t>(i);
  }
  EXPECT_EQ(store->LoadThresholds(run_id), want);
  EXPECT_TRUE(std::isnan(store->LoadThresholds(run_id)[1].observed));
  // Setting again replaces, it does not append; other runs keep theirs.
  store->SetThresholds(run_id, {rows[2]});
  ASSERT_EQ(store->LoadThresholds(run_id).size(), 1u);
  EXPECT_EQ(store->LoadThresholds(run_id)[0].expression, "count==0");
  EXPECT_EQ(store->LoadThresholds(run_id)[0].seq, 0);
  EXPECT_EQ(store->LoadThresholds(other).size(), 1u);
  EXPECT_THROW(store->SetThresholds(run_id + 100, rows), StoreError);  // no such run
  EXPECT_EQ(store->LoadThresholds(run_id).size(), 1u);                 // all or nothing
}

TEST(StoreTest, SetMetricsWritesManyAtOnceWithNaNAsNull) {
  StoreTempDir dir;
  auto store = OpenOrDie(dir.File("runs.db"));
  const int64_t run_id = store->BeginRun(MakeRun());
  store->SetMetric(run_id, "wer", 0.5);
  store->SetMetrics(run_id, {{"wer", 0.25}, {"calls_total", 20}, {"heard_wer", std::nan("")}});
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.at("wer"), 0.25);
  EXPECT_EQ(m.at("calls_total"), 20);
  EXPECT_TRUE(std::isnan(m.at("heard_wer")));
}

TEST(StoreTest, SweepsAndTheirLevelsRoundTrip) {
  StoreTempDir dir;
  StoreOptions options;
  options.stamp_wall_time = false;
  auto store = OpenOrDie(dir.File("runs.db"), options);
  const int64_t run_a = store->BeginRun(MakeRun());
  const int64_t run_b = store->BeginRun(MakeRun());
  SweepRow sweep;
  sweep.name = "llm_capacity";
  sweep.scenario = "scenarios/order_status.yaml";
  sweep.parameter = "load.callers";
  sweep.seed = 0xfedcba9876543210ULL;
  sweep.plan_json = R"({"levels":[10,50]})";
  const int64_t sweep_id = store->BeginSweep(sweep);
  EXPECT_EQ(store->LatestSweepId(), sweep_id);
  std::optional<SweepRow> running = store->LoadSweep(sweep_id);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->status, "running");
  EXPECT_FALSE(running->knee);

  const SweepLevelRow level_a{sweep_id, 0, 10, run_a, true, R"([{"passed":true}])"};
  const SweepLevelRow level_b{sweep_id, 1, 50, run_b, false, "[]"};
  store->AddSweepLevel(level_a);
  store->AddSweepLevel(level_b);
  store->FinishSweep(sweep_id, "completed", 10.0);
  EXPECT_EQ(store->LoadSweepLevels(sweep_id), (std::vector<SweepLevelRow>{level_a, level_b}));
  SweepRow want = sweep;
  want.sweep_id = sweep_id;
  want.status = "completed";
  want.knee = 10.0;
  EXPECT_EQ(store->LoadSweep(sweep_id), want);
  EXPECT_EQ(store->ListSweeps(), std::vector<SweepRow>{want});

  EXPECT_THROW(store->FinishSweep(sweep_id + 1, "completed", std::nullopt), StoreError);
  EXPECT_THROW(store->FinishSweep(sweep_id, "finished", std::nullopt), StoreError);  // bad status
  EXPECT_THROW(store->AddSweepLevel(SweepLevelRow{sweep_id, 2, 90, run_b + 50, true, "[]"}),
               StoreError);  // no such run
  EXPECT_FALSE(store->LoadSweep(sweep_id + 1));
}

}  // namespace
}  // namespace callsim::harness
