#include "agent/tools/tool_schema.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

using Json = nlohmann::json;

const Json kPayment = Json::parse(R"({
  "type": "object",
  "properties": {
    "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
    "card_number": {"type": "string", "minLength": 13, "maxLength": 19},
    "items": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 2},
    "currency": {"enum": ["usd", "eur"]},
    "a/b~c": {"type": ["string", "null"]}
  },
  "required": ["amount", "card_number"],
  "additionalProperties": false
})");

std::string Check(const Json& schema, const char* args) {
  ToolSchema compiled(schema);
  EXPECT_TRUE(compiled.ok()) << compiled.error();
  return compiled.Check(Json::parse(args));
}

TEST(ToolSchemaTest, ValidArgumentsGiveNoFinding) {
  EXPECT_EQ(Check(kPayment, R"({"amount": 12.5, "card_number": "4111111111111111"})"), "");
  EXPECT_EQ(Check(kPayment, R"({"amount": 1, "card_number": "4111111111111", "items": [1, 2],
                                "currency": "eur", "a/b~c": null})"),
            "");
}

TEST(ToolSchemaTest, NamesWhatWasExpectedWhereInShortWords) {
  const char* card = R"("card_number": "4111111111111111")";
  auto with = [&](const std::string& extra) { return "{" + extra + ", " + card + "}"; };
  EXPECT_EQ(Check(kPayment, with(R"("amount": "12")").c_str()), "/amount: expected number");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 0)").c_str()), "/amount: expected a number > 0");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 100000.5)").c_str()),
            "/amount: expected a number <= 100000");
  EXPECT_EQ(Check(kPayment, R"({"amount": 1, "card_number": "4111"})"),
            "/card_number: expected at least 13 characters");
  EXPECT_EQ(Check(kPayment, R"({"amount": 1, "card_number": "41111111111111111111"})"),
            "/card_number: expected at most 19 characters");
  EXPECT_EQ(Check(kPayment, R"({"card_number": "4111111111111111"})"),
            "/: missing required property amount");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "colour": "red")").c_str()),
            "/: unexpected property colour");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "items": [1, 0])").c_str()),
            "/items/1: expected a number >= 1");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "items": [1, 1.5])").c_str()),
            "/items/1: expected integer");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "items": [1, 2, 3])").c_str()),
            "/items: expected at most 2 items");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "currency": "gbp")").c_str()),
            R"(/currency: expected one of "usd", "eur")");
  EXPECT_EQ(Check(kPayment, with(R"("amount": 1, "a/b~c": 5)").c_str()),
            "/a~1b~0c: expected string or null");
}

TEST(ToolSchemaTest, SeveralProblemsNameTheFirstByPointerThenMessage) {
  // Missing card_number (at "/") sorts before the wrong amount (at "/amount") and "colour".
  EXPECT_EQ(Check(kPayment, R"({"amount": "x", "colour": 1})"),
            "/: missing required property card_number");
  EXPECT_EQ(Check(kPayment, R"({"amount": "x", "card_number": 5})"), "/amount: expected number");
}

TEST(ToolSchemaTest, RootOfTheWrongType) {
  EXPECT_EQ(Check(kPayment, "[]"), "/: expected object");
}

TEST(ToolSchemaTest, EmptySchemaAcceptsAnyObject) {
  EXPECT_EQ(Check(Json::object(), R"({"anything": [1, {"a": null}]})"), "");
}

