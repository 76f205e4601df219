#include "harness/store/schema.h"

#include <sqlite3.h>

namespace callsim::harness {
namespace {

// Version 1. Timestamps of calls, turns and events are virtual milliseconds since the run
// started; runs.started_at/finished_at are wall-clock metadata for people (ISO-8601 UTC).
// Child rows reference their call so a call and its rows can only exist together.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE runs (
  run_id         INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at     TEXT,
  finished_at    TEXT,
  status         TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'aborted')),
  seed           INTEGER NOT NULL,
  mode           TEXT NOT NULL CHECK (mode IN ('virtual', 'realtime')),
  scenario       TEXT NOT NULL,
  config_json    TEXT NOT NULL,
  event_log_hash TEXT,
  exit_code      INTEGER
);
CREATE TABLE calls (
  run_id         INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  call_id        INTEGER NOT NULL,
  scenario       TEXT NOT NULL,
  started_ms     REAL NOT NULL,
  ended_ms       REAL NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'dropped')),
  task_completed INTEGER NOT NULL CHECK (task_completed IN (0, 1)),
  failure_reason TEXT,
  PRIMARY KEY (run_id, call_id)
);
CREATE INDEX calls_by_status ON calls (run_id, status);
CREATE TABLE turns (
  run_id           INTEGER NOT NULL,
  call_id          INTEGER NOT NULL,
  turn_index       INTEGER NOT NULL,
  reference_text   TEXT NOT NULL,
  hypothesis_text  TEXT NOT NULL,
  ref_words        INTEGER NOT NULL CHECK (ref_words >= 0),
  substitutions    INTEGER NOT NULL CHECK (substitutions >= 0),
  deletions        INTEGER NOT NULL CHECK (deletions >= 0),
  insertions       INTEGER NOT NULL CHECK (insertions >= 0),
  turn_latency_ms  REAL,
  barge_in         INTEGER NOT NULL CHECK (barge_in IN (0, 1)),
  barge_in_stop_ms REAL,
  PRIMARY KEY (run_id, call_id, turn_index),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE,
  -- An alignment maps every reference word to a hit, a substitution or a deletion.
  CHECK (substitutions + deletions <= ref_words)
);
CREATE TABLE expectations (
  run_id     INTEGER NOT NULL,
  call_id    INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  turn_index INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  passed     INTEGER NOT NULL CHECK (passed IN (0, 1)),
  detail     TEXT NOT NULL,
  PRIMARY KEY (run_id, call_id, seq),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE
);
-- Reports list the first failures of a run; most expectations pass.
CREATE INDEX expectations_failed ON expectations (run_id, call_id, seq) WHERE passed = 0;
CREATE TABLE events (
  run_id      INTEGER NOT NULL,
  call_id     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  t_ms        REAL NOT NULL,
  source      TEXT NOT NULL,
  kind        TEXT NOT NULL,
  detail_json TEXT NOT NULL,
  PRIMARY KEY (run_id, call_id, seq),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE
);
CREATE INDEX events_by_kind ON events (run_id, kind);
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE histograms (
  run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  data   BLOB NOT NULL,
  PRIMARY KEY (run_id, name)
);
)sql";

// Version 2: threshold verdicts per run (observed NULL: the run had no data for the metric), and
// concurrency sweeps, one run per level; a level row goes when its sweep or its run is deleted.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE thresholds (
  run_id          INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  metric          TEXT NOT NULL,
  expression      TEXT NOT NULL,
  observed_metric TEXT NOT NULL,
  observed        REAL,
  passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE sweeps (
  sweep_id    INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL,
  scenario    TEXT NOT NULL,
  parameter   TEXT NOT NULL,
  seed        INTEGER NOT NULL,
  plan_json   TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'aborted', 'failed')),
  knee        REAL,
  started_at  TEXT,
  finished_at TEXT
);
CREATE TABLE sweep_levels (
  sweep_id INTEGER NOT NULL REFERENCES sweeps (sweep_id) ON DELETE CASCADE,
  seq      INTEGER NOT NULL,
  level    REAL NOT NULL,
  run_id   INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  slo_met  INTEGER NOT NULL CHECK (slo_met IN (0, 1)),
  slo_json TEXT NOT NULL,
  PRIMARY KEY (sweep_id, seq)
);
CREATE INDEX sweep_levels_by_run ON sweep_levels (run_id);
)sql";

