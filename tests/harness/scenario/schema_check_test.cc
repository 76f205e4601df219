// scenarios/schema.json: the compiled-in copy is the file; the bundled scenarios conform; invalid
// documents give one finding each at the right path; the schema's bounds are the typed parser's.
#include "harness/scenario/schema_check.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include <gtest/gtest.h>

#include "harness/measure/threshold.h"
#include "harness/scenario/schema_text.h"
#include "harness/scenario/yaml_reader.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

const std::filesystem::path kSourceDir = CALLSIM_SOURCE_DIR;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// "path: message" for each finding, deferred ones marked.
std::vector<std::string> Findings(const Json& doc) {
  std::vector<std::string> out;
  for (const SchemaFinding& f : CheckScenarioSchema(doc, nullptr)) {
    out.push_back((f.deferred ? "(deferred) " : "") + f.path + ": " + f.message);
  }
  return out;
}

Json Doc(const char* json) { return Json::parse(json); }

TEST(ScenarioSchemaTest, CompiledInSchemaIsTheFileByteForByte) {
  const std::string file = ReadFile(kSourceDir / "scenarios/schema.json");
  ASSERT_FALSE(file.empty());
  EXPECT_TRUE(file == ScenarioSchemaText())
      << "the compiled-in schema differs from scenarios/schema.json: reconfigure the build";
  EXPECT_EQ(OrderedJson::parse(file)["$schema"], "http://json-schema.org/draft-07/schema#");
}

TEST(ScenarioSchemaTest, EveryBundledScenarioConforms) {
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir / "scenarios")) {
    if (entry.path().extension() != ".yaml") continue;
    ++checked;
    const YAML::Node root = YAML::LoadFile(entry.path().string());
    Json doc;
    std::string error, error_path;
    ASSERT_TRUE(YamlToJson(root, "", {.clamp_to_int64 = true}, &doc, nullptr, &error, &error_path));
    EXPECT_EQ(Findings(doc), std::vector<std::string>{}) << entry.path();
    const LoadResult r = LoadScenarioFile(entry.path().string());
    EXPECT_EQ(testing::ErrorStrings(r), std::vector<std::string>{}) << entry.path();
  }
  EXPECT_GE(checked, 3u);
}

TEST(ScenarioSchemaTest, InvalidDocumentsGiveOneFindingEach) {
  EXPECT_EQ(
      Findings(Doc(R"({"name": "t", "turns": [{"user": "hi"}], "colour": 1})")),
      std::vector<std::string>{"colour: unknown key colour (expected one of: name, codec, opus, "
                               "network, caller, agent, fakes, turns, load, thresholds, realtime, compare, seed)"});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"user": "hi"}], "network": {"uplink": {"delay_ms": "40"}}})")),
      std::vector<std::string>{
          "network.uplink.delay_ms: expected a number in [0, 60000], got \"40\""});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"user": "hi"}], "network": {"downlink": {"loss": 1.5}}})")),
      std::vector<std::string>{"network.downlink.loss: expected a number in [0, 1], got 1.5"});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"user": "hi"}], "network": {"downlink": {"loss": "high"}}})")),
      std::vector<std::string>{
          "network.downlink.loss: expected a number in [0, 1] or a string like \"5%\" or a map, "
          "got \"high\""});
  EXPECT_EQ(Findings(Doc(R"({"turns": [{"user": "hi"}]})")),
            std::vector<std::string>{"name: missing required key name"});
  EXPECT_EQ(Findings(Doc(R"({"name": "t", "turns": []})")),
            std::vector<std::string>{"turns: expected a list of 1 to 10000 turns, got 0"});
  EXPECT_EQ(
      Findings(Doc(R"({"name": "t", "turns": [{"user": "hi"}], "load": {"callers": 0}})")),
      std::vector<std::string>{"load.callers: expected a whole number in [1, 1000000], got 0"});
  EXPECT_EQ(Findings(Doc(R"({"name": "t", "turns": [{"user": "hi"}], "codec": "g729"})")),
            std::vector<std::string>{"codec: expected l16 | pcmu | opus, got \"g729\""});
}

