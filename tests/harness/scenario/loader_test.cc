#include "harness/scenario/loader.h"

#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"

namespace callsim::harness {
namespace {

using testing::TempDir;

// Line numbers matter: the error tests below point into texts like this one.
constexpr const char* kFullScenario = R"(name: order_status
codec: pcmu
seed: 42
network:
  uplink:   { delay_ms: 40, jitter_ms: 10, loss: 0.01, reorder: 0.002, duplicate: 0.001, outages: [ { start_ms: 5000, duration_ms: 300 } ] }
  downlink: { delay_ms: 35, jitter_ms: 5, loss: { model: gilbert, p: 0.01, r: 0.3, bad_loss: 0.9, good_loss: 0.001 } }
caller: { noise: { type: white, snr_db: 15 }, words_per_minute: 170, reply_timeout_ms: 8000, reply_end_silence_ms: 700 }
agent:
  greeting: "Hi, you reached Acme. How can I help?"
  system_prompt: be brief
  vad: { threshold_dbfs: -50, start_ms: 80, stop_ms: 300 }
  endpointing: { delay_ms: 400, finished_delay_ms: 120 }
  first_clause_words: 5
  barge_in: { min_speech_ms: 250 }
  jitter_buffer: { target_ms: 60 }
  max_call_ms: 120000
fakes:
  stt: { profile: perfect, final_latency_ms: { p50: 90, p95: 200 } }
  llm: { script: llm/support.yaml, ttft_ms: { p50: 300, p95: 700 }, tokens_per_s: 40 }
  tts: { ttfb_ms: { p50: 120, p95: 250, max: 2000 } }
turns:
  - expect: [ { agent_says: { contains: "how can i help" } } ]
  - user: "i want to check on order number four five six seven"
    pause_before_ms: 500
    expect:
      - agent_says: { contains: "shipped" }
      - turn_latency: { max_ms: 2000 }
  - user: "wait, can you also tell me the delivery day"
    barge_in: { after_agent_speech_ms: 800 }
    expect: [ { agent_stops: { within_ms: 600 } } ]
  - hangup: {}
load: { callers: 3, arrival: { rate_per_s: 5 } }
)";

// Loads `text` as "s.yaml" in the working directory.
LoadResult Load(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return LoadScenarioText(text, "s.yaml", overrides);
}

// The only error of loading `text`, as a string; "" (and a test failure) otherwise.
std::string OnlyError(const std::string& text, const std::vector<std::string>& overrides = {}) {
  const LoadResult r = Load(text, overrides);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 1u);
  if (r.errors.size() > 1) {
    for (const ScenarioError& e : r.errors) ADD_FAILURE() << "error: " << e.ToString();
  }
  return r.errors.empty() ? "" : r.errors[0].ToString();
}

constexpr const char* kMinimal = "name: t\nturns:\n  - user: hello there\n";

