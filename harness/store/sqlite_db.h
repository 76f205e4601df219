// Thin RAII wrappers over the SQLite C API for the store: one connection (SqliteDb) and its prepared
// statements (Statement). Every failure becomes a StoreError carrying SQLite's message and the SQL.
// Internal to harness/store; other modules go through Store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "harness/store/store_error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace callsim::harness {

class SqliteDb {
 public:
  // Opens (creating if missing) the database at `path`. Throws StoreError.
  explicit SqliteDb(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements that return no rows we need. Throws StoreError.
  void Exec(std::string_view sql);
  // Runs a statement that returns one integer (e.g. a PRAGMA). Throws StoreError.
  int64_t QueryInt(const std::string& sql);
  // Runs a statement that returns one text value (e.g. PRAGMA journal_mode=WAL).
  std::string QueryText(const std::string& sql);
  // True while no explicit transaction is open (SQLite may roll one back by itself on errors
  // such as SQLITE_FULL, and this is how to notice).
  bool autocommit() const;
  // Rolls back the open transaction, if any, ignoring errors: used while another error is
  // already on its way out.
  void RollbackQuietly() noexcept;

  // How a write waits for another connection's lock: sleeps of first_ms, doubling up to max_ms,
  // until total_ms have been slept; then the statement fails with SQLITE_BUSY. The total is the
  // bound on any one wait (slept time, so the wall time is a little longer).
  struct LockWait {
    int total_ms = 60000;
    int first_ms = 10;
    int max_ms = 2000;
  };
  void SetLockWait(const LockWait& wait);

  // Builds the exception for the last failure on this connection.
  [[noreturn]] void Fail(int code, std::string_view sql) const;

 private:
  static int OnBusy(void* self, int attempts);

  sqlite3* db_ = nullptr;
  std::string path_;
  LockWait lock_wait_;
};

class Statement {
 public:
  Statement(SqliteDb& db, std::string sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binders take 1-based parameter indexes, like SQLite. Text and blobs are NOT copied: the bytes
  // must stay alive until Step() or Reset() (the store binds from rows it owns for that long).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const std::optional<double>& value);  // nullopt binds NULL
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Advances; true when a row is available, false when done. Throws StoreError.
  bool Step();
  // Steps a statement that returns no rows, then resets it for reuse.
  void Run();
  // Makes the statement reusable and drops bindings.
  void Reset();

  int64_t ColumnInt(int col) const;
  double ColumnDouble(int col) const;
  std::optional<double> ColumnOptionalDouble(int col) const;
  std::string ColumnText(int col) const;  // NULL reads as ""
  std::string ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

  const std::string& sql() const { return sql_; }

 private:
  void Check(int rc);

  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// Steps `s` (bound already) through its rows, at most `max_rows` of them, turning each into a
// value with `read`, then resets it for its next use. Throws StoreError as Step does.
template <typename Read>
auto ReadRows(Statement& s, Read read, size_t max_rows = SIZE_MAX)
    -> std::vector<std::invoke_result_t<Read&, const Statement&>> {
  std::vector<std::invoke_result_t<Read&, const Statement&>> rows;
  while (rows.size() < max_rows && s.Step()) rows.push_back(read(std::as_const(s)));
  s.Reset();
  return rows;
}

// The first row only (ReadRows with one row at most), or nullopt when there is none.
template <typename Read>
auto ReadFirstRow(Statement& s, Read read)
    -> std::optional<std::invoke_result_t<Read&, const Statement&>> {
  auto rows = ReadRows(s, read, 1);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

}  // namespace callsim::harness
