#include "harness/scenario/overrides.h"

#include <gtest/gtest.h>

#include "harness/measure/threshold.h"
#include "harness/scenario/loader.h"
#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

constexpr const char* kScenario = R"(name: sweep
codec: l16
network:
  uplink: { delay_ms: 40, loss: 0.01 }
caller:
  noise: { type: white, snr_db: 20 }
turns:
  - expect: [ { agent_says: { contains: "how can i help" } } ]
  - user: "where is my order"
  - user: "thanks"
    pause_before_ms: 100
load: { callers: 2 }
)";

LoadResult LoadWith(const std::vector<std::string>& overrides) {
  return LoadScenarioText(kScenario, "s.yaml", overrides);
}

Scenario MustLoad(const std::vector<std::string>& overrides) {
  LoadResult r = LoadWith(overrides);
  for (const ScenarioError& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.scenario.value_or(Scenario{});
}

std::vector<std::string> ErrorStrings(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ScenarioError& e : r.errors) out.push_back(e.ToString());
  return out;
}

TEST(ScenarioOverridesTest, ContractPaths) {
  const Scenario s = MustLoad(
      {"codec=pcmu", "network.uplink.delay_ms=75", "network.uplink.jitter_ms=12",
       "network.downlink.delay_ms=33", "network.downlink.jitter_ms=4", "network.downlink.loss=0.07",
       "caller.noise.snr_db=5", "caller.noise.type=none", "load.callers=250"});
  EXPECT_EQ(s.codec, agent::CodecKind::kPcmu);
  EXPECT_EQ(s.uplink.delay_ms, 75);
  EXPECT_EQ(s.uplink.jitter_ms, 12);
  EXPECT_DOUBLE_EQ(s.uplink.loss.loss, 0.01);  // untouched
  EXPECT_EQ(s.downlink.delay_ms, 33);          // downlink was absent from the file
  EXPECT_EQ(s.downlink.jitter_ms, 4);
  EXPECT_EQ(s.downlink.loss.model, LossSpec::kBernoulli);
  EXPECT_DOUBLE_EQ(s.downlink.loss.loss, 0.07);
  EXPECT_EQ(s.caller.noise.snr_db, 5);
  EXPECT_EQ(s.caller.noise.type, NoiseType::kNone);
  EXPECT_EQ(s.load.callers, 250);
}

TEST(ScenarioOverridesTest, LossAsNumberAndAsGilbertMap) {
  Scenario s = MustLoad({"network.uplink.loss=0.05"});
  EXPECT_EQ(s.uplink.loss.model, LossSpec::kBernoulli);
  EXPECT_DOUBLE_EQ(s.uplink.loss.loss, 0.05);
  s = MustLoad({"network.uplink.loss={model: gilbert, p: 0.01, r: 0.3}"});
  EXPECT_EQ(s.uplink.loss.model, LossSpec::kGilbert);
  EXPECT_DOUBLE_EQ(s.uplink.loss.p, 0.01);
  EXPECT_DOUBLE_EQ(s.uplink.loss.r, 0.3);
  EXPECT_EQ(s.uplink.loss.bad_loss, 1);
  // A key inside the map the file gave as a number is set after the map replaces it.
  s = MustLoad({"network.uplink.loss={model: gilbert}", "network.uplink.loss.p=0.2"});
  EXPECT_DOUBLE_EQ(s.uplink.loss.p, 0.2);
}

TEST(ScenarioOverridesTest, ListElementsByIndexAndLaterWins) {
  const Scenario s =
      MustLoad({"turns.1.user=where is my refund", "load.callers=3", "load.callers=4",
                "turns.0.pause_before_ms=250", "load.arrival.rate_per_s=2.5"});
  ASSERT_EQ(s.turns.size(), 3u);
  EXPECT_EQ(s.turns[1].user, "where is my refund");
  EXPECT_EQ(s.turns[0].pause_before_ms, 250);
  EXPECT_EQ(s.load.callers, 4);
  EXPECT_EQ(s.load.rate_per_s, 2.5);
}