TEST(ScenarioLoaderTest, FullScenarioParsesToTypedValues) {
  TempDir dir;
  dir.Write("llm/support.yaml", "turns: []\n");
  const std::string path = dir.Write("order_status.yaml", kFullScenario);
  const LoadResult r = LoadScenarioFile(path);
  for (const ScenarioError& e : r.errors) ADD_FAILURE() << e.ToString();
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "order_status");
  EXPECT_EQ(s.source_path, path);
  EXPECT_EQ(s.codec, agent::CodecKind::kPcmu);
  EXPECT_EQ(s.seed, std::optional<uint64_t>(42));

  EXPECT_EQ(s.uplink.delay_ms, 40);
  EXPECT_EQ(s.uplink.jitter_ms, 10);
  EXPECT_EQ(s.uplink.loss.model, LossSpec::kBernoulli);
  EXPECT_DOUBLE_EQ(s.uplink.loss.loss, 0.01);
  EXPECT_DOUBLE_EQ(s.uplink.reorder, 0.002);
  EXPECT_DOUBLE_EQ(s.uplink.duplicate, 0.001);
  ASSERT_EQ(s.uplink.outages.size(), 1u);
  EXPECT_EQ(s.uplink.outages[0].start_ms, 5000);
  EXPECT_EQ(s.uplink.outages[0].duration_ms, 300);
  EXPECT_EQ(s.downlink.delay_ms, 35);
  EXPECT_EQ(s.downlink.jitter_ms, 5);
  EXPECT_EQ(s.downlink.loss.model, LossSpec::kGilbert);
  EXPECT_DOUBLE_EQ(s.downlink.loss.p, 0.01);
  EXPECT_DOUBLE_EQ(s.downlink.loss.r, 0.3);
  EXPECT_DOUBLE_EQ(s.downlink.loss.bad_loss, 0.9);
  EXPECT_DOUBLE_EQ(s.downlink.loss.good_loss, 0.001);
  EXPECT_TRUE(s.downlink.outages.empty());

  EXPECT_EQ(s.caller.noise.type, NoiseType::kWhite);
  EXPECT_EQ(s.caller.noise.snr_db, 15);
  EXPECT_EQ(s.caller.words_per_minute, 170);
  EXPECT_EQ(s.caller.reply_timeout_ms, 8000);
  EXPECT_EQ(s.caller.reply_end_silence_ms, 700);

  EXPECT_EQ(s.agent.greeting, "Hi, you reached Acme. How can I help?");
  EXPECT_EQ(s.agent.system_prompt, "be brief");
  EXPECT_EQ(s.agent.vad_threshold_dbfs, -50);
  EXPECT_EQ(s.agent.vad_start_ms, 80);
  EXPECT_EQ(s.agent.vad_stop_ms, 300);
  EXPECT_EQ(s.agent.endpoint_delay_ms, 400);
  EXPECT_EQ(s.agent.endpoint_finished_delay_ms, 120);
  EXPECT_EQ(s.agent.first_clause_words, 5);
  EXPECT_EQ(s.agent.barge_in_min_ms, 250);
  EXPECT_EQ(s.agent.jitter_buffer.target_ms, 60);
  EXPECT_EQ(s.agent.max_call_ms, 120000);

  EXPECT_EQ(s.fakes.stt.profile, SttProfile::kPerfect);
  EXPECT_EQ(s.fakes.stt.final_latency.p50_ms, 90);
  EXPECT_EQ(s.fakes.stt.final_latency.p95_ms, 200);
  EXPECT_EQ(s.fakes.llm.script, (dir.path() / "llm/support.yaml").string());
  EXPECT_EQ(s.fakes.llm.ttft.p50_ms, 300);
  EXPECT_EQ(s.fakes.llm.ttft.p95_ms, 700);
  EXPECT_EQ(s.fakes.llm.tokens_per_s, 40);
  EXPECT_EQ(s.fakes.tts.ttfb.p50_ms, 120);
  EXPECT_EQ(s.fakes.tts.ttfb.p95_ms, 250);
  EXPECT_EQ(s.fakes.tts.ttfb.max_ms, 2000);

  ASSERT_EQ(s.turns.size(), 4u);
  EXPECT_EQ(s.turns[0].user, "");
  ASSERT_EQ(s.turns[0].expect.size(), 1u);
  EXPECT_EQ(s.turns[0].expect[0].kind, Expectation::kAgentSays);
  EXPECT_EQ(s.turns[0].expect[0].contains, "how can i help");
  EXPECT_EQ(s.turns[0].expect[0].where.line, 22);
  EXPECT_EQ(s.turns[0].expect[0].where.column, 17);
  EXPECT_EQ(s.turns[1].user, "i want to check on order number four five six seven");
  EXPECT_EQ(s.turns[1].pause_before_ms, 500);
  EXPECT_FALSE(s.turns[1].barge_in.has_value());
  ASSERT_EQ(s.turns[1].expect.size(), 2u);
  EXPECT_EQ(s.turns[1].expect[1].kind, Expectation::kTurnLatency);
  EXPECT_EQ(s.turns[1].expect[1].max_ms, 2000);
  EXPECT_EQ(s.turns[1].where.file, path);
  EXPECT_EQ(s.turns[1].where.line, 23);
  EXPECT_EQ(s.turns[1].where.column, 5);
  ASSERT_TRUE(s.turns[2].barge_in.has_value());
  EXPECT_EQ(s.turns[2].barge_in->after_agent_speech_ms, 800);
  ASSERT_EQ(s.turns[2].expect.size(), 1u);
  EXPECT_EQ(s.turns[2].expect[0].kind, Expectation::kAgentStops);
  EXPECT_EQ(s.turns[2].expect[0].within_ms, 600);
  EXPECT_FALSE(s.turns[2].hangup);
  EXPECT_TRUE(s.turns[3].hangup);
  EXPECT_TRUE(s.turns[3].user.empty());

  EXPECT_EQ(s.load.callers, 3);
  EXPECT_EQ(s.load.rate_per_s, 5);
}

