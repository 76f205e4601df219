// NameTable: a closed set's names, read and printed from one table; a value outside the set has no
// name (the process stops rather than store a made-up one).
#include "agent/runtime/name_table.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

enum class Fruit { kApple, kPear, kPlum };
constexpr NameTable<Fruit, 3> kFruitNames{{"apple", "pear", "plum"}};

enum Legacy : unsigned { kFirst, kSecond };  // an unscoped, unsigned enum works the same
constexpr NameTable<Legacy, 2> kLegacyNames{{"first", "second"}};

TEST(NameTableTest, NamesAndParsesEveryValueExactly) {
  EXPECT_EQ(kFruitNames.Name(Fruit::kApple), "apple");
  EXPECT_EQ(kFruitNames.Name(Fruit::kPlum), "plum");
  EXPECT_EQ(kFruitNames.Parse("pear"), Fruit::kPear);
  EXPECT_EQ(kFruitNames.Parse("Pear"), std::nullopt);
  EXPECT_EQ(kFruitNames.Parse("pear "), std::nullopt);
  EXPECT_EQ(kFruitNames.Parse(""), std::nullopt);
  EXPECT_EQ(kLegacyNames.Parse("second"), kSecond);
  EXPECT_EQ(kLegacyNames.Name(kFirst), "first");
}

TEST(NameTableTest, ContainsOnlyTheSetsValues) {
  EXPECT_TRUE(kFruitNames.Contains(Fruit::kPlum));
  EXPECT_FALSE(kFruitNames.Contains(static_cast<Fruit>(3)));
  EXPECT_FALSE(kFruitNames.Contains(static_cast<Fruit>(-1)));
  EXPECT_FALSE(kLegacyNames.Contains(static_cast<Legacy>(2)));
}

TEST(NameTableTest, JoinsNamesForMessages) {
  EXPECT_EQ(kFruitNames.Join(", ", " or "), "apple, pear or plum");
  EXPECT_EQ(kLegacyNames.Join(" | ", " | "), "first | second");
}

TEST(NameTableDeathTest, NamingAValueOutsideTheSetStops) {
  EXPECT_DEATH(kFruitNames.Name(static_cast<Fruit>(7)), "check failed: Contains\\(value\\)");
}

}  // namespace
}  // namespace callsim::agent
