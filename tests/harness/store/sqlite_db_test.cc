// ReadRows and ReadFirstRow: rows come back in the statement's order, a bound stops the stepping,
// and the statement is reset (bindings dropped) so that the next use starts from the first row.
#include "harness/store/sqlite_db.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::harness {
namespace {

class ReadRowsTest : public ::testing::Test {
 protected:
  ReadRowsTest() {
    db_.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
             "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');");
  }
  static std::string Name(const Statement& s) { return s.ColumnText(0); }

  SqliteDb db_{":memory:"};
};

TEST_F(ReadRowsTest, ReadsEveryRowInOrderAndResetsForTheNextUse) {
  Statement s(db_, "SELECT name FROM t WHERE id >= ?1 ORDER BY id");
  EXPECT_EQ(ReadRows(s.Bind(1, int64_t{2}), Name), (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(ReadRows(s.Bind(1, int64_t{1}), Name),
            (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(ReadRowsTest, StopsAtTheBoundAndStartsOverNextTime) {
  Statement s(db_, "SELECT name FROM t ORDER BY id DESC");
  EXPECT_EQ(ReadRows(s, Name, 2), (std::vector<std::string>{"three", "two"}));
  EXPECT_EQ(ReadRows(s, Name, 0), std::vector<std::string>{});
  EXPECT_EQ(ReadFirstRow(s, Name), "three");
}

TEST_F(ReadRowsTest, FirstRowOfNothingIsNullopt) {
  Statement s(db_, "SELECT name FROM t WHERE id = ?1");
  EXPECT_EQ(ReadFirstRow(s.Bind(1, int64_t{9}), Name), std::nullopt);
  EXPECT_EQ(ReadFirstRow(s.Bind(1, int64_t{2}), Name), "two");
  // Unbound after the reset: NULL matches no id.
  EXPECT_EQ(ReadFirstRow(s, Name), std::nullopt);
}

}  // namespace
}  // namespace callsim::harness
