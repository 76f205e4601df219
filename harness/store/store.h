// The run store: one SQLite file (WAL mode) holding one or more runs with their calls, turns,
// checked expectations, events, metrics and histograms. Finished calls are buffered and written in
// batches, each call in one piece, so a run killed midway leaves a consistent database holding every
// flushed call and a run row that still says 'running'. Reads see committed data only.
//
// Threading: one Store per thread; several processes may share a file. A write waits for another
// connection's lock with exponential backoff, bounded by StoreOptions::lock_wait_ms (60 s).
// Errors: Open reports through *error; every other method throws StoreError (and only that). A
// batch whose transaction fails (the lock wait ran out, the disk is full) stays buffered, so a
// later Flush or FinishRun can still write it once the cause is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/store/rows.h"
#include "harness/store/store_error.h"

namespace callsim::harness {

class SqliteDb;

struct StoreOptions {
  // AddCall commits when this many calls are buffered...
  size_t batch_calls = 64;
  // ...or when the buffered calls hold this many turn, expectation and event rows in total, so a
  // batch of event-heavy calls stays bounded in memory too.
  size_t batch_rows = 200000;
  // How a write waits for another connection's lock: sleeps from lock_backoff_first_ms, doubling
  // up to lock_backoff_max_ms, for at most lock_wait_ms in total; then it fails with SQLITE_BUSY.
  // (A reader in WAL mode never blocks a writer; this is another writer or an exclusive lock.)
  int lock_wait_ms = 60000;
  int lock_backoff_first_ms = 10;
  int lock_backoff_max_ms = 2000;
  // Stamp runs.started_at (when RunInfo leaves it empty) and runs.finished_at with SQLite's UTC
  // time. This metadata is for people and never feeds the simulation; turn it off for byte-identical
  // databases.
  bool stamp_wall_time = true;
};

class Store {
 public:
  // Opens or creates the database and migrates it to the latest schema. Returns nullptr and sets
  // *error (if given) when the file cannot be opened, is not a database, or has a schema version
  // newer than this build knows.
  static std::unique_ptr<Store> Open(const std::string& path, std::string* error);
  static std::unique_ptr<Store> Open(const std::string& path, const StoreOptions& options,
                                     std::string* error);

  // Does NOT flush: calls still buffered are lost, exactly as in a crash. Call Flush or FinishRun.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Inserts the run with status 'running' and commits at once. Returns the new run_id.
  int64_t BeginRun(const RunInfo& run);

  // Buffers one finished call with all its rows; the call's run_id and call_id are used for every
  // child row, and expectations get seq = their position. Commits when the buffer reaches a bound
  // of StoreOptions (then it may throw like Flush).
  void AddCall(CallRow call, std::vector<TurnRow> turns, std::vector<ExpectationRow> expectations,
               std::vector<EventRow> events, std::vector<ToolCallRow> tool_calls = {},
               std::vector<CallMediaRow> media = {});
  // Buffers a post-call report, written with the next flush after its call (a report whose call
  // is not stored is left out like a bad call).
  void AddCallReport(CallReportRow report);
  // Commits the buffered calls in one transaction, each call whole or not at all. A call that
  // violates the schema (a bad status, a duplicate id, an unknown run) is left out, the others are
  // committed, and then StoreError names the call; the buffer is empty afterwards. If the
  // transaction itself fails (the lock wait ran out, disk full) nothing is committed, StoreError
  // says how many calls wait, and they stay buffered for the next Flush: whoever adds calls stops
  // after such an error (the runner does), so the buffer stays bounded.
  void Flush();
  size_t buffered_calls() const { return pending_.size(); }

  // Written at once; a second value for the same name replaces the first.
  void SetMetric(int64_t run_id, const std::string& name, double value);
  void SetHistogram(int64_t run_id, const std::string& name, const std::string& bytes);
  // The same for many, in one transaction (all or none). NaN values are stored as NULL.
  void SetMetrics(int64_t run_id, const std::map<std::string, double>& metrics);

  // Replaces the run's threshold rows with `rows` in one transaction; each row's run_id is
  // ignored and its seq becomes its position.
  void SetThresholds(int64_t run_id, const std::vector<ThresholdRow>& rows);

  // Sweeps. BeginSweep inserts the sweep with status 'running' (started_at stamped as for runs)
  // and commits at once; it returns the new sweep_id.
  int64_t BeginSweep(const SweepRow& sweep);
  // Inserts one level (replacing a row with the same sweep_id and seq). Throws StoreError for an
  // unknown sweep or run.
  void AddSweepLevel(const SweepLevelRow& level);
  // `status` must be completed, aborted or failed; `knee` nullopt when no level qualified.
  // Throws StoreError when there is no such sweep.
  void FinishSweep(int64_t sweep_id, const std::string& status, std::optional<double> knee);