TEST(ScenarioOverridesTest, MalformedOverridesAreReported) {
  const LoadResult r = LoadWith({"nodot", "a..b=1", "turns.7.user=hi", "turns.x.user=hi",
                                 "codec.kind=pcmu", "name=[unclosed"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ErrorStrings(r),
            (std::vector<std::string>{
                "--set nodot: expected PATH=VALUE, e.g. network.uplink.loss=0.05",
                "--set a..b=1: bad path \"a..b\": expected dot-separated keys and list indices, "
                "e.g. network.uplink.loss or turns.1.user",
                "--set turns.7.user=hi: turns.7: index 7 out of range (turns has 3 items, "
                "indexed from 0)",
                "--set turns.x.user=hi: turns: is a list; expected an index, got x",
                "--set codec.kind=pcmu: codec: is a scalar, so it has no field kind",
                "--set name=[unclosed: name: the value is not valid YAML: end of sequence flow "
                "not found",
            }));
}

TEST(ScenarioOverridesTest, TypedErrorsNameTheOverride) {
  const LoadResult r =
      LoadWith({"network.uplink.losss=0.1", "network.uplink.loss=1.5",
                "network.downlink.loss={model: gilbert, p: 2}", "caller.noise.snr_db=loud"});
  EXPECT_EQ(ErrorStrings(r),
            (std::vector<std::string>{
                "--set network.uplink.losss=0.1: network.uplink.losss: unknown key losss (did "
                "you mean loss?)",
                "--set network.uplink.loss=1.5: network.uplink.loss: expected a number in [0, 1], "
                "got 1.5",
                "--set network.downlink.loss={model: gilbert, p: 2}: network.downlink.loss.p: "
                "expected a number in [0, 1], got 2",
                "--set caller.noise.snr_db=loud: caller.noise.snr_db: expected a number in "
                "[-20, 100], got loud",
            }));
}

TEST(ScenarioOverridesTest, ErrorsNotCausedByAnOverrideKeepTheirFilePosition) {
  const LoadResult r = LoadWith({"load.callers=3", "codec=g729"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "--set codec=g729: codec: expected l16 | pcmu | opus, got g729");
  const LoadResult r2 =
      LoadScenarioText(std::string(kScenario) + "seed: -1\n", "s.yaml", {"load.callers=3"});
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0].where.line, 13);
  EXPECT_EQ(r2.errors[0].where.column, 7);
}

TEST(ScenarioOverridesTest, OverrideCreatesMissingSectionsAndRoot) {
  // An empty document gets everything from --set.
  const LoadResult r = LoadScenarioText("", "s.yaml", {"name=x", "turns=[{user: hi}]"});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_EQ(r.scenario->name, "x");
  ASSERT_EQ(r.scenario->turns.size(), 1u);
  EXPECT_EQ(r.scenario->turns[0].user, "hi");
  EXPECT_EQ(r.scenario->turns[0].where.file, "--set turns=[{user: hi}]");
}

TEST(ScenarioOverridesTest, ApplyReturnsCanonicalPathAndLeavesTreeOnFailure) {
  std::vector<ScenarioError> errors;
  YAML::Node root = YAML::Load("turns: [ {user: a}, {user: b} ]\n");
  std::optional<Override> o = ParseOverride("turns.01.user=c", &errors);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->path, (std::vector<std::string>{"turns", "01", "user"}));
  const std::optional<AppliedOverride> applied = ApplyOverride(*o, root, &errors);
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->path, "turns.1.user");
  EXPECT_EQ(applied->where.file, "--set turns.01.user=c");
  EXPECT_EQ(root["turns"][1]["user"].as<std::string>(), "c");
  o = ParseOverride("turns.2.user=d", &errors);
  ASSERT_TRUE(o.has_value());
  EXPECT_FALSE(ApplyOverride(*o, root, &errors).has_value());
  EXPECT_EQ(root["turns"].size(), 2u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].where.file, "--set turns.2.user=d");
}