// Version 3: the audit record of every tool call, and post-call reports.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE tool_calls (
  run_id         INTEGER NOT NULL,
  call_id        INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  t_ms           REAL NOT NULL,
  tool_call_id   TEXT NOT NULL,
  name           TEXT NOT NULL,
  arguments_json TEXT NOT NULL,
  decision       TEXT NOT NULL CHECK (decision IN
                   ('executed', 'failed', 'blocked', 'declined', 'reused', 'cancelled')),
  reason         TEXT NOT NULL,
  result_json    TEXT NOT NULL,
  duration_ms    REAL NOT NULL,
  confirmed      INTEGER NOT NULL CHECK (confirmed IN (0, 1)),
  PRIMARY KEY (run_id, call_id, seq),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE
);
CREATE INDEX tool_calls_by_decision ON tool_calls (run_id, decision);
CREATE TABLE call_reports (
  run_id            INTEGER NOT NULL,
  call_id           INTEGER NOT NULL,
  transcript_json   TEXT NOT NULL,
  summary           TEXT NOT NULL,
  action_items_json TEXT NOT NULL,
  cost_json         TEXT NOT NULL,
  total_cost_usd    REAL NOT NULL,
  redactions        INTEGER NOT NULL,
  PRIMARY KEY (run_id, call_id),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE
);
)sql";

// Version 4: a call cut short by an abort has its own status ('aborted': not a dropped call, which
// the system under test refused or lost); a run records why it ended when not completed
// (end_reason) and how many of its calls never started (calls_not_started: arrivals still due when
// it was aborted or failed, counted here instead of one row each). SQLite cannot change a CHECK
// in place, so calls is rebuilt (MigrateToLatest turns foreign keys off around the steps).
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE runs ADD COLUMN end_reason TEXT;
ALTER TABLE runs ADD COLUMN calls_not_started INTEGER NOT NULL DEFAULT 0
  CHECK (calls_not_started >= 0);
CREATE TABLE calls_v4 (
  run_id         INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  call_id        INTEGER NOT NULL,
  scenario       TEXT NOT NULL,
  started_ms     REAL NOT NULL,
  ended_ms       REAL NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'dropped', 'aborted')),
  task_completed INTEGER NOT NULL CHECK (task_completed IN (0, 1)),
  failure_reason TEXT,
  PRIMARY KEY (run_id, call_id)
);
INSERT INTO calls_v4 (run_id, call_id, scenario, started_ms, ended_ms, status, task_completed,
                      failure_reason)
  SELECT run_id, call_id, scenario, started_ms, ended_ms, status, task_completed, failure_reason
  FROM calls;
DROP TABLE calls;
ALTER TABLE calls_v4 RENAME TO calls;
CREATE INDEX calls_by_status ON calls (run_id, status);
)sql";

// Version 5: where a call's recording is (`--record`), relative to the database's folder; NULL
// when the call was not recorded (every call of an older database).
constexpr std::string_view kSchemaV5 = R"sql(
ALTER TABLE calls ADD COLUMN recording TEXT;
)sql";

// Version 6: the RTP media of SIP calls, per direction and per party that measured it
// (CallMediaRow): the receiver's own statistics next to what RTCP reported and what callsim's
// simulated network did.
constexpr std::string_view kSchemaV6 = R"sql(
CREATE TABLE call_media (
  run_id             INTEGER NOT NULL,
  call_id            INTEGER NOT NULL,
  direction          TEXT NOT NULL CHECK (direction IN ('uplink', 'downlink')),
  measured_by        TEXT NOT NULL CHECK (measured_by IN ('receiver', 'rtcp', 'impairment')),
  packets_expected   REAL NOT NULL,
  packets_lost       REAL NOT NULL,
  fraction_lost      REAL NOT NULL CHECK (fraction_lost BETWEEN 0 AND 1),
  jitter_ms          REAL NOT NULL CHECK (jitter_ms >= 0),
  concealed_frames   REAL,
  late_dropped       REAL,
  srtp_auth_failures INTEGER NOT NULL DEFAULT 0 CHECK (srtp_auth_failures >= 0),
  srtp_replays       INTEGER NOT NULL DEFAULT 0 CHECK (srtp_replays >= 0),
  PRIMARY KEY (run_id, call_id, direction, measured_by),
  FOREIGN KEY (run_id, call_id) REFERENCES calls (run_id, call_id) ON DELETE CASCADE
);
)sql";