  // Commits the buffered calls and the outcome in one transaction. `status` must be completed,
  // failed or aborted. A call the schema rejects is left out as in Flush (the run is finished and
  // then StoreError names the call). If the transaction fails (the lock wait ran out, a bad
  // status, no such run) nothing is written, the calls stay buffered, and StoreError says why.
  void FinishRun(int64_t run_id, const RunOutcome& outcome);
  void FinishRun(int64_t run_id, const std::string& status, const std::string& event_log_hash,
                 int exit_code);

  // The run's merge state (runs.merge_state: a JSON document, harness/run/merge_state.h); the
  // load gives nullopt when the run has none (a run of an older callsim). Written at once.
  void SetMergeState(int64_t run_id, const std::string& json);
  std::optional<std::string> LoadMergeState(int64_t run_id) const;

  // Copies every call of run `from_run_id` in the database file `from_path` into run `run_id`
  // here, with all its rows (turns, expectations, events, tool calls, media): values are copied
  // as stored, bit for bit. Post-call reports are copied only for the calls in `report_calls`.
  // One transaction: all or nothing. The buffer must be empty (Flush first). Throws StoreError
  // (a call id already present, a file that is not a callsim database).
  void ImportCalls(const std::string& from_path, int64_t from_run_id, int64_t run_id,
                   const std::vector<int64_t>& report_calls);

  // Deletes every call of the run with all its rows (the run row stays), or only the post-call
  // reports of the calls named: what a run that starts over, or drops reports, leaves behind.
  // One transaction each; the buffer must be empty. Throws StoreError.
  void DeleteCalls(int64_t run_id);
  void DeleteCallReports(int64_t run_id, const std::vector<int64_t>& call_ids);

  // Reads, in a stable order (by run_id; by call_id, then turn_index or seq).
  std::vector<RunInfo> ListRuns() const;
  std::optional<RunInfo> LoadRun(int64_t run_id) const;
  std::optional<int64_t> LatestRunId() const;
  std::vector<CallRow> LoadCalls(int64_t run_id) const;
  std::vector<TurnRow> LoadTurns(int64_t run_id) const;
  std::vector<ExpectationRow> LoadExpectations(int64_t run_id) const;
  // The first `limit` failed expectations by (call_id, seq), without reading the passed ones.
  std::vector<ExpectationRow> LoadFailedExpectations(int64_t run_id, size_t limit) const;
  std::vector<EventRow> LoadEvents(int64_t run_id, int64_t call_id) const;
  // Every event of one kind in the run, by call_id, seq (the events_by_kind index).
  std::vector<EventRow> LoadEventsOfKind(int64_t run_id, const std::string& kind) const;
  std::vector<ToolCallRow> LoadToolCalls(int64_t run_id) const;      // by call_id, seq
  std::vector<CallReportRow> LoadCallReports(int64_t run_id) const;  // by call_id
  // The calls that have a post-call report, with their end (calls.ended_ms), by call_id.
  std::vector<std::pair<int64_t, double>> LoadReportedCallEnds(int64_t run_id) const;
  // By call_id, direction, measured_by.
  std::vector<CallMediaRow> LoadCallMedia(int64_t run_id) const;
  std::map<std::string, double> LoadMetrics(int64_t run_id) const;  // NaN values read back as NaN
  std::optional<std::string> LoadHistogram(int64_t run_id, const std::string& name) const;
  std::vector<ThresholdRow> LoadThresholds(int64_t run_id) const;  // by seq
  std::vector<SweepRow> ListSweeps() const;                         // by sweep_id
  std::optional<SweepRow> LoadSweep(int64_t sweep_id) const;
  std::optional<int64_t> LatestSweepId() const;
  std::vector<SweepLevelRow> LoadSweepLevels(int64_t sweep_id) const;  // by seq

  const std::string& path() const { return path_; }

 private:
  struct PendingCall {
    CallRow call;
    std::vector<TurnRow> turns;
    std::vector<ExpectationRow> expectations;
    std::vector<EventRow> events;
    std::vector<ToolCallRow> tool_calls;
    std::vector<CallMediaRow> media;
  };
  struct Statements;

  Store(std::unique_ptr<SqliteDb> db, const StoreOptions& options);
  // Flush, with `also` run inside the same transaction before COMMIT (null: nothing more).
  void CommitPending(const std::function<void()>& also);
  void InsertCall(const PendingCall& pending);
  void InsertChildren(const PendingCall& pending);
  // Runs InsertCall under a savepoint; returns the error if the call was left out.
  std::optional<StoreError> InsertCallOrSkip(const PendingCall& pending);
  std::optional<StoreError> InsertReportOrSkip(const CallReportRow& report);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back and rethrows if it throws.
  template <typename Body>
  void InTransaction(Body&& body);

  std::string path_;
  StoreOptions options_;
  std::unique_ptr<SqliteDb> db_;
  // Prepared once at Open; const reads reuse them through the (const) pointer.
  std::unique_ptr<Statements> stmts_;
  std::vector<PendingCall> pending_;
  std::vector<CallReportRow> pending_reports_;
  size_t pending_rows_ = 0;
};

}  // namespace callsim::harness