TEST(ScenarioLoaderTest, MinimalScenarioKeepsDefaults) {
  const LoadResult r = Load(kMinimal);
  ASSERT_TRUE(r.ok());
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.source_path, "s.yaml");
  EXPECT_EQ(s.codec, agent::CodecKind::kL16);
  EXPECT_FALSE(s.seed.has_value());
  EXPECT_EQ(s.uplink.delay_ms, 20);
  EXPECT_EQ(s.uplink.loss.model, LossSpec::kNone);
  EXPECT_EQ(s.caller.noise.type, NoiseType::kNone);
  EXPECT_EQ(s.caller.noise.snr_db, 30);
  EXPECT_EQ(s.agent.vad_threshold_dbfs, -45);
  EXPECT_EQ(s.agent.greeting, "Hello, thanks for calling. How can I help you today?");
  EXPECT_EQ(s.fakes.stt.profile, SttProfile::kDefault);
  EXPECT_EQ(s.fakes.llm.ttft.p95_ms, 700);
  EXPECT_TRUE(s.fakes.llm.script.empty());
  EXPECT_EQ(s.load.callers, 1);
  EXPECT_EQ(s.load.rate_per_s, 0);
  ASSERT_EQ(s.turns.size(), 1u);
  EXPECT_EQ(s.turns[0].user, "hello there");
}

TEST(ScenarioLoaderTest, LossForms) {
  const LoadResult r = Load(std::string(kMinimal) +
                            "network:\n"
                            "  uplink: { loss: { model: bernoulli, rate: 0.05 } }\n"
                            "  downlink: { loss: { model: none } }\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.scenario->uplink.loss.model, LossSpec::kBernoulli);
  EXPECT_DOUBLE_EQ(r.scenario->uplink.loss.loss, 0.05);
  EXPECT_EQ(r.scenario->downlink.loss.model, LossSpec::kNone);
}

// netem's notation and defaults: "loss gemodel 1%" is p = 0.01, r = 1 - p = 0.99, 1-h = 100%,
// 1-k = 0%; a bare number stays a fraction.
TEST(ScenarioLoaderTest, GilbertTakesNetemPercentagesAndDefaults) {
  const LoadResult r = Load(std::string(kMinimal) +
                            "network:\n"
                            "  uplink: { loss: { model: gilbert, p: 1% } }\n"
                            "  downlink: { loss: { model: gilbert, p: 0.02 } }\n");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  const LossSpec& up = r.scenario->uplink.loss;
  EXPECT_EQ(up.model, LossSpec::kGilbert);
  EXPECT_DOUBLE_EQ(up.p, 0.01);
  EXPECT_DOUBLE_EQ(up.r, 0.99);
  EXPECT_EQ(up.bad_loss, 1);
  EXPECT_EQ(up.good_loss, 0);
  EXPECT_DOUBLE_EQ(r.scenario->downlink.loss.p, 0.02);  // a number is a fraction, not 0.02%
  EXPECT_DOUBLE_EQ(r.scenario->downlink.loss.r, 0.98);

  // All four as tc writes them: loss gemodel 5% 40% 90% 0.5%.
  const LoadResult all = Load(std::string(kMinimal) +
                              "network:\n  uplink: { loss: { model: gilbert, p: \"5%\", r: 40%, "
                              "bad_loss: 90%, good_loss: 0.5% } }\n  downlink: { loss: 2.5% }\n");
  ASSERT_TRUE(all.ok());
  EXPECT_DOUBLE_EQ(all.scenario->uplink.loss.p, 0.05);
  EXPECT_DOUBLE_EQ(all.scenario->uplink.loss.r, 0.4);
  EXPECT_DOUBLE_EQ(all.scenario->uplink.loss.bad_loss, 0.9);
  EXPECT_DOUBLE_EQ(all.scenario->uplink.loss.good_loss, 0.005);
  EXPECT_EQ(all.scenario->downlink.loss.model, LossSpec::kBernoulli);
  EXPECT_DOUBLE_EQ(all.scenario->downlink.loss.loss, 0.025);

  // p = 100% leaves r = 0: always bad, which is allowed (p + r > 0).
  const LoadResult always = Load(std::string(kMinimal) +
                                 "network: { uplink: { loss: { model: gilbert, p: 100% } } }\n");
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always.scenario->uplink.loss.r, 0);
}

