#include "agent/tools/tool_schema.h"

#include <string>

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
  EXPECT_EQ(ToolSchema(Json::parse(R"({"pattern": "("})")).error(), R"(invalid pattern "(")");
}

TEST(ToolSchemaTest, ValidPatternsWork) {
  const Json schema = Json::parse(R"({"properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}})");
  EXPECT_EQ(Check(schema, R"({"id": "123"})"), "");
  EXPECT_EQ(Check(schema, R"({"id": "12a"})"), R"(/id: expected text matching "^[0-9]+$")");
}

}  // namespace
}  // namespace callsim::agent
