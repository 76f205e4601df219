// The LLM script parser: rules, typed tool arguments, and every refusal with its position.
#include "fakes/llm/llm_script.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/fakes/llm/llm_script_fixtures.h"

namespace callsim::fakes {
namespace {

using llm_test::kSupportScript;
using llm_test::MustParse;

std::string ParseError(const std::string& yaml) {
  LlmScript script;
  std::string error;
  EXPECT_FALSE(ParseLlmScript(yaml, "t.yaml", &script, &error)) << yaml;
  return error;
}

TEST(LlmScriptTest, ParsesRulesInOrder) {
  const LlmScript s = MustParse(kSupportScript);
  ASSERT_EQ(s.rules.size(), 5u);
  EXPECT_EQ(s.rules[0].when->after_tool, "check_order_status");
  EXPECT_EQ(s.rules[1].line, 4);
  EXPECT_EQ(s.rules[1].when->contains_any, (std::vector<std::string>{"order", "status"}));
  ASSERT_TRUE(s.rules[1].tool_call.has_value());
  EXPECT_EQ(s.rules[1].tool_call->name, "check_order_status");
  EXPECT_EQ(s.rules[1].tool_call->arguments_json, R"({"order_id":"4567","rush":false})");
  EXPECT_EQ(s.rules[2].when->matches_source, "^refund( me)?$");
  EXPECT_FALSE(s.rules[4].when.has_value());
  EXPECT_EQ(s.rules[4].say, "Sorry, I didn't catch that.");
}

TEST(LlmScriptTest, ArgsScalarsAreTypedAndRawStringsVerbatim) {
  const LlmScript s = MustParse(R"(rules:
  - tool_call:
      name: f
      args: { n: 3, neg: -7, f: 1.5, b: true, q: "7", z: ~, l: [1, x], o: 0x1F }
  - tool_call: { name: g, args: '{"order_id": 45' }
  - tool_call: { name: h }
)");
  ASSERT_EQ(s.rules.size(), 3u);
  EXPECT_EQ(s.rules[0].tool_call->arguments_json,
            R"({"n":3,"neg":-7,"f":1.5,"b":true,"q":"7","z":null,"l":[1,"x"],"o":"0x1F"})");
  EXPECT_EQ(s.rules[1].tool_call->arguments_json, R"({"order_id": 45)");
  EXPECT_EQ(s.rules[2].tool_call->arguments_json, "{}");
}

TEST(LlmScriptTest, UnknownKeyReportsLineAndColumn) {
  const std::string error = ParseError("rules:\n  - say: hi\n    colour: red\n");
  EXPECT_EQ(error, "t.yaml:3:5: unknown key `colour` in a rule");
}

TEST(LlmScriptTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(ParseError("rules:\n  - say: hi\n    say: ho\n"),
            "t.yaml:3:5: duplicate key `say` in a rule");
  EXPECT_EQ(ParseError("rules: []\nrules: []\n"),
            "t.yaml:2:1: duplicate key `rules` in the script");
  EXPECT_EQ(ParseError("rules:\n  - tool_call: { name: f, args: { a: 1, b: 2, a: 3 } }\n"),
            "t.yaml:2:47: duplicate key `a` in `args`");
  EXPECT_EQ(ParseError("rules:\n  - when: { matches: x, 'matches': y }\n    say: hi\n"),
            "t.yaml:2:25: duplicate key `matches` in `when`");
}

TEST(LlmScriptTest, WrongTypesAndBadValuesAreErrors) {
  EXPECT_EQ(ParseError("rules:\n  - say: [a, b]\n"), "t.yaml:2:10: `say` must be a string");
  EXPECT_EQ(ParseError("rules:\n  - when: { contains_any: order }\n    say: hi\n"),
            "t.yaml:2:27: `contains_any` must be a non-empty list of strings");
  EXPECT_EQ(ParseError("rules:\n  - when: { contains_all: [\"?!\"] }\n    say: hi\n"),
            "t.yaml:2:28: phrase `?!` has no words");
  EXPECT_EQ(ParseError("rules: {}\n"), "t.yaml:1:8: `rules` must be a list");
  EXPECT_EQ(ParseError("rules:\n  - say:\n  - say: x\n"), "t.yaml:2:5: `say` has no value");
  EXPECT_EQ(ParseError("rules:\n  - when: { after_tool: x }\n"),
            "t.yaml:2:5: a rule needs a non-empty `say`, a `tool_call` or both");
  EXPECT_EQ(ParseError("rules:\n  - tool_call: { args: {} }\n"),
            "t.yaml:2:16: `tool_call` needs a `name`");
  EXPECT_EQ(ParseError("- say: hi\n"), "t.yaml:1:1: the script must be a map with `rules`");
  EXPECT_EQ(ParseError(""), "t.yaml:1:1: the script must be a map with `rules`");
}

TEST(LlmScriptTest, InvalidRegexIsAnError) {
  const std::string error = ParseError("rules:\n  - when: { matches: \"(ab\" }\n    say: hi\n");
  EXPECT_EQ(error.rfind("t.yaml:2:22: invalid regex `(ab`", 0), 0u) << error;
}

TEST(LlmScriptTest, PatternsRe2RefusesAreErrorsWithTheirPosition) {
  EXPECT_EQ(ParseError("rules:\n  - when: { matches: \"(a) \\\\1\" }\n    say: hi\n"),
            "t.yaml:2:22: invalid regex `(a) \\1` (RE2 syntax): invalid escape sequence: \\1");
  EXPECT_EQ(ParseError("rules:\n  - say: hi\n  - when: { matches: \"order(?! number)\" }\n"
                       "    say: no\n"),
            "t.yaml:3:22: invalid regex `order(?! number)` (RE2 syntax): invalid perl operator: (?!");
}

TEST(LlmScriptTest, YamlSyntaxErrorCarriesPosition) {
  const std::string error = ParseError("rules:\n  - say: [a, b\n  - say: c\n");
  EXPECT_EQ(error.rfind("t.yaml:3:", 0), 0u) << error;
}

TEST(LlmScriptTest, AliasCyclesInArgsAreBounded) {
  const std::string error = ParseError("rules:\n  - tool_call: { name: f, args: &a [*a] }\n");
  EXPECT_NE(error.find("nested too deeply"), std::string::npos) << error;
}

TEST(LlmScriptTest, LoadReadsFileAndNamesItInErrors) {
  const std::string path = ::testing::TempDir() + "/llm_script_test_script.yaml";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("rules:\n  - say: hi\n  - bogus: 1\n", f);
  std::fclose(f);
  LlmScript script;
  std::string error;
  EXPECT_FALSE(LoadLlmScript(path, &script, &error));
  EXPECT_EQ(error, path + ":3:5: unknown key `bogus` in a rule");
  EXPECT_FALSE(LoadLlmScript(path + ".missing", &script, &error));
  EXPECT_EQ(error, path + ".missing: cannot read the LLM script: no such file");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace callsim::fakes