TEST(ScenarioLoaderTest, ErrorToStringFormats) {
  EXPECT_EQ((ScenarioError{{"a.yaml", 3, 7}, "network.uplink.loss", "bad"}).ToString(),
            "a.yaml:3:7: network.uplink.loss: bad");
  EXPECT_EQ((ScenarioError{{"a.yaml", 2, 1}, "", "syntax"}).ToString(), "a.yaml:2:1: syntax");
  EXPECT_EQ((ScenarioError{{"--set x", 0, 0}, "", "expected PATH=VALUE"}).ToString(),
            "--set x: expected PATH=VALUE");
}

TEST(ScenarioLoaderErrorTest, OutOfRangeProbability) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network:\n  uplink: { loss: 1.5 }\n"),
            "s.yaml:5:19: network.uplink.loss: expected a number in [0, 1], got 1.5");
}

TEST(ScenarioLoaderErrorTest, NegativeDelay) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network:\n  downlink:\n    delay_ms: -5\n"),
            "s.yaml:6:15: network.downlink.delay_ms: expected a number in [0, 60000], got -5");
}

TEST(ScenarioLoaderErrorTest, StringWhereNumberExpected) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network:\n  uplink: { jitter_ms: \"10\" }\n"),
            "s.yaml:5:24: network.uplink.jitter_ms: expected a number in [0, 60000], got \"10\"");
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "caller:\n  noise: { snr_db: loud }\n"),
            "s.yaml:5:20: caller.noise.snr_db: expected a number in [-20, 100], got loud");
}

TEST(ScenarioLoaderErrorTest, NumbersFollowYamlCoreSyntax) {
  const LoadResult ok =
      Load(std::string(kMinimal) +
           "network: { uplink: { delay_ms: 1e3, jitter_ms: .5, loss: +0.25 } }\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.scenario->uplink.delay_ms, 1000);
  EXPECT_EQ(ok.scenario->uplink.jitter_ms, 0.5);
  EXPECT_EQ(ok.scenario->uplink.loss.loss, 0.25);
  for (const char* bad : {".inf", ".nan", "1_0", "0x10", "--1", "1.2.3", "'5'"}) {
    const LoadResult r =
        Load(std::string(kMinimal) + "network: { uplink: { delay_ms: " + bad + " } }\n");
    ASSERT_EQ(r.errors.size(), 1u) << bad;
    EXPECT_EQ(r.errors[0].path, "network.uplink.delay_ms") << bad;
  }
}

TEST(ScenarioLoaderErrorTest, SnrOutOfRange) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "caller:\n  noise: { snr_db: -21 }\n"),
            "s.yaml:5:20: caller.noise.snr_db: expected a number in [-20, 100], got -21");
}

TEST(ScenarioLoaderErrorTest, CallersBelowOne) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "load: { callers: 0 }\n"),
            "s.yaml:4:18: load.callers: expected a whole number in [1, 1000000], got 0");
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "load: { callers: 2.5 }\n"),
            "s.yaml:4:18: load.callers: expected a whole number in [1, 1000000], got 2.5");
}

TEST(ScenarioLoaderErrorTest, P95BelowP50) {
  EXPECT_EQ(
      OnlyError(std::string(kMinimal) + "fakes:\n  llm:\n    ttft_ms: { p50: 800, p95: 700 }\n"),
      "s.yaml:6:31: fakes.llm.ttft_ms.p95: expected p95 (700) >= p50 (800)");
  // p95 left out: its default (250) is what conflicts, and the message says so.
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "fakes:\n  tts: { ttfb_ms: { p50: 300 } }\n"),
            "s.yaml:5:26: fakes.tts.ttfb_ms.p50: expected p95 (default 250) >= p50 (300)");
}

TEST(ScenarioLoaderErrorTest, UnknownKeyAnywhere) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network:\n  uplink:\n    losss: 0.1\n"),
            "s.yaml:6:5: network.uplink.losss: unknown key losss (did you mean loss?)");
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "colour: blue\n"),
            "s.yaml:4:1: colour: unknown key colour (expected one of: name, codec, opus, network, "
            "caller, agent, fakes, turns, load, thresholds, realtime, compare, seed)");
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: hi\n    expect: [ { tool: { name: x } } ]\n"),
            "s.yaml:4:17: turns.0.expect.0.tool: unknown key tool (expected one of: agent_says, "
            "turn_latency, agent_stops, tool_call, no_reply, call_ends, agent_repeats)");
}