TEST(ToolSchemaTest, SchemasValijsonCannotTakeAreRefusedNotFatal) {
  const char* bad[] = {
      R"({"type": "objekt"})",
      R"({"type": "object", "properties": {"a": {"type": 5}}})",
      R"({"required": "a"})",
      R"({"maxLength": 1.5})",
      R"({"properties": {"a": {"$ref": "#/definitions/missing"}}})",
      R"({"properties": {"a": {"$ref": "http://example.com/schema.json"}}})",
      R"({"properties": {"a": {"type": "string", "pattern": "("}}})",
      R"({"patternProperties": {"[": {}}})",
      R"([1, 2])",
  };
  for (const char* text : bad) {
    ToolSchema schema(Json::parse(text));
    EXPECT_FALSE(schema.ok()) << text;
    EXPECT_FALSE(schema.error().empty()) << text;
    EXPECT_EQ(schema.Check(Json::object()).rfind("/: unusable schema (", 0), 0u) << text;
  }
  EXPECT_EQ(ToolSchema(Json::parse(R"({"type": "objekt"})")).error(),
            "not a draft-07 schema: /type: failed to match against any enum values");
  EXPECT_EQ(ToolSchema(Json::parse(R"({"pattern": "("})")).error(),
            R"(invalid pattern "(": missing ): ()");
}

TEST(ToolSchemaTest, PatternsRe2RefusesAreRefusedWithTheirPlace) {
  const ToolSchema backreference(
      Json::parse(R"({"properties": {"id": {"type": "string", "pattern": "^(a)\\1$"}}})"));
  EXPECT_EQ(backreference.error(), R"(invalid pattern "^(a)\\1$": invalid escape sequence: \1)");
  EXPECT_EQ(backreference.error_at(), (std::vector<std::string>{"properties", "id", "pattern"}));
  const ToolSchema lookahead(Json::parse(R"json({"patternProperties": {"^(?=x)": {}}})json"));
  EXPECT_EQ(lookahead.error(), R"re(invalid pattern "^(?=x)": invalid perl operator: (?=)re");
  EXPECT_EQ(lookahead.error_at(), (std::vector<std::string>{"patternProperties", "^(?=x)"}));
  // Compiled, this would take far more than RE2's memory budget.
  const ToolSchema huge(Json::parse(R"({"items": [{}, {"pattern": "\\pL{1000}"}]})"));
  EXPECT_FALSE(huge.ok());
  EXPECT_EQ(huge.error_at(), (std::vector<std::string>{"items", "1", "pattern"}));
  const ToolSchema type(Json::parse(R"({"properties": {"a": {"type": "bogus"}}})"));
  EXPECT_EQ(type.error_at(), (std::vector<std::string>{"properties", "a", "type"}));
  // Data is not schema: "$ref" and "pattern" inside enum and const are values.
  EXPECT_TRUE(ToolSchema(Json::parse(R"({"enum": [{"$ref": "#", "pattern": "("}]})")).ok());
}

// std::regex recurses once per repetition: this schema and 7,000 characters overflowed the stack.
TEST(ToolSchemaTest, HostilePatternOnLongArgumentIsJudgedByItsMeaning) {
  const Json schema = Json::parse(R"({"properties": {"s": {"type": "string", "pattern": "^((a|b))*$"}}})");
  std::string text;
  for (int i = 0; i < 3500; ++i) text += "ab";
  EXPECT_EQ(Check(schema, Json{{"s", text}}.dump().c_str()), "");
  EXPECT_EQ(Check(schema, Json{{"s", text + "c"}}.dump().c_str()),
            R"(/s: expected text matching "^((a|b))*$")");
}

// (.*)*x backtracks catastrophically in std::regex; RE2 answers in linear time.
TEST(ToolSchemaTest, CatastrophicPatternAnswersPromptly) {
  const Json schema = Json::parse(R"({"properties": {"s": {"pattern": "(.*)*x"}}})");
  const std::string utterance = "i would like to know where my order is please it has been a week";
  EXPECT_EQ(Check(schema, Json{{"s", utterance}}.dump().c_str()),
            R"(/s: expected text matching "(.*)*x")");
  EXPECT_EQ(Check(schema, Json{{"s", utterance + " x"}}.dump().c_str()), "");
  EXPECT_EQ(Check(schema, R"({"s": 5})"), "");  // a pattern says nothing about other types
}

TEST(ToolSchemaTest, PatternPropertiesKeepTheirMeaning) {
  const Json schema = Json::parse(R"({
    "properties": {"x_b": {"minimum": 10}},
    "patternProperties": {"^x_": {"type": "integer"}, "_b$": {"maximum": 20}},
    "additionalProperties": false
  })");
  EXPECT_EQ(Check(schema, R"({"x_a": 1, "x_b": 15})"), "");
  EXPECT_EQ(Check(schema, R"({"x_a": "one"})"), "/x_a: expected integer");
  EXPECT_EQ(Check(schema, R"({"x_b": 5})"), "/x_b: expected a number >= 10");  // properties too
  EXPECT_NE(Check(schema, R"({"x_b": 25})"), "");  // properties and both patterns apply
  EXPECT_EQ(Check(schema, R"({"y_b": 25})"), "/y_b: expected a number <= 20");
  EXPECT_EQ(Check(schema, R"({"y": 1})"), "/: unexpected property y");
}

TEST(ToolSchemaTest, PatternsApplyInsideCombinatorsAndToPropertyNames) {
  const Json any = Json::parse(R"({"properties": {"s": {"anyOf": [{"pattern": "^[0-9]+$"},
                                                                 {"pattern": "^[a-z]+$"}]}}})");
  EXPECT_EQ(Check(any, R"({"s": "123"})"), "");
  EXPECT_EQ(Check(any, R"({"s": "abc"})"), "");
  EXPECT_NE(Check(any, R"({"s": "a1"})"), "");
  const Json names = Json::parse(R"({"propertyNames": {"pattern": "^[a-z_]+$"}})");
  EXPECT_EQ(Check(names, R"({"order_id": 1})"), "");
  EXPECT_NE(Check(names, R"({"Order-Id": 1})"), "");
}

TEST(ToolSchemaTest, DateAndTimeFormatsAreCheckedWithoutStdRegex) {
  const Json schema = Json::parse(R"({"properties": {"d": {"format": "date"},
                                                     "t": {"format": "time"},
                                                     "dt": {"format": "date-time"}}})");
  EXPECT_EQ(Check(schema, R"({"d": "2024-02-29", "t": "16:52:45.5+02:00",
                              "dt": "2022-07-18T16:52:45Z"})"),
            "");
  EXPECT_EQ(Check(schema, R"({"d": "2024-04-31"})"), "/d: expected a valid date");
  EXPECT_EQ(Check(schema, R"({"t": "24:00:00Z"})"), "/t: expected a valid time");
  EXPECT_EQ(Check(schema, R"({"dt": "2022-07-18 16:52:45Z"})"), "/dt: expected a valid date-time");
  // Long hostile strings: valijson's std::regex would recurse once per character.
  const std::string digits(7000, '1');
  EXPECT_EQ(Check(schema, Json{{"d", digits + "-01-31"}}.dump().c_str()), "");
  EXPECT_EQ(Check(schema, Json{{"t", "12:00:00." + digits + "Z"}}.dump().c_str()), "");
  EXPECT_EQ(Check(schema, Json{{"dt", digits + "x"}}.dump().c_str()),
            "/dt: expected a valid date-time");
}

TEST(ToolSchemaTest, IdIsIgnoredNotParsedAsAUri) {
  const Json schema = {{"type", "object"}, {"id", "urn:isbn:" + std::string(100000, '1')}};
  EXPECT_EQ(Check(schema, "{}"), "");
}

TEST(ToolSchemaTest, ValidPatternsWork) {
  const Json schema = Json::parse(R"({"properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}})");
  EXPECT_EQ(Check(schema, R"({"id": "123"})"), "");
  EXPECT_EQ(Check(schema, R"({"id": "12a"})"), R"(/id: expected text matching "^[0-9]+$")");
}

}  // namespace
}  // namespace callsim::agent