TEST(ScenarioOverridesTest, AliasesKeepTheirOwnValue) {
  // yaml-cpp shares an aliased node; an override must not write through the alias.
  const LoadResult r = LoadScenarioText(
      "name: t\nturns: [ {user: hi} ]\nnetwork:\n  uplink: &link { delay_ms: 10 }\n"
      "  downlink: *link\n",
      "s.yaml", {"network.downlink.delay_ms=5"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->uplink.delay_ms, 10);
  EXPECT_EQ(r.scenario->downlink.delay_ms, 5);
}

TEST(ScenarioOverridesTest, CopiedNodesKeepTheirFilePositions) {
  // turns and turns.1 are copied to set turns.1.user; the turn still points into the file, and
  // so do errors about a missing key at the (copied) top level.
  const Scenario s = MustLoad({"turns.1.user=hello again"});
  EXPECT_EQ(s.turns[1].where.file, "s.yaml");
  EXPECT_EQ(s.turns[1].where.line, 9);
  EXPECT_EQ(s.turns[1].where.column, 5);
  const LoadResult r = LoadScenarioText("codec: l16\nturns:\n  - user: hi\n", "s.yaml",
                                        {"codec=pcmu", "turns.0.user=yo"});
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{"s.yaml:1:1: name: missing required key name"});
  const LoadResult r2 = LoadWith({"network.uplink.outages=[{start_ms: 5}]"});
  EXPECT_EQ(ErrorStrings(r2),
            std::vector<std::string>{"--set network.uplink.outages=[{start_ms: 5}]: "
                                     "network.uplink.outages.0.duration_ms: missing required key "
                                     "duration_ms"});
}

TEST(ScenarioOverridesTest, NewFieldsAreReachable) {
  const Scenario s =
      MustLoad({"caller.echo.return_loss_db=30", "fakes.llm.capacity.max_concurrent=5",
                "fakes.stt.capacity={max_concurrent: 2, queue: 4}",
                "network.uplink.jitter_distribution=pareto", "caller.noise.type=babble",
                "caller.noise.talkers=8", "caller.variation.rate=0.2", "load.duration_s=120",
                "thresholds.wer=[\"value<0.1\"]", "seed=7"});
  EXPECT_TRUE(s.caller.echo.enabled);
  EXPECT_EQ(s.caller.echo.return_loss_db, 30);
  EXPECT_EQ(s.caller.echo.delay_ms, 40);
  EXPECT_EQ(s.fakes.llm.capacity.max_concurrent, 5);
  EXPECT_EQ(s.fakes.stt.capacity.max_concurrent, 2);
  EXPECT_EQ(s.fakes.stt.capacity.queue, 4);
  EXPECT_EQ(s.uplink.jitter_distribution, fakes::JitterDistribution::kPareto);
  EXPECT_EQ(s.downlink.jitter_distribution, fakes::JitterDistribution::kNormal);
  EXPECT_EQ(s.caller.noise.talkers, 8);
  EXPECT_DOUBLE_EQ(s.caller.variation.rate, 0.2);
  EXPECT_EQ(s.load.duration_s, 120);
  ASSERT_EQ(s.thresholds.size(), 1u);
  EXPECT_EQ(s.thresholds[0].metric, "wer");
  EXPECT_EQ(s.thresholds[0].where.file, "--set thresholds.wer=[\"value<0.1\"]");
  EXPECT_EQ(s.seed, std::optional<uint64_t>(7));
}

TEST(ScenarioOverridesTest, PhasesAndTurnActionsByIndex) {
  const LoadResult r = LoadScenarioText(
      "name: t\nturns:\n  - user: hi\nload:\n  arrival:\n    phases:\n"
      "      - constant: { rate_per_s: 1, duration_s: 60 }\n"
      "      - ramp: { from_rate_per_s: 1, to_rate_per_s: 5, duration_s: 60 }\n",
      "s.yaml",
      {"load.arrival.phases.0.constant.rate_per_s=3", "load.arrival.phases.1.ramp.to_rate_per_s=9",
       "turns.0.user=my number is [pause 700] four five"});
  ASSERT_TRUE(r.ok()) << testing::ErrorStrings(r)[0];
  EXPECT_EQ(r.scenario->load.phases[0].rate_per_s, 3);
  EXPECT_EQ(r.scenario->load.phases[1].to_rate_per_s, 9);
  EXPECT_EQ(r.scenario->turns[0].user, "my number is four five");
  ASSERT_EQ(r.scenario->turns[0].segments.size(), 2u);
  EXPECT_EQ(r.scenario->turns[0].segments[0].pause_after_ms, 700);
}

