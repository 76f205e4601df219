#include "harness/store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>

#include "harness/store/schema.h"
#include "harness/store/sqlite_db.h"

namespace callsim::harness {
namespace {

constexpr const char* kNowUtc = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
constexpr const char* kRunColumns =
    "SELECT run_id, started_at, finished_at, status, seed, mode, scenario, config_json, "
    "event_log_hash, exit_code, end_reason, calls_not_started FROM runs ";

std::string InsertRunSql() {
  return std::string("INSERT INTO runs (started_at, status, seed, mode, scenario, config_json) ") +
         "VALUES (COALESCE(NULLIF(?1, ''), CASE WHEN ?2 THEN " + kNowUtc +
         " END), 'running', ?3, ?4, ?5, ?6)";
}

std::string FinishRunSql() {
  return std::string("UPDATE runs SET status = ?1, event_log_hash = ?2, exit_code = ?3, ") +
         "finished_at = CASE WHEN ?4 THEN " + kNowUtc + " ELSE finished_at END, " +
         "end_reason = NULLIF(?6, ''), calls_not_started = ?7 WHERE run_id = ?5";
}

std::string InsertSweepSql() {
  return std::string("INSERT INTO sweeps (name, scenario, parameter, seed, plan_json, status, ") +
         "started_at) VALUES (?1, ?2, ?3, ?4, ?5, 'running', CASE WHEN ?6 THEN " + kNowUtc +
         " END)";
}

std::string FinishSweepSql() {
  return std::string("UPDATE sweeps SET status = ?1, knee = ?2, ") +
         "finished_at = CASE WHEN ?3 THEN " + kNowUtc + " ELSE finished_at END WHERE sweep_id = ?4";
}

constexpr const char* kSweepColumns =
    "SELECT sweep_id, name, scenario, parameter, seed, plan_json, status, knee, started_at, "
    "finished_at FROM sweeps ";

SweepRow ReadSweep(const Statement& s) {
  SweepRow r;
  r.sweep_id = s.ColumnInt(0);
  r.name = s.ColumnText(1);
  r.scenario = s.ColumnText(2);
  r.parameter = s.ColumnText(3);
  r.seed = static_cast<uint64_t>(s.ColumnInt(4));
  r.plan_json = s.ColumnText(5);
  r.status = s.ColumnText(6);
  r.knee = s.ColumnOptionalDouble(7);
  r.started_at = s.ColumnText(8);
  r.finished_at = s.ColumnText(9);
  return r;
}

RunInfo ReadRun(const Statement& s) {
  RunInfo r;
  r.run_id = s.ColumnInt(0);
  r.started_at = s.ColumnText(1);
  r.finished_at = s.ColumnText(2);
  r.status = s.ColumnText(3);
  r.seed = static_cast<uint64_t>(s.ColumnInt(4));  // stored as the same 64 bits, signed
  r.mode = s.ColumnText(5);
  r.scenario = s.ColumnText(6);
  r.config_json = s.ColumnText(7);
  r.event_log_hash = s.ColumnText(8);
  if (!s.ColumnIsNull(9)) r.exit_code = static_cast<int>(s.ColumnInt(9));
  r.end_reason = s.ColumnText(10);
  r.calls_not_started = s.ColumnInt(11);
  return r;
}

ExpectationRow ReadExpectation(const Statement& s) {
  ExpectationRow e;
  e.run_id = s.ColumnInt(0);
  e.call_id = s.ColumnInt(1);
  e.seq = s.ColumnInt(2);
  e.turn_index = static_cast<int>(s.ColumnInt(3));
  e.kind = s.ColumnText(4);
  e.passed = s.ColumnInt(5) != 0;
  e.detail = s.ColumnText(6);
  return e;
}

CallRow ReadCall(const Statement& s) {
  CallRow c;
  c.run_id = s.ColumnInt(0);
  c.call_id = s.ColumnInt(1);
  c.scenario = s.ColumnText(2);
  c.started_ms = s.ColumnDouble(3);
  c.ended_ms = s.ColumnDouble(4);
  c.status = s.ColumnText(5);
  c.task_completed = s.ColumnInt(6) != 0;
  c.failure_reason = s.ColumnText(7);
  c.recording = s.ColumnText(8);
  c.event_hash = s.ColumnText(9);
  return c;
}

TurnRow ReadTurn(const Statement& s) {
  TurnRow t;
  t.run_id = s.ColumnInt(0);
  t.call_id = s.ColumnInt(1);
  t.turn_index = static_cast<int>(s.ColumnInt(2));
  t.reference_text = s.ColumnText(3);
  t.hypothesis_text = s.ColumnText(4);
  t.ref_words = s.ColumnInt(5);
  t.substitutions = s.ColumnInt(6);
  t.deletions = s.ColumnInt(7);
  t.insertions = s.ColumnInt(8);
  t.turn_latency_ms = s.ColumnOptionalDouble(9);
  t.barge_in = s.ColumnInt(10) != 0;
  t.barge_in_stop_ms = s.ColumnOptionalDouble(11);
  return t;
}

EventRow ReadEvent(const Statement& s) {
  EventRow e;
  e.run_id = s.ColumnInt(0);
  e.call_id = s.ColumnInt(1);
  e.seq = s.ColumnInt(2);
  e.t_ms = s.ColumnDouble(3);
  e.source = s.ColumnText(4);
  e.kind = s.ColumnText(5);
  e.detail_json = s.ColumnText(6);
  return e;
}

ToolCallRow ReadToolCall(const Statement& s) {
  ToolCallRow t;
  t.run_id = s.ColumnInt(0);
  t.call_id = s.ColumnInt(1);
  t.seq = s.ColumnInt(2);
  t.t_ms = s.ColumnDouble(3);
  t.tool_call_id = s.ColumnText(4);
  t.name = s.ColumnText(5);
  t.arguments_json = s.ColumnText(6);
  t.decision = s.ColumnText(7);
  t.reason = s.ColumnText(8);
  t.result_json = s.ColumnText(9);
  t.duration_ms = s.ColumnDouble(10);
  t.confirmed = s.ColumnInt(11) != 0;
  return t;
}

CallMediaRow ReadCallMedia(const Statement& s) {
  CallMediaRow m;
  m.run_id = s.ColumnInt(0);
  m.call_id = s.ColumnInt(1);
  m.direction = s.ColumnText(2);
  m.measured_by = s.ColumnText(3);
  m.packets_expected = s.ColumnDouble(4);
  m.packets_lost = s.ColumnDouble(5);
  m.fraction_lost = s.ColumnDouble(6);
  m.jitter_ms = s.ColumnDouble(7);
  m.concealed_frames = s.ColumnOptionalDouble(8);
  m.late_dropped = s.ColumnOptionalDouble(9);
  m.srtp_auth_failures = s.ColumnInt(10);
  m.srtp_replays = s.ColumnInt(11);
  return m;
}

CallReportRow ReadCallReport(const Statement& s) {
  CallReportRow r;
  r.run_id = s.ColumnInt(0);
  r.call_id = s.ColumnInt(1);
  r.transcript_json = s.ColumnText(2);
  r.summary = s.ColumnText(3);
  r.action_items_json = s.ColumnText(4);
  r.cost_json = s.ColumnText(5);
  r.total_cost_usd = s.ColumnDouble(6);
  r.redactions = s.ColumnInt(7);
  return r;
}

ThresholdRow ReadThreshold(const Statement& s) {
  ThresholdRow t;
  t.run_id = s.ColumnInt(0);
  t.seq = s.ColumnInt(1);
  t.metric = s.ColumnText(2);
  t.expression = s.ColumnText(3);
  t.observed_metric = s.ColumnText(4);
  t.observed = s.ColumnDouble(5);  // NULL reads as NaN
  t.passed = s.ColumnInt(6) != 0;
  return t;
}

SweepLevelRow ReadSweepLevel(const Statement& s) {
  SweepLevelRow l;
  l.sweep_id = s.ColumnInt(0);
  l.seq = s.ColumnInt(1);
  l.level = s.ColumnDouble(2);
  l.run_id = s.ColumnInt(3);
  l.slo_met = s.ColumnInt(4) != 0;
  l.slo_json = s.ColumnText(5);
  return l;
}

std::pair<std::string, double> ReadMetric(const Statement& s) {
  return {s.ColumnText(0), s.ColumnDouble(1)};
}

// "SELECT max(id)": one row, NULL while the table is empty.
std::optional<int64_t> ReadMaxId(Statement& s) {
  const std::optional<std::optional<int64_t>> row =
      ReadFirstRow(s, [](const Statement& r) -> std::optional<int64_t> {
        if (r.ColumnIsNull(0)) return std::nullopt;
        return r.ColumnInt(0);
      });
  if (!row) return std::nullopt;
  return *row;
}

void ConfigureConnection(SqliteDb& db, const StoreOptions& options) {
  db.SetLockWait(SqliteDb::LockWait{options.lock_wait_ms, options.lock_backoff_first_ms,
                                    options.lock_backoff_max_ms});
  // journal_mode answers "memory" for :memory: databases, which cannot use WAL; that is fine.
  db.QueryText("PRAGMA journal_mode = WAL");
  db.Exec("PRAGMA synchronous = NORMAL");
  db.Exec("PRAGMA foreign_keys = ON");
}

}  // namespace

struct Store::Statements {
  explicit Statements(SqliteDb& db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        savepoint(db, "SAVEPOINT call"),
        release(db, "RELEASE call"),
        rollback_to(db, "ROLLBACK TO call"),
        insert_run(db, InsertRunSql()),
        finish_run(db, FinishRunSql()),
        insert_call(db,
                    "INSERT INTO calls (run_id, call_id, scenario, started_ms, ended_ms, status, "
                    "task_completed, failure_reason, recording, event_hash) VALUES (?1, ?2, ?3, ?4, "
                    "?5, ?6, ?7, NULLIF(?8, ''), NULLIF(?9, ''), NULLIF(?10, ''))"),
        insert_turn(db,
                    "INSERT INTO turns (run_id, call_id, turn_index, reference_text, "
                    "hypothesis_text, ref_words, substitutions, deletions, insertions, "
                    "turn_latency_ms, barge_in, barge_in_stop_ms) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        insert_expectation(db,
                           "INSERT INTO expectations (run_id, call_id, seq, turn_index, kind, "
                           "passed, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        insert_event(db,
                     "INSERT INTO events (run_id, call_id, seq, t_ms, source, kind, detail_json) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        insert_tool_call(db,
                         "INSERT INTO tool_calls (run_id, call_id, seq, t_ms, tool_call_id, name, "
                         "arguments_json, decision, reason, result_json, duration_ms, confirmed) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        insert_report(db,
                      "INSERT INTO call_reports (run_id, call_id, transcript_json, summary, "
                      "action_items_json, cost_json, total_cost_usd, redactions) VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        insert_media(db,
                     "INSERT INTO call_media (run_id, call_id, direction, measured_by, "
                     "packets_expected, packets_lost, fraction_lost, jitter_ms, concealed_frames, "
                     "late_dropped, srtp_auth_failures, srtp_replays) VALUES (?1, ?2, ?3, ?4, ?5, "
                     "?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        load_media(db,
                   "SELECT run_id, call_id, direction, measured_by, packets_expected, "
                   "packets_lost, fraction_lost, jitter_ms, concealed_frames, late_dropped, "
                   "srtp_auth_failures, srtp_replays FROM call_media WHERE run_id = ?1 "
                   "ORDER BY call_id, direction, measured_by"),
        load_tool_calls(db,
                        "SELECT run_id, call_id, seq, t_ms, tool_call_id, name, arguments_json, "
                        "decision, reason, result_json, duration_ms, confirmed FROM tool_calls "
                        "WHERE run_id = ?1 ORDER BY call_id, seq"),
        load_reports(db,
                     "SELECT run_id, call_id, transcript_json, summary, action_items_json, "
                     "cost_json, total_cost_usd, redactions FROM call_reports WHERE run_id = ?1 "
                     "ORDER BY call_id"),
        upsert_metric(db,
                      "INSERT INTO metrics (run_id, name, value) VALUES (?1, ?2, ?3) "
                      "ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value"),
        upsert_histogram(db,
                         "INSERT INTO histograms (run_id, name, data) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (run_id, name) DO UPDATE SET data = excluded.data"),
        list_runs(db, std::string(kRunColumns) + "ORDER BY run_id"),
        load_run(db, std::string(kRunColumns) + "WHERE run_id = ?1"),
        latest_run(db, "SELECT max(run_id) FROM runs"),
        load_calls(db,
                   "SELECT run_id, call_id, scenario, started_ms, ended_ms, status, "
                   "task_completed, failure_reason, recording, event_hash FROM calls WHERE run_id = ?1 "
                   "ORDER BY call_id"),
        load_turns(db,
                   "SELECT run_id, call_id, turn_index, reference_text, hypothesis_text, "
                   "ref_words, substitutions, deletions, insertions, turn_latency_ms, barge_in, "
                   "barge_in_stop_ms FROM turns WHERE run_id = ?1 ORDER BY call_id, turn_index"),
        load_expectations(db,
                          "SELECT run_id, call_id, seq, turn_index, kind, passed, detail "
                          "FROM expectations WHERE run_id = ?1 ORDER BY call_id, seq"),
        load_failed(db,
                    "SELECT run_id, call_id, seq, turn_index, kind, passed, detail "
                    "FROM expectations WHERE run_id = ?1 AND passed = 0 "
                    "ORDER BY call_id, seq LIMIT ?2"),
        load_events(db,
                    "SELECT run_id, call_id, seq, t_ms, source, kind, detail_json FROM events "
                    "WHERE run_id = ?1 AND call_id = ?2 ORDER BY seq"),
        load_events_of_kind(db,
                            "SELECT run_id, call_id, seq, t_ms, source, kind, detail_json FROM "
                            "events WHERE run_id = ?1 AND kind = ?2 ORDER BY call_id, seq"),
        load_metrics(db, "SELECT name, value FROM metrics WHERE run_id = ?1 ORDER BY name"),
        load_histogram(db, "SELECT data FROM histograms WHERE run_id = ?1 AND name = ?2"),
        delete_thresholds(db, "DELETE FROM thresholds WHERE run_id = ?1"),
        insert_threshold(db,
                         "INSERT INTO thresholds (run_id, seq, metric, expression, "
                         "observed_metric, observed, passed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        load_thresholds(db,
                        "SELECT run_id, seq, metric, expression, observed_metric, observed, passed "
                        "FROM thresholds WHERE run_id = ?1 ORDER BY seq"),
        insert_sweep(db, InsertSweepSql()),
        finish_sweep(db, FinishSweepSql()),
        upsert_sweep_level(db,
                           "INSERT OR REPLACE INTO sweep_levels (sweep_id, seq, level, run_id, "
                           "slo_met, slo_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        list_sweeps(db, std::string(kSweepColumns) + "ORDER BY sweep_id"),
        load_sweep(db, std::string(kSweepColumns) + "WHERE sweep_id = ?1"),
        latest_sweep(db, "SELECT max(sweep_id) FROM sweeps"),
        load_sweep_levels(db,
                          "SELECT sweep_id, seq, level, run_id, slo_met, slo_json FROM "
                          "sweep_levels WHERE sweep_id = ?1 ORDER BY seq") {}

  Statement begin, commit, savepoint, release, rollback_to;
  Statement insert_run, finish_run, insert_call, insert_turn, insert_expectation, insert_event;
  Statement insert_tool_call, insert_report, insert_media, load_media;
  Statement load_tool_calls, load_reports;
  Statement upsert_metric, upsert_histogram;
  Statement list_runs, load_run, latest_run, load_calls, load_turns, load_expectations;
  Statement load_failed, load_events, load_events_of_kind, load_metrics, load_histogram;
  Statement delete_thresholds, insert_threshold, load_thresholds;
  Statement insert_sweep, finish_sweep, upsert_sweep_level, list_sweeps, load_sweep, latest_sweep;
  Statement load_sweep_levels;
};

std::unique_ptr<Store> Store::Open(const std::string& path, std::string* error) {
  return Open(path, StoreOptions{}, error);
}

std::unique_ptr<Store> Store::Open(const std::string& path, const StoreOptions& options,
                                   std::string* error) {
  try {
    auto db = std::make_unique<SqliteDb>(path);
    ConfigureConnection(*db, options);
    if (!MigrateToLatest(*db, error)) return nullptr;
    return std::unique_ptr<Store>(new Store(std::move(db), options));
  } catch (const StoreError& e) {
    if (error) *error = e.what();
    return nullptr;
  }
}

Store::Store(std::unique_ptr<SqliteDb> db, const StoreOptions& options)
    : path_(db->path()),
      options_(options),
      db_(std::move(db)),
      stmts_(std::make_unique<Statements>(*db_)) {
  if (options_.batch_calls == 0) options_.batch_calls = 1;
  pending_.reserve(std::min<size_t>(options_.batch_calls, 1024));
}

Store::~Store() = default;

int64_t Store::BeginRun(const RunInfo& run) {
  Statement& s = stmts_->insert_run;
  s.Bind(1, run.started_at)
      .Bind(2, int64_t{options_.stamp_wall_time})
      .Bind(3, static_cast<int64_t>(run.seed))
      .Bind(4, run.mode)
      .Bind(5, run.scenario)
      .Bind(6, run.config_json);
  s.Run();
  return sqlite3_last_insert_rowid(db_->get());
}

void Store::AddCall(CallRow call, std::vector<TurnRow> turns,
                    std::vector<ExpectationRow> expectations, std::vector<EventRow> events,
                    std::vector<ToolCallRow> tool_calls, std::vector<CallMediaRow> media) {
  pending_rows_ += turns.size() + expectations.size() + events.size() + tool_calls.size() +
                   media.size();
  pending_.push_back(PendingCall{std::move(call), std::move(turns), std::move(expectations),
                                 std::move(events), std::move(tool_calls), std::move(media)});
  if (pending_.size() >= options_.batch_calls || pending_rows_ >= options_.batch_rows) Flush();
}

void Store::AddCallReport(CallReportRow report) {
  pending_reports_.push_back(std::move(report));
  if (pending_reports_.size() >= options_.batch_calls) Flush();
}

void Store::Flush() { CommitPending(nullptr); }

void Store::CommitPending(const std::function<void()>& also) {
  if (pending_.empty() && pending_reports_.empty() && !also) return;
  std::optional<StoreError> first_error;
  size_t rejected = 0;
  try {
    stmts_->begin.Run();
    for (const PendingCall& p : pending_) {
      std::optional<StoreError> err = InsertCallOrSkip(p);
      if (!err) continue;
      if (rejected++ == 0) first_error = std::move(err);
    }
    for (const CallReportRow& report : pending_reports_) {
      std::optional<StoreError> err = InsertReportOrSkip(report);
      if (!err) continue;
      if (rejected++ == 0) first_error = std::move(err);
    }
    if (also) also();
    stmts_->commit.Run();
  } catch (const StoreError& e) {
    // Nothing was committed: the calls stay buffered for the next attempt.
    db_->RollbackQuietly();
    if (pending_.empty()) throw;
    throw StoreError(std::string(e.what()) + " (" + std::to_string(pending_.size()) +
                         " buffered calls are not stored yet)",
                     e.sqlite_code());
  }
  const size_t batch_size = pending_.size() + pending_reports_.size();
  const bool with_reports = !pending_reports_.empty();
  pending_.clear();
  pending_reports_.clear();
  pending_rows_ = 0;
  if (first_error) {
    throw StoreError(std::to_string(rejected) + " of " + std::to_string(batch_size) +
                         (with_reports ? " calls and reports were" : " calls were") +
                         " rejected and not stored; first: " + first_error->what(),
                     first_error->sqlite_code());
  }
}

std::optional<StoreError> Store::InsertCallOrSkip(const PendingCall& p) {
  stmts_->savepoint.Run();
  try {
    InsertCall(p);
    stmts_->release.Run();
    return std::nullopt;
  } catch (const StoreError& e) {
    // Errors like SQLITE_FULL end the whole transaction; only a call-level error is skippable.
    if (db_->autocommit()) throw;
    stmts_->rollback_to.Run();
    stmts_->release.Run();
    return StoreError("call " + std::to_string(p.call.call_id) + " of run " +
                          std::to_string(p.call.run_id) + ": " + e.what(),
                      e.sqlite_code());
  }
}

std::optional<StoreError> Store::InsertReportOrSkip(const CallReportRow& r) {
  stmts_->savepoint.Run();
  try {
    Statement& s = stmts_->insert_report;
    s.Bind(1, r.run_id).Bind(2, r.call_id).Bind(3, r.transcript_json).Bind(4, r.summary);
    s.Bind(5, r.action_items_json).Bind(6, r.cost_json).Bind(7, r.total_cost_usd);
    s.Bind(8, r.redactions);
    s.Run();
    stmts_->release.Run();
    return std::nullopt;
  } catch (const StoreError& e) {
    if (db_->autocommit()) throw;
    stmts_->rollback_to.Run();
    stmts_->release.Run();
    return StoreError("report of call " + std::to_string(r.call_id) + " of run " +
                          std::to_string(r.run_id) + ": " + e.what(),
                      e.sqlite_code());
  }
}

void Store::InsertCall(const PendingCall& p) {
  const CallRow& c = p.call;
  Statement& s = stmts_->insert_call;
  s.Bind(1, c.run_id)
      .Bind(2, c.call_id)
      .Bind(3, c.scenario)
      .Bind(4, c.started_ms)
      .Bind(5, c.ended_ms)
      .Bind(6, c.status)
      .Bind(7, int64_t{c.task_completed})
      .Bind(8, c.failure_reason)
      .Bind(9, c.recording)
      .Bind(10, c.event_hash);
  s.Run();
  InsertChildren(p);
}

void Store::InsertChildren(const PendingCall& p) {
  const int64_t run_id = p.call.run_id;
  const int64_t call_id = p.call.call_id;
  for (const TurnRow& t : p.turns) {
    Statement& s = stmts_->insert_turn;
    s.Bind(1, run_id).Bind(2, call_id).Bind(3, int64_t{t.turn_index});
    s.Bind(4, t.reference_text).Bind(5, t.hypothesis_text).Bind(6, t.ref_words);
    s.Bind(7, t.substitutions).Bind(8, t.deletions).Bind(9, t.insertions);
    s.Bind(10, t.turn_latency_ms).Bind(11, int64_t{t.barge_in}).Bind(12, t.barge_in_stop_ms);
    s.Run();
  }
  int64_t seq = 0;
  for (const ExpectationRow& e : p.expectations) {
    Statement& s = stmts_->insert_expectation;
    s.Bind(1, run_id).Bind(2, call_id).Bind(3, seq++).Bind(4, int64_t{e.turn_index});
    s.Bind(5, e.kind).Bind(6, int64_t{e.passed}).Bind(7, e.detail);
    s.Run();
  }
  for (const EventRow& e : p.events) {
    Statement& s = stmts_->insert_event;
    s.Bind(1, run_id).Bind(2, call_id).Bind(3, e.seq).Bind(4, e.t_ms);
    s.Bind(5, e.source).Bind(6, e.kind).Bind(7, e.detail_json);
    s.Run();
  }
  seq = 0;
  for (const ToolCallRow& t : p.tool_calls) {
    Statement& s = stmts_->insert_tool_call;
    s.Bind(1, run_id).Bind(2, call_id).Bind(3, seq++).Bind(4, t.t_ms);
    s.Bind(5, t.tool_call_id).Bind(6, t.name).Bind(7, t.arguments_json).Bind(8, t.decision);
    s.Bind(9, t.reason).Bind(10, t.result_json).Bind(11, t.duration_ms);
    s.Bind(12, int64_t{t.confirmed});
    s.Run();
  }
  for (const CallMediaRow& m : p.media) {
    Statement& s = stmts_->insert_media;
    s.Bind(1, run_id).Bind(2, call_id).Bind(3, m.direction).Bind(4, m.measured_by);
    s.Bind(5, m.packets_expected).Bind(6, m.packets_lost).Bind(7, m.fraction_lost);
    s.Bind(8, m.jitter_ms).Bind(9, m.concealed_frames).Bind(10, m.late_dropped);
    s.Bind(11, m.srtp_auth_failures).Bind(12, m.srtp_replays);
    s.Run();
  }
}

void Store::SetMetric(int64_t run_id, const std::string& name, double value) {
  stmts_->upsert_metric.Bind(1, run_id).Bind(2, name).Bind(3, value).Run();
}

void Store::SetHistogram(int64_t run_id, const std::string& name, const std::string& bytes) {
  stmts_->upsert_histogram.Bind(1, run_id).Bind(2, name).BindBlob(3, bytes).Run();
}

template <typename Body>
void Store::InTransaction(Body&& body) {
  stmts_->begin.Run();
  try {
    body();
    stmts_->commit.Run();
  } catch (const StoreError&) {
    db_->RollbackQuietly();
    throw;
  }
}

void Store::DeleteCalls(int64_t run_id) {
  if (!pending_.empty() || !pending_reports_.empty()) {
    throw StoreError(path_ + ": DeleteCalls with calls still buffered (Flush first)", SQLITE_MISUSE);
  }
  InTransaction([&] {
    // The children go with their call (ON DELETE CASCADE).
    Statement s(*db_, "DELETE FROM calls WHERE run_id = ?1");
    s.Bind(1, run_id);
    s.Run();
  });
}

void Store::DeleteCallReports(int64_t run_id, const std::vector<int64_t>& call_ids) {
  if (call_ids.empty()) return;
  InTransaction([&] {
    Statement s(*db_, "DELETE FROM call_reports WHERE run_id = ?1 AND call_id = ?2");
    for (int64_t id : call_ids) {
      s.Bind(1, run_id).Bind(2, id);
      s.Run();
    }
  });
}

void Store::SetMergeState(int64_t run_id, const std::string& json) {
  Statement s(*db_, "UPDATE runs SET merge_state = ?2 WHERE run_id = ?1");
  s.Bind(1, run_id).Bind(2, std::string_view(json));
  s.Run();
  if (sqlite3_changes(db_->get()) != 1) {
    throw StoreError(path_ + ": no run " + std::to_string(run_id), SQLITE_NOTFOUND);
  }
}

std::optional<std::string> Store::LoadMergeState(int64_t run_id) const {
  Statement s(*db_, "SELECT merge_state FROM runs WHERE run_id = ?1");
  s.Bind(1, run_id);
  if (!s.Step() || s.ColumnIsNull(0)) return std::nullopt;
  return s.ColumnText(0);
}

namespace {

// The column lists of the per-call tables, run_id first (ImportCalls copies them as stored).
struct CallTable {
  const char* name;
  const char* columns;  // after run_id
};
constexpr CallTable kCallTables[] = {
    {"calls", "call_id, scenario, started_ms, ended_ms, status, task_completed, failure_reason, "
              "recording, event_hash"},
    {"turns", "call_id, turn_index, reference_text, hypothesis_text, ref_words, substitutions, "
              "deletions, insertions, turn_latency_ms, barge_in, barge_in_stop_ms"},
    {"expectations", "call_id, seq, turn_index, kind, passed, detail"},
    {"events", "call_id, seq, t_ms, source, kind, detail_json"},
    {"tool_calls", "call_id, seq, t_ms, tool_call_id, name, arguments_json, decision, reason, "
                   "result_json, duration_ms, confirmed"},
    {"call_media", "call_id, direction, measured_by, packets_expected, packets_lost, "
                   "fraction_lost, jitter_ms, concealed_frames, late_dropped, srtp_auth_failures, "
                   "srtp_replays"},
};

std::string SqlQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

}  // namespace

void Store::ImportCalls(const std::string& from_path, int64_t from_run_id, int64_t run_id,
                        const std::vector<int64_t>& report_calls) {
  if (!pending_.empty() || !pending_reports_.empty()) {
    throw StoreError(path_ + ": ImportCalls with calls still buffered (Flush first)", SQLITE_MISUSE);
  }
  // ATTACH cannot run inside a transaction; DETACH follows whatever happens.
  db_->Exec("ATTACH DATABASE " + SqlQuoted(from_path) + " AS merge_source");
  try {
    InTransaction([&] {
      for (const CallTable& t : kCallTables) {
        Statement copy(*db_, std::string("INSERT INTO main.") + t.name + " (run_id, " + t.columns +
                                 ") SELECT ?1, " + t.columns + " FROM merge_source." + t.name +
                                 " WHERE run_id = ?2");
        copy.Bind(1, run_id).Bind(2, from_run_id);
        copy.Run();
      }
      Statement report(*db_,
                       "INSERT INTO main.call_reports (run_id, call_id, transcript_json, summary, "
                       "action_items_json, cost_json, total_cost_usd, redactions) SELECT ?1, "
                       "call_id, transcript_json, summary, action_items_json, cost_json, "
                       "total_cost_usd, redactions FROM merge_source.call_reports WHERE run_id = ?2 "
                       "AND call_id = ?3");
      for (int64_t call_id : report_calls) {
        report.Bind(1, run_id).Bind(2, from_run_id).Bind(3, call_id);
        report.Run();
      }
    });
  } catch (const StoreError&) {
    try {
      db_->Exec("DETACH DATABASE merge_source");
    } catch (const StoreError&) {
    }
    throw;
  }
  db_->Exec("DETACH DATABASE merge_source");
}

void Store::SetMetrics(int64_t run_id, const std::map<std::string, double>& metrics) {
  InTransaction([&] {
    for (const auto& [name, value] : metrics) {
      stmts_->upsert_metric.Bind(1, run_id).Bind(2, name).Bind(3, value).Run();
    }
  });
}

void Store::SetThresholds(int64_t run_id, const std::vector<ThresholdRow>& rows) {
  InTransaction([&] {
    stmts_->delete_thresholds.Bind(1, run_id).Run();
    int64_t seq = 0;
    for (const ThresholdRow& t : rows) {
      std::optional<double> observed;
      if (!std::isnan(t.observed)) observed = t.observed;
      Statement& s = stmts_->insert_threshold;
      s.Bind(1, run_id).Bind(2, seq++).Bind(3, t.metric).Bind(4, t.expression);
      s.Bind(5, t.observed_metric).Bind(6, observed).Bind(7, int64_t{t.passed});
      s.Run();
    }
  });
}

int64_t Store::BeginSweep(const SweepRow& sweep) {
  Statement& s = stmts_->insert_sweep;
  s.Bind(1, sweep.name)
      .Bind(2, sweep.scenario)
      .Bind(3, sweep.parameter)
      .Bind(4, static_cast<int64_t>(sweep.seed))
      .Bind(5, sweep.plan_json)
      .Bind(6, int64_t{options_.stamp_wall_time});
  s.Run();
  return sqlite3_last_insert_rowid(db_->get());
}

void Store::AddSweepLevel(const SweepLevelRow& level) {
  Statement& s = stmts_->upsert_sweep_level;
  s.Bind(1, level.sweep_id).Bind(2, level.seq).Bind(3, level.level).Bind(4, level.run_id);
  s.Bind(5, int64_t{level.slo_met}).Bind(6, level.slo_json);
  s.Run();
}

void Store::FinishSweep(int64_t sweep_id, const std::string& status, std::optional<double> knee) {
  Statement& s = stmts_->finish_sweep;
  s.Bind(1, status).Bind(2, knee).Bind(3, int64_t{options_.stamp_wall_time}).Bind(4, sweep_id);
  s.Run();
  if (sqlite3_changes(db_->get()) == 0) {
    throw StoreError("FinishSweep: no sweep with id " + std::to_string(sweep_id) + " in " + path_,
                     SQLITE_NOTFOUND);
  }
}

void Store::FinishRun(int64_t run_id, const std::string& status,
                      const std::string& event_log_hash, int exit_code) {
  FinishRun(run_id, RunOutcome{status, event_log_hash, exit_code, "", 0});
}

void Store::FinishRun(int64_t run_id, const RunOutcome& outcome) {
  // The last calls and the outcome commit together: one lock wait, and a run never reads as
  // finished without its calls.
  CommitPending([&] {
    Statement& s = stmts_->finish_run;
    s.Bind(1, outcome.status)
        .Bind(2, outcome.event_log_hash)
        .Bind(3, int64_t{outcome.exit_code})
        .Bind(4, int64_t{options_.stamp_wall_time})
        .Bind(5, run_id)
        .Bind(6, outcome.end_reason)
        .Bind(7, outcome.calls_not_started);
    s.Run();
    if (sqlite3_changes(db_->get()) == 0) {
      throw StoreError("FinishRun: no run with id " + std::to_string(run_id) + " in " + path_,
                       SQLITE_NOTFOUND);
    }
  });
}

std::vector<RunInfo> Store::ListRuns() const { return ReadRows(stmts_->list_runs, ReadRun); }

std::optional<RunInfo> Store::LoadRun(int64_t run_id) const {
  return ReadFirstRow(stmts_->load_run.Bind(1, run_id), ReadRun);
}

std::optional<int64_t> Store::LatestRunId() const { return ReadMaxId(stmts_->latest_run); }

std::vector<CallRow> Store::LoadCalls(int64_t run_id) const {
  return ReadRows(stmts_->load_calls.Bind(1, run_id), ReadCall);
}

std::vector<TurnRow> Store::LoadTurns(int64_t run_id) const {
  return ReadRows(stmts_->load_turns.Bind(1, run_id), ReadTurn);
}

std::vector<ExpectationRow> Store::LoadExpectations(int64_t run_id) const {
  return ReadRows(stmts_->load_expectations.Bind(1, run_id), ReadExpectation);
}

std::vector<ExpectationRow> Store::LoadFailedExpectations(int64_t run_id, size_t limit) const {
  Statement& s = stmts_->load_failed;
  s.Bind(1, run_id).Bind(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return ReadRows(s, ReadExpectation);
}

std::vector<EventRow> Store::LoadEvents(int64_t run_id, int64_t call_id) const {
  return ReadRows(stmts_->load_events.Bind(1, run_id).Bind(2, call_id), ReadEvent);
}

std::vector<EventRow> Store::LoadEventsOfKind(int64_t run_id, const std::string& kind) const {
  return ReadRows(stmts_->load_events_of_kind.Bind(1, run_id).Bind(2, kind), ReadEvent);
}

std::vector<ToolCallRow> Store::LoadToolCalls(int64_t run_id) const {
  return ReadRows(stmts_->load_tool_calls.Bind(1, run_id), ReadToolCall);
}

std::vector<CallMediaRow> Store::LoadCallMedia(int64_t run_id) const {
  return ReadRows(stmts_->load_media.Bind(1, run_id), ReadCallMedia);
}

std::vector<std::pair<int64_t, double>> Store::LoadReportedCallEnds(int64_t run_id) const {
  Statement s(*db_,
              "SELECT c.call_id, c.ended_ms FROM calls c JOIN call_reports r "
              "ON r.run_id = c.run_id AND r.call_id = c.call_id WHERE c.run_id = ?1 "
              "ORDER BY c.call_id");
  s.Bind(1, run_id);
  std::vector<std::pair<int64_t, double>> out;
  while (s.Step()) out.emplace_back(s.ColumnInt(0), s.ColumnDouble(1));
  return out;
}

std::vector<CallReportRow> Store::LoadCallReports(int64_t run_id) const {
  return ReadRows(stmts_->load_reports.Bind(1, run_id), ReadCallReport);
}

std::map<std::string, double> Store::LoadMetrics(int64_t run_id) const {
  std::map<std::string, double> metrics;
  for (auto& [name, value] : ReadRows(stmts_->load_metrics.Bind(1, run_id), ReadMetric)) {
    metrics[std::move(name)] = value;
  }
  return metrics;
}

std::optional<std::string> Store::LoadHistogram(int64_t run_id, const std::string& name) const {
  return ReadFirstRow(stmts_->load_histogram.Bind(1, run_id).Bind(2, name),
                      [](const Statement& s) { return s.ColumnBlob(0); });
}

std::vector<ThresholdRow> Store::LoadThresholds(int64_t run_id) const {
  return ReadRows(stmts_->load_thresholds.Bind(1, run_id), ReadThreshold);
}

std::vector<SweepRow> Store::ListSweeps() const { return ReadRows(stmts_->list_sweeps, ReadSweep); }

std::optional<SweepRow> Store::LoadSweep(int64_t sweep_id) const {
  return ReadFirstRow(stmts_->load_sweep.Bind(1, sweep_id), ReadSweep);
}

std::optional<int64_t> Store::LatestSweepId() const { return ReadMaxId(stmts_->latest_sweep); }

std::vector<SweepLevelRow> Store::LoadSweepLevels(int64_t sweep_id) const {
  return ReadRows(stmts_->load_sweep_levels.Bind(1, sweep_id), ReadSweepLevel);
}

}  // namespace callsim::harness