TEST(ScenarioLoaderErrorTest, MissingNameAndTurns) {
  const LoadResult r = Load("codec: l16\n");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].ToString(), "s.yaml:1:1: name: missing required key name");
  EXPECT_EQ(r.errors[1].ToString(), "s.yaml:1:1: turns: missing required key turns");
  // An empty file has no position at all.
  const LoadResult empty = Load("");
  ASSERT_EQ(empty.errors.size(), 2u);
  EXPECT_EQ(empty.errors[0].ToString(), "s.yaml: name: missing required key name");
}

TEST(ScenarioLoaderErrorTest, EmptyTurnsList) {
  EXPECT_EQ(OnlyError("name: t\nturns: []\n"),
            "s.yaml:2:8: turns: expected a list of 1 to 10000 turns, got 0");
}

TEST(ScenarioLoaderErrorTest, EmptyTurn) {
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: hi\n  - {}\n"),
            "s.yaml:4:5: turns.1: empty turn: give it an action (user, play, dtmf, silence, "
            "repeat, hangup) or expect");
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: hi\n  - pause_before_ms: 100\n"),
            "s.yaml:4:5: turns.1: empty turn: give it an action (user, play, dtmf, silence, "
            "repeat, hangup) or expect");
}

TEST(ScenarioLoaderErrorTest, DuplicateKeys) {
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: hi\nname: u\n"),
            "s.yaml:4:1: name: duplicate key name (first at line 1)");
  EXPECT_EQ(
      OnlyError(std::string(kMinimal) + "network:\n  uplink: { delay_ms: 10, delay_ms: 20 }\n"),
      "s.yaml:5:27: network.uplink.delay_ms: duplicate key delay_ms (first at line 5)");
}

TEST(ScenarioLoaderErrorTest, AgentStopsNeedsBargeIn) {
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: hi\n    expect:\n"
                      "      - agent_stops: { within_ms: 300 }\n"),
            "s.yaml:5:9: turns.0.expect.0.agent_stops: agent_stops needs barge_in in the same "
            "turn (there is nothing to stop)");
}

TEST(ScenarioLoaderErrorTest, BargeInNeedsUser) {
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - barge_in: { after_agent_speech_ms: 100 }\n"
                      "    expect: [ { agent_says: { contains: hi } } ]\n"),
            "s.yaml:3:5: turns.0.barge_in: barge_in needs user, play or repeat in the same turn "
            "(what the caller says over the agent)");
}

TEST(ScenarioLoaderErrorTest, TurnAfterHangup) {
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - hangup: {}\n  - user: hi\n"),
            "s.yaml:4:5: turns.1: this turn comes after the hangup in turn 0, so it would never "
            "run");
}

TEST(ScenarioLoaderErrorTest, YamlSyntaxError) {
  EXPECT_EQ(OnlyError("name: t\nnetwork: { uplink: [1, 2\nturns: []\n"),
            "s.yaml:3:6: end of sequence flow not found");
}

// yaml-cpp's LoadAll never returns on a stream that starts with ',' (found by the scenario fuzz
// target): the loader reads one document and counts the rest with a bound.
TEST(ScenarioLoaderErrorTest, AStreamStartingWithACommaIsAnErrorNotAHang) {
  for (const char* text : {",", ",name* x\nturnsnul=~if user:ahi\n", ",*", ",a: 1\n"}) {
    const LoadResult r = LoadScenarioText(text, "s.yaml");
    EXPECT_FALSE(r.ok()) << text;
    ASSERT_FALSE(r.errors.empty()) << text;
  }
}

TEST(ScenarioLoaderErrorTest, SecondDocument) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "---\nname: u\n"),
            "s.yaml:5:1: expected one YAML document, found 2");
}

TEST(ScenarioLoaderErrorTest, Codecs) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "codec: opus\nopus: { bitrate_bps: 100 }\n"),
            "s.yaml:5:22: opus.bitrate_bps: expected a whole number in [6000, 510000], got 100");
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "codec: g729\n"),
            "s.yaml:4:8: codec: expected l16 | pcmu | opus, got g729");
}

TEST(ScenarioLoaderErrorTest, LossParameterOfTheOtherModel) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) +
                      "network: { uplink: { loss: { model: bernoulli, rate: 0.1, p: 0.2 } } }\n"),
            "s.yaml:4:59: network.uplink.loss.p: p applies only to model gilbert");
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network: { uplink: { loss: { model: markov } } }\n"),
            "s.yaml:4:37: network.uplink.loss.model: expected none | bernoulli | gilbert, got "
            "markov");
}