TEST(ScenarioOverridesTest, ErrorsInNewFieldsNameTheOverride) {
  const LoadResult r =
      LoadWith({"caller.echo.return_loss_db=90", "fakes.llm.capacity.queue=2",
                "network.downlink.jitter_distribution=gamma", "thresholds.latency=[\"p(95)<1\"]"});
  EXPECT_EQ(ErrorStrings(r),
            (std::vector<std::string>{
                "--set caller.echo.return_loss_db=90: caller.echo.return_loss_db: expected a "
                "number in [0, 80], got 90",
                "--set fakes.llm.capacity.queue=2: fakes.llm.capacity.queue: queue 2 needs "
                "max_concurrent > 0 (with unlimited concurrency nothing ever waits)",
                "--set network.downlink.jitter_distribution=gamma: "
                "network.downlink.jitter_distribution: expected normal | uniform | exponential | "
                "pareto, got gamma",
                "--set thresholds.latency=[\"p(95)<1\"]: thresholds.latency: unknown metric "
                "latency; known metrics: " +
                    KnownMetricNames(),
            }));
}

TEST(ScenarioOverridesTest, ErrorsInMapsAnOverrideCreatedNameTheOverride) {
  // load.arrival.phases is not in the file: --set creates maps down to the value, and the error
  // about the (map, not list) phases it made blames the override, not line 1.
  const LoadResult r = LoadWith({"load.arrival.phases.0.constant.rate_per_s=3"});
  EXPECT_EQ(ErrorStrings(r),
            std::vector<std::string>{"--set load.arrival.phases.0.constant.rate_per_s=3: "
                                     "load.arrival.phases: expected a list of 1 to 1000 phases, "
                                     "got a map"});
}

TEST(ScenarioLlmScriptPathTest, RelativePathsResolveAgainstTheScenarioFolder) {
  testing::TempDir dir;
  const std::string script = dir.Write("suite/llm/support.yaml", "turns: []\n");
  const std::string scenario =
      dir.Write("suite/s.yaml",
                "name: t\nturns:\n  - user: hi\nfakes:\n  llm: { script: llm/support.yaml }\n");
  const LoadResult r = LoadScenarioFile(scenario);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_EQ(r.scenario->fakes.llm.script, script);

  // "../" climbs from the scenario's folder, not from the working directory.
  const std::string other = dir.Write(
      "other/s.yaml",
      "name: t\nturns:\n  - user: hi\nfakes:\n  llm: { script: ../suite/llm/support.yaml }\n");
  const LoadResult r2 = LoadScenarioFile(other);
  ASSERT_TRUE(r2.ok()) << (r2.errors.empty() ? "" : r2.errors[0].ToString());
  EXPECT_EQ(r2.scenario->fakes.llm.script, script);

  // Absolute paths are kept; --set resolves like the file does.
  const LoadResult r3 = LoadScenarioFile(other, {"fakes.llm.script=" + script});
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3.scenario->fakes.llm.script, script);
  const LoadResult r4 = LoadScenarioFile(scenario, {"fakes.llm.script=./llm/support.yaml"});
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4.scenario->fakes.llm.script, script);
}

TEST(ScenarioLlmScriptPathTest, MissingScriptIsReportedAtTheScriptKey) {
  testing::TempDir dir;
  const std::string scenario = dir.Write(
      "s.yaml", "name: t\nturns:\n  - user: hi\nfakes:\n  llm:\n    script: llm/nope.yaml\n");
  const LoadResult r = LoadScenarioFile(scenario);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), scenario + ":6:5: fakes.llm.script: no such file: " +
                                        (dir.path() / "llm/nope.yaml").string() +
                                        " (relative paths start at the scenario's folder)");
  // LoadScenarioText resolves against the folder of the path it is given.
  const LoadResult r2 =
      LoadScenarioText("name: t\nturns: [ {user: hi} ]\nfakes: { llm: { script: x.yaml } }\n",
                       (dir.path() / "s.yaml").string());
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0].where.line, 3);
  EXPECT_EQ(r2.errors[0].where.column, 17);
  dir.Write("x.yaml", "turns: []\n");
  EXPECT_TRUE(
      LoadScenarioText("name: t\nturns: [ {user: hi} ]\nfakes: { llm: { script: x.yaml } }\n",
                       (dir.path() / "s.yaml").string())
          .ok());
}

}  // namespace
}  // namespace callsim::harness
