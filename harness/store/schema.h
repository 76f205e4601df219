// The store's schema as an ordered list of migrations, keyed by PRAGMA user_version. Version 1
// creates everything; a later version appends one entry and never edits an earlier one, so any
// older database can be brought forward and a newer one is recognised and refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/store/sqlite_db.h"

namespace callsim::harness {

struct Migration {
  int version;           // the user_version after this step; entry i has version i + 1
  std::string_view sql;  // one or more statements
};

const std::vector<Migration>& SchemaMigrations();
int LatestSchemaVersion();

// Brings `db` to LatestSchemaVersion() in one transaction (all steps or none). Returns false and
// sets *error when the database was written by a newer build (user_version above the latest).
// Throws StoreError when SQLite fails.
bool MigrateToLatest(SqliteDb& db, std::string* error);

}  // namespace callsim::harness