// Version 7: what `callsim merge` needs to combine shards into one run. Each call's event-log hash
// (16 hex digits; the run's hash is built from them), and per run a JSON document of the state
// behind its aggregates (counters, provider capacity use, circuit-breaker failures: merge_state.h).
// NULL in older databases, whose runs cannot be merged.
constexpr std::string_view kSchemaV7 = R"sql(
ALTER TABLE calls ADD COLUMN event_hash TEXT;
ALTER TABLE runs ADD COLUMN merge_state TEXT;
)sql";

std::string TooNewMessage(const SqliteDb& db, int64_t found) {
  return db.path() + ": database schema version " + std::to_string(found) +
         " is newer than this build of callsim supports (" +
         std::to_string(LatestSchemaVersion()) + "); use a newer callsim or another --db file";
}

// Applies the steps above `version` in one transaction (all or none), with foreign keys off.
bool MigrateSteps(SqliteDb& db, int latest, std::string* error) {
  // IMMEDIATE takes the write lock now, so two processes opening a new file cannot both migrate.
  db.Exec("BEGIN IMMEDIATE");
  try {
    const int64_t version = db.QueryInt("PRAGMA user_version");
    if (version > latest) {
      db.Exec("ROLLBACK");
      if (error) *error = TooNewMessage(db, version);
      return false;
    }
    for (const Migration& m : SchemaMigrations()) {
      if (m.version <= version) continue;
      db.Exec(m.sql);
      db.Exec("PRAGMA user_version = " + std::to_string(m.version));
    }
    // A rebuilt table must still satisfy every reference (checked while the keys are off).
    if (db.QueryInt("SELECT count(*) FROM pragma_foreign_key_check") != 0) {
      throw StoreError(db.path() + ": migration to version " + std::to_string(latest) +
                           " left rows whose references do not hold",
                       SQLITE_CONSTRAINT_FOREIGNKEY);
    }
    db.Exec("COMMIT");
  } catch (const StoreError&) {
    db.RollbackQuietly();
    throw;
  }
  return true;
}

}  // namespace

const std::vector<Migration>& SchemaMigrations() {
  static const std::vector<Migration> migrations = {
      {1, kSchemaV1},
      {2, kSchemaV2},
      {3, kSchemaV3},
      {4, kSchemaV4},
      {5, kSchemaV5},
      {6, kSchemaV6},
      {7, kSchemaV7},
  };
  return migrations;
}

int LatestSchemaVersion() { return SchemaMigrations().back().version; }

bool MigrateToLatest(SqliteDb& db, std::string* error) {
  const int latest = LatestSchemaVersion();
  const int64_t version = db.QueryInt("PRAGMA user_version");
  if (version == latest) return true;
  if (version > latest) {
    if (error) *error = TooNewMessage(db, version);
    return false;
  }
  // A step may rebuild a table (version 4 does): with foreign keys on, dropping the old table
  // would cascade into its children. The pragma is a no-op inside a transaction, so it goes first.
  const int64_t foreign_keys = db.QueryInt("PRAGMA foreign_keys");
  const std::string restore = "PRAGMA foreign_keys = " + std::to_string(foreign_keys);
  db.Exec("PRAGMA foreign_keys = OFF");
  bool migrated = false;
  try {
    migrated = MigrateSteps(db, latest, error);
  } catch (const StoreError&) {
    db.Exec(restore);
    throw;
  }
  db.Exec(restore);
  return migrated;
}

}  // namespace callsim::harness
