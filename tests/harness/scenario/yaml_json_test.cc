#include "harness/scenario/yaml_json.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

using Json = nlohmann::json;

TEST(YamlJsonTest, ScalarsReadLikeTheTypedParser) {
  const YAML::Node n = YAML::Load(
      "[1, -2, 1.5, 1e3, .5, '7', \"x\", true, False, ~, null, plain, .inf, 0x10, 1_0, "
      "18446744073709551615, yes]");
  Json out;
  std::string error, error_path;
  ASSERT_TRUE(YamlToJson(n, "", {}, &out, nullptr, &error, &error_path));
  EXPECT_EQ(out.dump(),
            R"([1,-2,1.5,1000.0,0.5,"7","x",true,false,null,null,"plain",".inf","0x10","1_0",)"
            R"(18446744073709551615,"yes"])");
  ASSERT_TRUE(YamlToJson(n, "", {.clamp_to_int64 = true}, &out, nullptr, &error, &error_path));
  EXPECT_EQ(out[15], std::numeric_limits<int64_t>::max());
}

TEST(YamlJsonTest, IndexesEveryNodeAndKeepsTheFirstOfRepeatedKeys) {
  const YAML::Node n = YAML::Load("a: { b: [10, {c: 2}] }\nd: 1\nd: 2\n");
  Json out;
  YamlIndex index;
  std::string error, error_path;
  ASSERT_TRUE(YamlToJson(n, "", {}, &out, &index, &error, &error_path));
  EXPECT_EQ(out.dump(), R"({"a":{"b":[10,{"c":2}]},"d":1})");
  for (const char* path : {"", "a", "a.b", "a.b.0", "a.b.1", "a.b.1.c", "d"}) {
    EXPECT_TRUE(index.count(path)) << path;
  }
  EXPECT_EQ(index.at("a.b.1.c").value.Mark().line, 0);
  EXPECT_EQ(index.at("a.b.1.c").value.Mark().column, 17);
  EXPECT_EQ(index.at("a.b.1.c").key.Scalar(), "c");
}

TEST(YamlJsonTest, AliasBombsAreBounded) {
  // Each level repeats the one below ten times: 10^7 values from a few lines.
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 7; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) text += ", " + prev;
    text += "]\n";
  }
  Json out;
  std::string error, error_path;
  EXPECT_FALSE(YamlToJson(YAML::Load(text), "", {}, &out, nullptr, &error, &error_path));
  EXPECT_EQ(error, "the scenario expands to more than 1000000 values (YAML aliases?)");
}

TEST(YamlJsonTest, DepthIsBounded) {
  std::string text = "a: ";
  for (int i = 0; i < 100; ++i) text += "[";
  for (int i = 0; i < 100; ++i) text += "]";
  Json out;
  std::string error, error_path;
  EXPECT_FALSE(YamlToJson(YAML::Load(text), "", {}, &out, nullptr, &error, &error_path));
  EXPECT_EQ(error, "the scenario nests deeper than 64 levels (an alias to an enclosing node?)");
  EXPECT_EQ(error_path.substr(0, 8), "a.0.0.0.");
}

}  // namespace
}  // namespace callsim::harness
