#include "agent/postcall/pii_tokens.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace callsim::agent {
namespace {

TEST(PiiTokensTest, TokensKeepOffsetsAndLowercaseWords) {
  const std::vector<PiiToken> tokens = TokenizeForPii("Forty-five, 12 don't");
  ASSERT_EQ(tokens.size(), 8u);
  EXPECT_EQ(tokens[0].text, "forty");
  EXPECT_EQ(tokens[1].text, "-");
  EXPECT_EQ(tokens[3].text, ",");
  EXPECT_EQ(tokens[4].kind, PiiTokenKind::kSpace);
  EXPECT_EQ(tokens[5].text, "12");
  EXPECT_EQ(tokens[5].begin, 12u);
  EXPECT_EQ(tokens[5].end, 14u);
  EXPECT_EQ(tokens[7].text, "don't");
}

TEST(PiiTokensTest, DigitItemsCountSpokenDigits) {
  const auto digits_at = [](const char* text) {
    const std::optional<DigitItem> item = ParseDigitItem(TokenizeForPii(text), 0);
    return item ? item->digits : 0;
  };
  EXPECT_EQ(digits_at("forty-five"), 2);
  EXPECT_EQ(digits_at("forty five"), 2);
  EXPECT_EQ(digits_at("forty five hundred"), 2);  // "forty" alone; "five hundred" is next
  EXPECT_EQ(digits_at("double oh"), 2);
  EXPECT_EQ(digits_at("triple 7"), 3);
  EXPECT_EQ(digits_at("eight hundred"), 3);
  EXPECT_EQ(digits_at("nineteen"), 2);
  EXPECT_EQ(digits_at("12345"), 5);
  EXPECT_EQ(digits_at("double trouble"), 0);
  EXPECT_EQ(digits_at("thousand"), 0);
}

TEST(PiiTokensTest, DigitItemSpansAndWeakZeros) {
  const std::vector<PiiToken> tokens = TokenizeForPii("oh forty-five double 5");
  const std::optional<DigitItem> oh = ParseDigitItem(tokens, 0);
  ASSERT_TRUE(oh.has_value());
  EXPECT_TRUE(oh->weak);
  EXPECT_TRUE(oh->spoken);
  const std::optional<DigitItem> forty_five = ParseDigitItem(tokens, 2);
  ASSERT_TRUE(forty_five.has_value());
  EXPECT_EQ(forty_five->last, 4u);
  const std::optional<DigitItem> double_5 = ParseDigitItem(tokens, 6);
  ASSERT_TRUE(double_5.has_value());
  EXPECT_EQ(double_5->last, 8u);
  EXPECT_EQ(double_5->digits, 2);
  EXPECT_FALSE(double_5->spoken);
  EXPECT_FALSE(ParseDigitItem(tokens, 1).has_value());  // a space
}

}  // namespace
}  // namespace callsim::agent
