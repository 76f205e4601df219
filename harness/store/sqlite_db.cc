#include "harness/store/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace callsim::harness {
namespace {

// Keeps error messages readable when the failing SQL is a long migration script.
std::string Abbreviate(std::string_view sql) {
  constexpr size_t kMaxChars = 240;
  std::string s(sql.substr(0, kMaxChars));
  if (sql.size() > kMaxChars) s += "...";
  return s;
}

[[noreturn]] void Throw(std::string_view message, int code, std::string_view sql,
                        const std::string& path) {
  std::string what = "sqlite error in " + path + ": " + std::string(message) + " (code " +
                     std::to_string(code) + ") in statement: " + Abbreviate(sql);
  throw StoreError(what, code);
}

}  // namespace

SqliteDb::SqliteDb(const std::string& path) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    Throw(message, rc, "open", path);
  }
  sqlite3_extended_result_codes(db_, 1);
}

SqliteDb::~SqliteDb() {
  // Statements are owned by Store members that are destroyed first, so close cannot be busy;
  // close_v2 makes that safe even if one leaked.
  sqlite3_close_v2(db_);
}

void SqliteDb::SetLockWait(const LockWait& wait) {
  lock_wait_ = wait;
  lock_wait_.first_ms = std::max(1, lock_wait_.first_ms);
  lock_wait_.max_ms = std::max(lock_wait_.first_ms, lock_wait_.max_ms);
  sqlite3_busy_handler(db_, &SqliteDb::OnBusy, this);
}

// SQLite calls this while the lock is held elsewhere, `attempts` = the calls so far for this lock.
// The time already slept follows from `attempts` alone, so no clock is read.
int SqliteDb::OnBusy(void* self, int attempts) {
  const LockWait& w = static_cast<SqliteDb*>(self)->lock_wait_;
  int64_t slept_ms = 0;
  int64_t delay_ms = w.first_ms;
  for (int i = 0; i < attempts && slept_ms < w.total_ms; ++i) {
    slept_ms += delay_ms;
    delay_ms = std::min<int64_t>(delay_ms * 2, w.max_ms);
  }
  if (slept_ms >= w.total_ms) return 0;  // give up: the statement fails with SQLITE_BUSY
  sqlite3_sleep(static_cast<int>(std::min<int64_t>(delay_ms, w.total_ms - slept_ms)));
  return 1;
}

void SqliteDb::Fail(int code, std::string_view sql) const {
  Throw(sqlite3_errmsg(db_), code, sql, path_);
}

void SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) Fail(sqlite3_extended_errcode(db_), sql);
}

int64_t SqliteDb::QueryInt(const std::string& sql) {
  Statement stmt(*this, sql);
  if (!stmt.Step()) Throw("statement returned no row", SQLITE_ERROR, sql, path_);
  return stmt.ColumnInt(0);
}

std::string SqliteDb::QueryText(const std::string& sql) {
  Statement stmt(*this, sql);
  if (!stmt.Step()) Throw("statement returned no row", SQLITE_ERROR, sql, path_);
  return stmt.ColumnText(0);
}

bool SqliteDb::autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

void SqliteDb::RollbackQuietly() noexcept {
  if (!autocommit()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Statement::Statement(SqliteDb& db, std::string sql) : db_(db), sql_(std::move(sql)) {
  int rc = sqlite3_prepare_v3(db_.get(), sql_.c_str(), static_cast<int>(sql_.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.Fail(rc, sql_);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Check(int rc) {
  if (rc == SQLITE_OK) return;
  // Read the message before reset, then reset so the cached statement stays usable.
  std::string message = sqlite3_errmsg(db_.get());
  int code = sqlite3_extended_errcode(db_.get());
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  Throw(message, code, sql_, db_.path());
}

Statement& Statement::Bind(int index, int64_t value) {
  Check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  Check(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  // A non-null pointer even for "" so an empty string stays '' rather than NULL.
  const char* data = text.data() ? text.data() : "";
  Check(sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC));
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<double>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  const char* data = bytes.data() ? bytes.data() : "";
  Check(sqlite3_bind_blob(stmt_, index, data, static_cast<int>(bytes.size()), SQLITE_STATIC));
  return *this;
}

Statement& Statement::BindNull(int index) {
  Check(sqlite3_bind_null(stmt_, index));
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Check(rc);
  return false;
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::ColumnDouble(int col) const {
  // SQLite stores NaN as NULL; read it back as NaN rather than 0.
  if (ColumnIsNull(col)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, col);
}

std::optional<double> Statement::ColumnOptionalDouble(int col) const {
  if (ColumnIsNull(col)) return std::nullopt;
  return sqlite3_column_double(stmt_, col);
}

std::string Statement::ColumnText(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return text ? std::string(reinterpret_cast<const char*>(text), n) : std::string();
}

std::string Statement::ColumnBlob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return data ? std::string(static_cast<const char*>(data), n) : std::string();
}

bool Statement::ColumnIsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace callsim::harness
