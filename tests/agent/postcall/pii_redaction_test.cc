#include "agent/postcall/pii_redaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

struct Case {
  const char* input;
  const char* expected;
};

void ExpectTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(RedactPii(c.input), c.expected) << "input: " << c.input;
  }
}

TEST(PiiRedactionTest, WrittenCardNumbers) {
  ExpectTable({
      {"card 4111111111111111 thanks", "card [card] thanks"},
      {"4111 1111 1111 1111", "[card]"},
      {"my card is 4111-1111-1111-1111.", "my card is [card]."},
      {"amex 3782 822463 10005 ok", "amex [card] ok"},  // 15 digits, 4-6-5
      {"4222222222222", "[card]"},                      // 13 digits
      {"6011 0009 9013 9424 123", "[card]"},            // 19 digits
      {"4111.1111.1111.1111", "[card]"},
      {"(card:5500 0000 0000 0004)", "(card:[card])"},
      {"paid 19.99 4111 1111 1111 1111", "paid 19.99 [card]"},  // the decimal stays apart
  });
}

TEST(PiiRedactionTest, SpokenAndMixedCardNumbers) {
  ExpectTable({
      {"it's four one one one one one one one one one one one one one one one", "it's [card]"},
      {"four five six seven, one two three four, five six seven eight, nine oh one two", "[card]"},
      {"four five six seven 1234 five six seven eight 9012 please", "[card] please"},
      {"Four One One One, uh, one one one one, double one double one, triple one one", "[card]"},
      {"four oh oh oh dash one two three four dash five six seven eight dash nine zero one two",
       "[card]"},
  });
}

TEST(PiiRedactionTest, SocialSecurityNumbers) {
  ExpectTable({
      {"ssn 123-45-6789.", "ssn [ssn]."},
      {"it is 123 45 6789 ok", "it is [ssn] ok"},  // 3-2-4 shape, no context needed
      {"my social security number is 123456789", "my social security number is [ssn]"},
      {"SSN: 078051120", "SSN: [ssn]"},
      {"my s s n is one two three four five six seven eight nine", "my s s n is [ssn]"},
      {"one two three, four five, six seven eight nine", "[ssn]"},  // spoken 3-2-4
      {"one two three dash four five dash six seven eight nine", "[ssn]"},
  });
}

TEST(PiiRedactionTest, PhoneNumbers) {
  ExpectTable({
      {"call 555-123-4567", "call [phone]"},
      {"call (555) 123-4567 now", "call [phone] now"},
      {"+1 (555) 123-4567", "[phone]"},
      {"1-555-123-4567", "[phone]"},
      {"555.123.4567", "[phone]"},
      {"5551234567", "[phone]"},
      {"+44 20 7946 0958", "[phone]"},  // 12 digits after '+'
      {"five five five, one two three, four five six seven", "[phone]"},
      {"triple five one two three forty five sixty seven", "[phone]"},
      {"one eight hundred five five five one two one two", "[phone]"},
      {"double five five, one two three, 4567", "[phone]"},
      {"plus one five five five one two three four five six seven", "[phone]"},
  });
}

TEST(PiiRedactionTest, WrittenEmail) {
  ExpectTable({
      {"mail john.smith@example.com today", "mail [email] today"},
      {"<j_smith+tag99@mail.example.co.uk>", "<[email]>"},
      {"write to ops@example.org.", "write to [email]."},
      {"JOHN@EXAMPLE.COM", "[email]"},
      {"user @ example.com", "[email]"},
  });
}

TEST(PiiRedactionTest, SpokenEmail) {
  ExpectTable({
      {"my email is john dot smith at example dot com thanks", "my email is [email] thanks"},
      {"it's jsmith99 at gmail dot com.", "it's [email]."},
      {"j o h n at example dot org", "[email]"},
      {"john underscore smith at my dash shop dot co dot uk", "[email]"},
      {"john.smith at example dot com", "[email]"},
      {"john at sign example dot com", "[email]"},
      {"mary5 at example dot io", "[email]"},
      // Only the word before "at" (and what dots, dashes or spelling join to it) is the local
      // part: "mary" could as well be "is".
      {"mary five at example dot io", "mary [email]"},
  });
}