TEST(ScenarioSchemaTest, RulesAcrossFieldsAreDeferredFindingsNamedByTheirDescription) {
  EXPECT_EQ(Findings(Doc(R"({"name": "t", "turns": [{"user": "hi", "hangup": {}}]})")),
            std::vector<std::string>{"(deferred) turns.0: A turn has at most one action: user, "
                                     "play, dtmf, silence, repeat or hangup."});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"dtmf": "1", "barge_in": {"after_agent_speech_ms": 1}}]})")),
      std::vector<std::string>{"(deferred) turns.0: barge_in needs user, play or repeat in "
                               "the same turn."});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "load": {"mix": [{"scenario": "a.yaml"}]}, "turns": [{"user": "hi"}]})")),
      std::vector<std::string>{"(deferred) : turns is required, except with load.mix, where "
                               "every call runs one of the mixed scenarios and turns is not "
                               "allowed."});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"user": "hi"}], "network": {"uplink": {"loss": {"model": "bernoulli", "p": 0.1}}}})")),
      std::vector<std::string>{"(deferred) network.uplink.loss: p, r, bad_loss and good_loss "
                               "apply only to model gilbert."});
  EXPECT_EQ(
      Findings(Doc(
          R"({"name": "t", "turns": [{"user": "hi"}], "fakes": {"tts": {"capacity": {"queue": 1}}}})")),
      std::vector<std::string>{"(deferred) fakes.tts.capacity: queue > 0 needs "
                               "max_concurrent > 0 (with unlimited concurrency nothing ever "
                               "waits)."});
  EXPECT_EQ(Findings(Doc(R"({"name": "t", "turns": [{"dtmf": "12x"}]})")),
            std::vector<std::string>{"(deferred) turns.0.dtmf: Telephone keys are 0-9, *, #, A-D."});
  EXPECT_EQ(Findings(Doc(R"({"name": "t", "turns": [{"user": "?!"}]})")),
            std::vector<std::string>{"(deferred) turns.0.user: expected text matching "
                                     "[A-Za-z0-9], got \"?!\""});
}

TEST(ScenarioSchemaTest, ABigUnsignedSeedConforms) {
  Json doc = Doc(R"({"name": "t", "turns": [{"user": "hi"}]})");
  doc["seed"] = std::numeric_limits<int64_t>::max();  // what YamlToJson clamps 2^64-1 to
  EXPECT_EQ(Findings(doc), std::vector<std::string>{});
  doc["seed"] = -1;
  EXPECT_EQ(Findings(doc), std::vector<std::string>{"seed: expected a whole number >= 0, got -1"});
}

// Calls `visit(path, schema)` for every property below `node`, following $refs but not lists.
void ForEachProperty(const OrderedJson& root, const OrderedJson& node, const std::string& path,
                     const std::function<void(const std::string&, const OrderedJson&)>& visit) {
  const OrderedJson* s = &node;
  if (s->contains("$ref")) {
    s = &root.at(OrderedJson::json_pointer((*s)["$ref"].get<std::string>().substr(1)));
  }
  if (!s->contains("properties")) return;
  for (auto it = (*s)["properties"].begin(); it != (*s)["properties"].end(); ++it) {
    const std::string child = path.empty() ? it.key() : path + "." + it.key();
    visit(child, it.value());
    ForEachProperty(root, it.value(), child, visit);
  }
}

TEST(ScenarioSchemaTest, EveryPropertyAndRuleHasADescription) {
  const OrderedJson schema = OrderedJson::parse(ScenarioSchemaText());
  size_t properties = 0;
  ForEachProperty(schema, schema, "", [&](const std::string& path, const OrderedJson& s) {
    ++properties;
    EXPECT_TRUE(s.contains("description")) << path;
    for (const OrderedJson& rule : s.value("allOf", OrderedJson::array())) {
      EXPECT_TRUE(rule.contains("description")) << path;
    }
  });
  for (const auto& [name, definition] : schema["definitions"].items()) {
    EXPECT_TRUE(definition.contains("description")) << name;
    ForEachProperty(schema, definition, name, [&](const std::string& path, const OrderedJson& s) {
      EXPECT_TRUE(s.contains("description")) << path;
    });
  }
  EXPECT_GT(properties, 100u);
}

