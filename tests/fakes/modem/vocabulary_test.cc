#include "fakes/modem/vocabulary.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "agent/text/words.h"

namespace callsim::fakes {
namespace {

TEST(VocabularyTest, SizeFitsThreeHexDigits) {
  const Vocabulary& v = Vocabulary::Builtin();
  EXPECT_GE(v.size(), 1500u);
  EXPECT_LE(v.size(), 3001u);
  EXPECT_LE(v.size(), 4096u);  // the modem sends indices as 3 base-16 digits
}

TEST(VocabularyTest, IndexZeroIsUnknown) {
  const Vocabulary& v = Vocabulary::Builtin();
  EXPECT_EQ(v.WordAt(0), "<unk>");
  EXPECT_EQ(v.IndexOf("<unk>"), 0);
  EXPECT_EQ(v.IndexOf("zyzzyva"), 0);
  EXPECT_EQ(v.IndexOf(""), 0);
  EXPECT_EQ(v.IndexOf("Hello"), 0);  // lookups take normalized words only
  EXPECT_EQ(v.WordAt(-1), "<unk>");
  EXPECT_EQ(v.WordAt(static_cast<int>(v.size())), "<unk>");
}

TEST(VocabularyTest, NoDuplicates) {
  const Vocabulary& v = Vocabulary::Builtin();
  std::set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_TRUE(seen.insert(v.WordAt(static_cast<int>(i))).second)
        << "duplicate: " << v.WordAt(static_cast<int>(i));
  }
}

TEST(VocabularyTest, EveryIndexRoundTrips) {
  const Vocabulary& v = Vocabulary::Builtin();
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(v.IndexOf(v.WordAt(static_cast<int>(i))), static_cast<int>(i))
        << v.WordAt(static_cast<int>(i));
  }
}

TEST(VocabularyTest, EveryWordIsNormalized) {
  const Vocabulary& v = Vocabulary::Builtin();
  for (size_t i = 1; i < v.size(); ++i) {
    const std::string& w = v.WordAt(static_cast<int>(i));
    const std::vector<std::string> normalized = agent::NormalizeWords(w);
    ASSERT_EQ(normalized.size(), 1u) << w;
    EXPECT_EQ(normalized[0], w);
  }
}

TEST(VocabularyTest, HoldsTheWordsCallersUse) {
  const Vocabulary& v = Vocabulary::Builtin();
  const char* required[] = {
      // numbers and ordinals
      "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
      "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
      "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
      "hundred", "thousand", "million", "first", "second", "third", "fourth", "fifth", "sixth",
      "seventh", "eighth", "ninth", "tenth", "oh",
      // days and months
      "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
      "february", "march", "april", "may", "june", "july", "august", "september", "october",
      "november", "december",
      // customer support
      "order", "status", "shipped", "delivery", "refund", "appointment", "booking", "payment",
      "card", "account", "balance", "transfer", "agent", "human", "cancel", "reschedule", "confirm",
      "help", "check", "number", "tracking", "password", "address",
      // contractions
      "don't", "i'm", "it's", "can't", "what's", "i'd", "you're", "that's", "won't", "i'll",
      // common words
      "the", "and", "because", "without", "not", "yes", "no", "please", "thank", "you"};
  for (const char* w : required) EXPECT_GT(v.IndexOf(w), 0) << w;
  for (char c = 'a'; c <= 'z'; ++c) EXPECT_GT(v.IndexOf(std::string(1, c)), 0) << c;
}

}  // namespace
}  // namespace callsim::fakes