// What must survive: order ids, amounts, counts, dates, times, prose with "at" and "dot".
TEST(PiiRedactionTest, KeepsShortNumbersAndProse) {
  ExpectTable({
      {"order four five six seven", "order four five six seven"},
      {"order number 4567 please", "order number 4567 please"},
      {"that's forty two dollars", "that's forty two dollars"},
      {"I have 5 items", "I have 5 items"},
      {"order 12345678", "order 12345678"},      // 8 digits
      {"ticket 123456789", "ticket 123456789"},  // 9, no SSN shape or words
      {"ref one two three four five six seven eight nine",
       "ref one two three four five six seven eight nine"},
      {"fedex 123456789012", "fedex 123456789012"},      // 12 digits, no '+'
      {"$1,234,567,890 total", "$1,234,567,890 total"},  // thousands, not a phone
      {"pi is 3.14159265358979", "pi is 3.14159265358979"},
      {"card 4111111111111111.00", "card [card].00"},
      {"on 2024-05-12 at 10:30", "on 2024-05-12 at 10:30"},
      {"meet me at the store", "meet me at the store"},
      {"look at the dot com bubble", "look at the dot com bubble"},
      {"oh, one more thing", "oh, one more thing"},
      {"two of them for twenty five dollars", "two of them for twenty five dollars"},
      {"four hundred fifty six dollars", "four hundred fifty six dollars"},
      {"the last four are 1234", "the last four are 1234"},
      {"", ""},
  });
}

TEST(PiiRedactionTest, SeveralKindsInOneText) {
  PiiCounts counts;
  const std::string out = RedactPii(
      "card 4111 1111 1111 1111, ssn 123-45-6789 and phone 555 123 4567; "
      "mail a.b@c.com or x dot y at z dot net. Order 4567 ships.",
      &counts);
  EXPECT_EQ(out,
            "card [card], ssn [ssn] and phone [phone]; mail [email] or [email]. Order 4567 ships.");
  EXPECT_EQ(counts.of(PiiKind::kCard), 1);
  EXPECT_EQ(counts.of(PiiKind::kSsn), 1);
  EXPECT_EQ(counts.of(PiiKind::kPhone), 1);
  EXPECT_EQ(counts.of(PiiKind::kEmail), 2);
  EXPECT_EQ(counts.total(), 5);
  EXPECT_EQ(ToJson(counts), (nlohmann::json{{"card", 1}, {"ssn", 1}, {"phone", 1}, {"email", 2}}));
}

TEST(PiiRedactionTest, CountsAccumulateAndRedactionIsIdempotent) {
  PiiCounts counts;
  const std::string once = RedactPii("555-123-4567 and 555-987-6543", &counts);
  EXPECT_EQ(once, "[phone] and [phone]");
  EXPECT_EQ(RedactPii(once, &counts), once);
  EXPECT_EQ(counts.of(PiiKind::kPhone), 2);
}

TEST(PiiRedactionTest, FieldHintMarksNineDigitsAsSsn) {
  PiiCounts counts;
  EXPECT_EQ(RedactPii("123456789", &counts, "customer_SSN"), "[ssn]");
  EXPECT_EQ(RedactPii("123456789", &counts, "order_id"), "123456789");
  EXPECT_EQ(counts.of(PiiKind::kSsn), 1);
}

TEST(PiiRedactionTest, JsonRedactsStringsKeysAndIntegersRecursively) {
  const nlohmann::json in = {
      {"order_id", "4567"},
      {"card", 4111111111111111},
      {"ssn", "123456789"},
      {"amount", 42.5},
      {"count", 5},
      {"contacts", {{{"phone", "555-123-4567"}, {"ok", true}}, "mail jo@example.com"}},
      {"555-123-4567", "a phone as a key"},
      {"nothing", nullptr},
  };
  PiiCounts counts;
  const nlohmann::json out = RedactPiiJson(in, &counts);
  const nlohmann::json expected = {
      {"order_id", "4567"},
      {"card", "[card]"},
      {"ssn", "[ssn]"},
      {"amount", 42.5},
      {"count", 5},
      {"contacts", {{{"phone", "[phone]"}, {"ok", true}}, "mail [email]"}},
      {"[phone]", "a phone as a key"},
      {"nothing", nullptr},
  };
  EXPECT_EQ(out, expected);
  EXPECT_EQ(counts.total(), 5);
  EXPECT_EQ(in.at("card"), 4111111111111111);  // the input is untouched
}

TEST(PiiRedactionTest, JsonKeysThatCollideKeepBothValues) {
  const nlohmann::json out =
      RedactPiiJson(nlohmann::json{{"555-123-4567", 1}, {"555-987-6543", 2}});
  EXPECT_EQ(out, (nlohmann::json{{"[phone]", 1}, {"[phone]_2", 2}}));
}

TEST(PiiRedactionTest, JsonDeeperThanTheBoundIsReplacedNotWalked) {
  nlohmann::json deep = "4111 1111 1111 1111";
  for (int i = 0; i < 100; ++i) deep = nlohmann::json::array({deep});
  const std::string dumped = RedactPiiJson(deep).dump();
  EXPECT_EQ(dumped.find("4111"), std::string::npos);
  EXPECT_NE(dumped.find("[redacted]"), std::string::npos);
}

}  // namespace
}  // namespace callsim::agent