TEST(ScenarioSchemaTest, ThresholdMetricsAreTheCatalogue) {
  const OrderedJson schema = OrderedJson::parse(ScenarioSchemaText());
  std::vector<std::string> listed;
  for (auto it = schema["properties"]["thresholds"]["properties"].begin();
       it != schema["properties"]["thresholds"]["properties"].end(); ++it) {
    listed.push_back(it.key());
  }
  std::vector<std::string> known;
  for (const MetricInfo& m : KnownMetrics()) known.emplace_back(m.name);
  EXPECT_EQ(listed, known) << "scenarios/schema.json thresholds should list every metric of "
                              "harness/measure/threshold.cc, in its order";
}

// The typed parser accepts every value the schema accepts at the bounds, and rejects the value
// just outside with exactly one error (the two never report the same problem twice).
TEST(ScenarioSchemaTest, EveryNumericBoundIsTheTypedParsersBound) {
  const OrderedJson schema = OrderedJson::parse(ScenarioSchemaText());
  const std::string base = "name: t\nturns:\n  - user: hi\n";
  // Fields whose value needs a sibling to be valid at all.
  auto preconditions = [](const std::string& path, bool at_max) {
    const std::string parent = path.substr(0, path.rfind('.'));
    const std::string leaf = path.substr(path.rfind('.') + 1);
    std::vector<std::string> sets;
    if (leaf == "talkers") sets.push_back(parent + ".type=babble");
    if (path == "caller.voice.pitch") sets.push_back("caller.voice.engine=espeak");
    if (parent == "fakes.tts.espeak") sets.push_back("fakes.tts.engine=espeak");
    if (leaf == "queue") sets.push_back(parent + ".max_concurrent=1");
    if (parent.size() > 5 && parent.substr(parent.size() - 5) == ".loss" && leaf != "loss") {
      sets.push_back(parent + (leaf == "rate" ? ".model=bernoulli" : ".model=gilbert"));
      if (leaf == "r" && !at_max) sets.push_back(parent + ".p=0.5");  // p = r = 0 is refused
    }
    if (leaf == "p50" && at_max) sets.push_back(parent + ".p95=600000");
    if ((leaf == "p50" || leaf == "p95") && at_max) sets.push_back(parent + ".max=600000");
    if (leaf == "p95" && !at_max) sets.push_back(parent + ".p50=0");
    return sets;
  };
  size_t checked = 0;
  ForEachProperty(schema, schema, "", [&](const std::string& path, const OrderedJson& node) {
    const OrderedJson* s = &node;
    if (s->contains("$ref")) {
      s = &schema.at(OrderedJson::json_pointer((*s)["$ref"].get<std::string>().substr(1)));
    }
    if (!s->contains("maximum") || path.rfind("thresholds", 0) == 0) return;
    ++checked;
    const double hi = (*s)["maximum"].get<double>();
    std::vector<std::string> sets = preconditions(path, true);
    sets.push_back(path + "=" + FormatNumber(hi));
    EXPECT_EQ(testing::ErrorStrings(testing::LoadAs(base, sets)), std::vector<std::string>{})
        << path;
    sets.back() = path + "=" + FormatNumber(hi + 1);
    const LoadResult above = testing::LoadAs(base, sets);
    ASSERT_EQ(above.errors.size(), 1u) << path;
    EXPECT_EQ(above.errors[0].path, path);
    if (s->contains("minimum")) {
      const double lo = (*s)["minimum"].get<double>();
      sets = preconditions(path, false);
      sets.push_back(path + "=" + FormatNumber(lo));
      EXPECT_EQ(testing::ErrorStrings(testing::LoadAs(base, sets)), std::vector<std::string>{})
          << path;
      sets.back() = path + "=" + FormatNumber(lo - 1);
      const LoadResult below = testing::LoadAs(base, sets);
      ASSERT_EQ(below.errors.size(), 1u) << path;
      EXPECT_EQ(below.errors[0].path, path);
    }
  });
  EXPECT_GT(checked, 40u);
}

}  // namespace
}  // namespace callsim::harness
