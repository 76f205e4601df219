#include "fakes/tools/standard_tool_specs.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "agent/tools/tool_schema.h"
#include "fakes/tools/fake_tools.h"

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;

// YAML as JSON: quoted scalars are strings; plain ones are null, booleans, integers or numbers
// when they read as such (YAML 1.2 core schema), else strings.
Json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    Json out = Json::object();
    for (const auto& entry : node) out[entry.first.as<std::string>()] = ToJson(entry.second);
    return out;
  }
  if (node.IsSequence()) {
    Json out = Json::array();
    for (const auto& item : node) out.push_back(ToJson(item));
    return out;
  }
  if (node.IsNull()) return nullptr;
  const std::string text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true" || text == "false") return text == "true";
  int64_t integer = 0;
  const char* end = text.data() + text.size();
  if (auto [p, ec] = std::from_chars(text.data(), end, integer); ec == std::errc() && p == end) {
    return integer;
  }
  char* number_end = nullptr;
  const double number = std::strtod(text.c_str(), &number_end);
  if (!text.empty() && number_end == text.c_str() + text.size()) return number;
  return text;
}

Json SpecToJson(const agent::ToolSpec& spec) {
  return {{"name", spec.name},
          {"description", spec.description},
          {"backend", spec.backend},
          {"destructive", spec.destructive},
          {"timeout_ms", spec.timeout_ms},
          {"parameters", spec.parameters}};
}

TEST(StandardToolSpecsTest, TheYamlFileDeclaresExactlyTheSameTools) {
  const std::filesystem::path file =
      std::filesystem::path(CALLSIM_SOURCE_DIR) / "scenarios/tools/standard.yaml";
  const Json yaml = ToJson(YAML::LoadFile(file.string()));
  const std::vector<agent::ToolSpec> specs = StandardToolSpecs();
  ASSERT_TRUE(yaml.is_array());
  ASSERT_EQ(yaml.size(), specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(yaml[i], SpecToJson(specs[i])) << "tool " << i << " (" << specs[i].name
                                             << ") differs between " << file
                                             << " and StandardToolSpecs()";
  }
}

TEST(StandardToolSpecsTest, DeclaresTheEightToolsWithTheRightFlags) {
  std::set<std::string> names, destructive;
  for (const agent::ToolSpec& spec : StandardToolSpecs()) {
    names.insert(spec.name);
    if (spec.destructive) destructive.insert(spec.name);
    EXPECT_GT(spec.timeout_ms, 0) << spec.name;
    // Plain words: they are spoken in the confirmation question.
    EXPECT_EQ(spec.description.find_first_not_of("abcdefghijklmnopqrstuvwxyz "), std::string::npos)
        << spec.description;
    EXPECT_EQ(spec.parameters["additionalProperties"], false) << spec.name;
    EXPECT_EQ(spec.parameters["required"].size(), spec.parameters["properties"].size()) << spec.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"check_order_status", "cancel_order", "find_slots",
                                          "book_appointment", "cancel_appointment", "take_payment",
                                          "refund", "transfer_to_human"}));
  EXPECT_EQ(destructive,
            (std::set<std::string>{"cancel_order", "cancel_appointment", "take_payment", "refund"}));
}

// For each tool: arguments its schema accepts, which its fake back end also accepts.
const std::map<std::string, Json> kValidArgs = {
    {"check_order_status", {{"order_id", "4567"}}},
    {"cancel_order", {{"order_id", "4567"}}},
    {"find_slots", {{"day", "monday"}}},
    {"book_appointment", {{"day", "monday"}, {"time", "10:30"}}},
    {"cancel_appointment", {{"confirmation", "A123456"}}},
    {"take_payment", {{"amount", 20.5}, {"card_number", "4111111111111111"}}},
    {"refund", {{"order_id", "4567"}, {"amount", 20}}},
    {"transfer_to_human", {{"department", "billing"}}},
};

TEST(StandardToolSpecsTest, EverySchemaCompilesAndEveryToolHasAFakeBackEnd) {
  const std::map<std::string, FakeToolBackendSpec> backends = StandardFakeToolBackendSpecs();
  for (const agent::ToolSpec& spec : StandardToolSpecs()) {
    const agent::ToolSchema schema(spec.parameters);
    ASSERT_TRUE(schema.ok()) << spec.name << ": " << schema.error();
    ASSERT_TRUE(kValidArgs.count(spec.name)) << spec.name;
    const Json& args = kValidArgs.at(spec.name);
    EXPECT_EQ(schema.Check(args), "") << spec.name;
    EXPECT_EQ(schema.Check(Json::object()).rfind("/: missing required property ", 0), 0u);
    ASSERT_TRUE(backends.count(spec.backend)) << spec.backend;
    const agent::ToolOutcome outcome = RunFakeTool(spec.backend, spec.name, args);
    EXPECT_TRUE(outcome.ok) << spec.name << ": " << outcome.error;
  }
  for (const auto& [name, spec] : backends) EXPECT_EQ(ValidateFakeToolBackendSpec(spec), "") << name;
}

}  // namespace
}  // namespace callsim::fakes
