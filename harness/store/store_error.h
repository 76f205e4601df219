// The one exception the store module throws: a failed SQLite call, with SQLite's message, its
// result code and the statement that failed, so a report names what went wrong and where.
#pragma once

#include <stdexcept>
#include <string>

namespace callsim::harness {

class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, int sqlite_code)
      : std::runtime_error(what), sqlite_code_(sqlite_code) {}
  // SQLite's extended result code (SQLITE_CONSTRAINT_CHECK, SQLITE_BUSY...).
  int sqlite_code() const { return sqlite_code_; }

 private:
  int sqlite_code_;
};

}  // namespace callsim::harness