TEST(ScenarioLoaderErrorTest, GilbertWithPAndRBothZeroIsRefusedAtItsLocation) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) +
                      "network: { uplink: { loss: { model: gilbert, p: 0, r: 0 } } }\n"),
            "s.yaml:4:55: network.uplink.loss.r: p and r are both 0: the model never changes "
            "state, so it has no loss rate; give p > 0 (r then defaults to 1 - p, as in netem)");
  EXPECT_EQ(OnlyError(std::string(kMinimal) +
                      "network:\n  downlink:\n    loss: { model: gilbert, r: 0% }\n"),
            "s.yaml:6:32: network.downlink.loss.r: p and r are both 0: the model never changes "
            "state, so it has no loss rate; give p > 0 (r then defaults to 1 - p, as in netem)");
}

TEST(ScenarioLoaderErrorTest, PercentagesOutOfRangeOrMalformed) {
  for (const char* bad : {"101%", "-1%", "1.5.5%", "%", "1 %"}) {
    const LoadResult r = Load(std::string(kMinimal) + "network: { uplink: { loss: { model: "
                              "gilbert, p: \"" + bad + "\" } } }\n");
    ASSERT_EQ(r.errors.size(), 1u) << bad;
    EXPECT_EQ(r.errors[0].path, "network.uplink.loss.p") << bad;
  }
}

TEST(ScenarioLoaderErrorTest, WrongContainerTypes) {
  EXPECT_EQ(OnlyError(std::string(kMinimal) + "network: [1, 2]\n"),
            "s.yaml:4:10: network: expected a map, got a list");
  EXPECT_EQ(OnlyError("name: t\nturns:\n  - user: { a: 1 }\n"),
            "s.yaml:3:11: turns.0.user: expected a string, got a map");
  EXPECT_EQ(OnlyError("- a\n- b\n"), "s.yaml:1:1: expected a map, got a list");
}

TEST(ScenarioLoaderErrorTest, CollectsEveryErrorInFileOrder) {
  const LoadResult r = Load(
      "name: t\n"
      "load: { callers: 0 }\n"
      "network:\n"
      "  uplink: { loss: 2, delay_ms: -1 }\n"
      "turns:\n"
      "  - {}\n");
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].where.line, 2);
  EXPECT_EQ(r.errors[0].path, "load.callers");
  EXPECT_EQ(r.errors[1].path, "network.uplink.loss");
  EXPECT_EQ(r.errors[1].where.column, 19);
  EXPECT_EQ(r.errors[2].path, "network.uplink.delay_ms");
  EXPECT_EQ(r.errors[2].where.column, 32);
  EXPECT_EQ(r.errors[3].path, "turns.0");
  EXPECT_EQ(r.errors[3].where.line, 6);
}

TEST(ScenarioLoaderErrorTest, ErrorCountIsBounded) {
  std::string text = "name: t\nturns:\n";
  for (int i = 0; i < 80; ++i) text += "  - {}\n";
  const LoadResult r = Load(text);
  ASSERT_EQ(r.errors.size(), 51u);
  EXPECT_EQ(r.errors.back().message, "too many errors; the rest are left out");
}

TEST(ScenarioLoaderErrorTest, EveryPrefixOfAScenarioLoadsOrReportsWithoutThrowing) {
  // Truncations hit many kinds of broken input: unclosed flows, keys without values, half
  // numbers. Each must give either a scenario or errors that carry a message and name the file.
  // Every other length keeps the test fast; the odd and even cut points cover the same constructs.
  const std::string full = kFullScenario;
  size_t loads = 0;
  size_t failures = 0;
  for (size_t n = 0; n <= full.size(); n += 2, ++loads) {
    const LoadResult r = Load(full.substr(0, n));
    ASSERT_EQ(r.ok(), r.errors.empty()) << "prefix " << n;
    for (const ScenarioError& e : r.errors) {
      ASSERT_FALSE(e.message.empty()) << "prefix " << n;
      ASSERT_EQ(e.where.file, "s.yaml");
    }
    failures += r.ok() ? 0 : 1;
  }
  // The llm script does not exist next to "s.yaml", so prefixes that reach it fail there, and the
  // shorter ones lack turns: none may pass.
  EXPECT_EQ(failures, loads);
}

TEST(ScenarioLoaderErrorTest, MissingFile) {
  const LoadResult r = LoadScenarioFile("/nonexistent/callsim/s.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "/nonexistent/callsim/s.yaml: cannot read the scenario: no such file");
}

}  // namespace
}  // namespace callsim::harness
