// Turns: every action, pause markers, wait_for, barge_in forms and every expectation kind, and
// the errors of each, through the loader (so the schema and the typed parser both take part).
#include "harness/scenario/turn_parser.h"


#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::MustLoad;
using testing::OnlyErrorOf;
using testing::TempDir;
using Action = Turn::Action;

// Line numbers matter: the error tests below point into texts built on this prefix.
constexpr const char* kHead = "name: t\nturns:\n";

TEST(TurnParserTest, EveryActionParsesToItsKind) {
  TempDir dir;
  dir.WriteAudio("audio/hello.wav");
  dir.WriteAudio("audio/ok.FLAC");
  const std::string path = dir.Write(
      "s.yaml", std::string(kHead) +
                    "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
                    "  - user: \"my number is [pause 900] four five [pause 1200.5] six\"\n"
                    "  - play: { file: audio/hello.wav, transcript: \"hello there\" }\n"
                    "  - play: { file: audio/ok.FLAC }\n"
                    "  - dtmf: \"0123456789*#ABCD\"\n"
                    "  - silence: { ms: 2000 }\n"
                    "  - repeat: {}\n"
                    "  - repeat:\n"
                    "  - hangup: {}\n");
  const LoadResult r = LoadScenarioFile(path);
  for (const ScenarioError& e : r.errors) ADD_FAILURE() << e.ToString();
  ASSERT_TRUE(r.ok());
  const std::vector<Turn>& t = r.scenario->turns;
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[0].action, Action::kWait);
  EXPECT_EQ(t[1].action, Action::kSay);
  EXPECT_EQ(t[1].user, "my number is four five six");
  ASSERT_EQ(t[1].segments.size(), 3u);
  EXPECT_EQ(t[1].segments[0].text, "my number is");
  EXPECT_EQ(t[1].segments[0].pause_after_ms, 900);
  EXPECT_EQ(t[1].segments[1].text, "four five");
  EXPECT_EQ(t[1].segments[1].pause_after_ms, 1200.5);
  EXPECT_EQ(t[1].segments[2].text, "six");
  EXPECT_EQ(t[1].segments[2].pause_after_ms, 0);
  EXPECT_EQ(t[2].action, Action::kPlayFile);
  EXPECT_EQ(t[2].audio_file, (dir.path() / "audio/hello.wav").string());
  EXPECT_EQ(t[2].audio_transcript, "hello there");
  EXPECT_EQ(t[3].audio_file, (dir.path() / "audio/ok.FLAC").string());
  EXPECT_EQ(t[3].audio_transcript, "");
  EXPECT_EQ(t[4].action, Action::kDtmf);
  EXPECT_EQ(t[4].dtmf, "0123456789*#ABCD");
  EXPECT_EQ(t[5].action, Action::kSilence);
  EXPECT_EQ(t[5].silence_ms, 2000);
  EXPECT_EQ(t[6].action, Action::kRepeat);
  EXPECT_EQ(t[7].action, Action::kRepeat);
  EXPECT_EQ(t[8].action, Action::kHangup);
  EXPECT_TRUE(t[8].hangup);
  for (size_t i = 0; i < 8; ++i) EXPECT_FALSE(t[i].hangup) << i;
}

TEST(TurnParserTest, TextWithoutMarkersIsOneSegmentKeptAsWritten) {
  const Scenario s =
      MustLoad(std::string(kHead) + "  - user: \"hi,  i want to check on my order\"\n");
  ASSERT_EQ(s.turns[0].segments.size(), 1u);
  EXPECT_EQ(s.turns[0].user, "hi,  i want to check on my order");
  EXPECT_EQ(s.turns[0].segments[0].text, s.turns[0].user);
  EXPECT_EQ(s.turns[0].segments[0].pause_after_ms, 0);
}

TEST(TurnParserTest, WaitForPauseAndBargeInForms) {
  const Scenario s = MustLoad(std::string(kHead) +
                              "  - user: hi\n"
                              "    wait_for: tool_result\n"
                              "    pause_before_ms: 250\n"
                              "  - user: stop\n"
                              "    barge_in: { after_agent_speech_ms: 800 }\n"
                              "  - repeat: {}\n"
                              "    barge_in: { when_agent_says: \"delivery day\" }\n"
                              "  - user: ok\n");
  EXPECT_EQ(s.turns[0].wait_for, WaitFor::kToolResult);
  EXPECT_EQ(s.turns[0].pause_before_ms, 250);
  EXPECT_FALSE(s.turns[0].barge_in.has_value());
  ASSERT_TRUE(s.turns[1].barge_in.has_value());
  EXPECT_EQ(s.turns[1].barge_in->after_agent_speech_ms, 800);
  EXPECT_EQ(s.turns[1].barge_in->when_agent_says, "");
  ASSERT_TRUE(s.turns[2].barge_in.has_value());
  EXPECT_EQ(s.turns[2].barge_in->when_agent_says, "delivery day");
  EXPECT_EQ(s.turns[3].wait_for, WaitFor::kReply);
}

TEST(TurnParserTest, EveryExpectationKind) {
  const Scenario s = MustLoad(std::string(kHead) +
                              "  - user: \"order four five six seven\"\n"
                              "    expect:\n"
                              "      - agent_says: { contains: \"shipped\" }\n"
                              "      - agent_says: { matches: \"order (number )?\\\\d+\" }\n"
                              "      - turn_latency: { max_ms: 1200 }\n"
                              "      - tool_call: { name: check_order_status, args: { order_id: "
                              "\"4567\", n: 2, f: [1, true] } }\n"
                              "      - tool_call: { name: transfer }\n"
                              "      - no_reply: { within_ms: 3000 }\n"
                              "      - call_ends: { by: transfer }\n"
                              "  - user: wait\n"
                              "    barge_in: { after_agent_speech_ms: 500 }\n"
                              "    expect: [ { agent_stops: { within_ms: 300 } } ]\n"
                              "  - repeat: {}\n"
                              "    expect: [ { agent_repeats: {} }, { agent_repeats: } ]\n");
  const std::vector<Expectation>& e = s.turns[0].expect;
  ASSERT_EQ(e.size(), 7u);
  EXPECT_EQ(e[0].kind, Expectation::kAgentSays);
  EXPECT_EQ(e[0].contains, "shipped");
  EXPECT_EQ(e[0].matches, "");
  EXPECT_EQ(e[1].kind, Expectation::kAgentSays);
  EXPECT_EQ(e[1].matches, "order (number )?\\d+");
  EXPECT_EQ(e[1].contains, "");
  EXPECT_EQ(e[2].kind, Expectation::kTurnLatency);
  EXPECT_EQ(e[2].max_ms, 1200);
  EXPECT_EQ(e[3].kind, Expectation::kToolCall);
  EXPECT_EQ(e[3].tool_name, "check_order_status");
  // Compact, keys sorted; a quoted number stays a string, a plain one is a number.
  EXPECT_EQ(e[3].tool_args_json, R"({"f":[1,true],"n":2,"order_id":"4567"})");
  EXPECT_EQ(e[4].tool_name, "transfer");
  EXPECT_EQ(e[4].tool_args_json, "");
  EXPECT_EQ(e[5].kind, Expectation::kNoReply);
  EXPECT_EQ(e[5].within_ms, 3000);
  EXPECT_EQ(e[6].kind, Expectation::kCallEnds);
  EXPECT_EQ(e[6].ends_by, CallEndedBy::kTransfer);
  EXPECT_EQ(e[6].where.line, 11);
  EXPECT_EQ(e[6].where.column, 9);
  ASSERT_EQ(s.turns[1].expect.size(), 1u);
  EXPECT_EQ(s.turns[1].expect[0].kind, Expectation::kAgentStops);
  EXPECT_EQ(s.turns[1].expect[0].within_ms, 300);
  ASSERT_EQ(s.turns[2].expect.size(), 2u);
  EXPECT_EQ(s.turns[2].expect[0].kind, Expectation::kAgentRepeats);
  EXPECT_EQ(s.turns[2].expect[1].kind, Expectation::kAgentRepeats);
}

TEST(TurnParserErrorTest, TwoActionsInOneTurn) {
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - user: hi\n    hangup: {}\n"),
            "s.yaml:4:5: turns.0.hangup: a turn has at most one action (user, play, dtmf, "
            "silence, repeat, hangup); this one already has user");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - { dtmf: \"1\", silence: { ms: 5 } }\n"),
            "s.yaml:3:18: turns.0.silence: a turn has at most one action (user, play, dtmf, "
            "silence, repeat, hangup); this one already has dtmf");
}

TEST(TurnParserErrorTest, PauseMarkers) {
  auto error = [](const std::string& user) {
    return OnlyErrorOf(std::string(kHead) + "  - user: \"" + user + "\"\n");
  };
  EXPECT_EQ(error("a [pause] b"),
            "s.yaml:3:11: turns.0.user: unknown marker [pause] (a pause is written [pause 900], "
            "in ms)");
  EXPECT_EQ(error("a [pause x] b"),
            "s.yaml:3:11: turns.0.user: bad pause [pause x]: expected a number in (0, 60000] ms "
            "(a pause is written [pause 900], in ms)");
  EXPECT_EQ(error("a [pause 0] b"),
            "s.yaml:3:11: turns.0.user: bad pause [pause 0]: expected a number in (0, 60000] ms "
            "(a pause is written [pause 900], in ms)");
  EXPECT_EQ(error("a [wait 5] b"),
            "s.yaml:3:11: turns.0.user: unknown marker [wait 5] (a pause is written [pause 900], "
            "in ms)");
  EXPECT_EQ(error("a [pause 5 b"),
            "s.yaml:3:11: turns.0.user: unmatched [ (a pause is written [pause 900], in ms)");
  EXPECT_EQ(error("a ] b"),
            "s.yaml:3:11: turns.0.user: unmatched ] (a pause is written [pause 900], in ms)");
  EXPECT_EQ(error("[pause 5] a"),
            "s.yaml:3:11: turns.0.user: a pause marker before any words: use pause_before_ms for "
            "a pause before the turn");
  EXPECT_EQ(error("a [pause 5]"),
            "s.yaml:3:11: turns.0.user: a pause marker after the last words: the turn ends there "
            "anyway");
  EXPECT_EQ(error("a [pause 5] [pause 6] b"),
            "s.yaml:3:11: turns.0.user: two pause markers in a row: write one with the total");
}

TEST(TurnParserErrorTest, PlayFile) {
  TempDir dir;
  dir.WriteAudio("a.wav");
  const std::string base = (dir.path() / "s.yaml").string();
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - play: { file: nope.wav }\n", {}, base),
            base + ":3:13: turns.0.play.file: no such file: " + (dir.path() / "nope.wav").string() +
                " (relative paths start at the scenario's folder)");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - play: { file: a.mp3 }\n", {}, base),
            base + ":3:19: turns.0.play.file: expected a .wav or .flac file, got a.mp3");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - play: { transcript: hi }\n", {}, base),
            base + ":3:11: turns.0.play.file: missing required key file");
  EXPECT_TRUE(testing::LoadAs(std::string(kHead) + "  - play: { file: a.wav }\n", {}, base).ok());
}

TEST(TurnParserErrorTest, DtmfKeys) {
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - dtmf: \"12e#\"\n"),
            "s.yaml:3:11: turns.0.dtmf: expected 1 to 100 telephone keys (0-9, *, #, A-D), got "
            "\"12e#\"");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - dtmf: \"\"\n"),
            "s.yaml:3:11: turns.0.dtmf: expected a non-empty string, got \"\"");
  // A plain 1234 is a number in YAML: the schema says what it expected.
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - dtmf: 1234\n"),
            "s.yaml:3:11: turns.0.dtmf: expected a non-empty string, got 1234");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - dtmf: \"" + std::string(101, '1') + "\"\n"),
            "s.yaml:3:11: turns.0.dtmf: expected at most 100 characters, got 101");
}

TEST(TurnParserErrorTest, HugeStringsGiveOneErrorAndNoCrash) {
  // The scenario schema is checked by valijson, whose std::regex recurses once per repetition: a
  // pattern such as ^[0-9]+$ in scenarios/schema.json would overflow the stack on this input. The
  // schema avoids such patterns; this keeps it that way.
  const std::string keys(300000, '1');
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - dtmf: \"" + keys + "\"\n"),
            "s.yaml:3:11: turns.0.dtmf: expected at most 100 characters, got 300000");
  std::string words;
  for (int i = 0; i < 50000; ++i) words += "hello ";
  EXPECT_EQ(testing::LoadAs(std::string(kHead) + "  - user: \"" + words + "[pause]\"\n").errors.size(), 1u);
}

TEST(TurnParserErrorTest, SilenceRepeatHangupShapes) {
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - silence: {}\n"),
            "s.yaml:3:14: turns.0.silence.ms: missing required key ms");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - silence: { ms: 0 }\n"),
            "s.yaml:3:20: turns.0.silence.ms: expected a number in (0, 86400000], got 0");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - repeat: { times: 2 }\n"),
            "s.yaml:3:15: turns.0.repeat.times: unknown key times (this map takes no keys)");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - hangup: true\n"),
            "s.yaml:3:13: turns.0.hangup: expected {} or nothing, got true");
}

TEST(TurnParserErrorTest, WaitForChoices) {
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - user: hi\n    wait_for: tool\n"),
            "s.yaml:4:15: turns.0.wait_for: expected reply | tool_result, got tool");
}

TEST(TurnParserErrorTest, BargeInForms) {
  // Alone, barge_in is not also an "empty turn": one problem, one error.
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - barge_in: { when_agent_says: ok }\n"),
            "s.yaml:3:5: turns.0.barge_in: barge_in needs user, play or repeat in the same turn "
            "(what the caller says over the agent)");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) + "  - user: hi\n    barge_in: {}\n"),
            "s.yaml:4:15: turns.0.barge_in: barge_in takes exactly one of after_agent_speech_ms "
            "and when_agent_says");
  EXPECT_EQ(OnlyErrorOf(
                std::string(kHead) +
                "  - user: hi\n    barge_in: { after_agent_speech_ms: 5, when_agent_says: ok }\n"),
            "s.yaml:4:43: turns.0.barge_in.when_agent_says: barge_in takes exactly one of "
            "after_agent_speech_ms and when_agent_says, not both");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kHead) + "  - dtmf: \"1\"\n    barge_in: { when_agent_says: ok }\n"),
      "s.yaml:4:5: turns.0.barge_in: barge_in needs user, play or repeat in the same turn "
      "(what the caller says over the agent)");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kHead) + "  - user: hi\n    barge_in: { when_agent_says: \"?!\" }\n"),
      "s.yaml:4:34: turns.0.barge_in.when_agent_says: expected some words, got \"?!\"");
}

TEST(TurnParserErrorTest, AgentSaysForms) {
  const std::string head = std::string(kHead) + "  - user: hi\n    expect:\n";
  EXPECT_EQ(OnlyErrorOf(head + "      - agent_says: {}\n"),
            "s.yaml:5:21: turns.0.expect.0.agent_says: agent_says takes exactly one of contains "
            "and matches");
  EXPECT_EQ(OnlyErrorOf(head + "      - agent_says: { contains: a, matches: b }\n"),
            "s.yaml:5:36: turns.0.expect.0.agent_says.matches: agent_says takes exactly one of "
            "contains and matches, not both");
  EXPECT_EQ(OnlyErrorOf(head + "      - agent_says: { matches: \"(unclosed\" }\n"),
            "s.yaml:5:32: turns.0.expect.0.agent_says.matches: the regex does not compile (RE2 "
            "syntax): missing ): (unclosed");
  // RE2 has no backreferences and no lookaround: refused where they are written.
  EXPECT_EQ(OnlyErrorOf(head + "      - agent_says: { matches: \"(order) \\\\1\" }\n"),
            "s.yaml:5:32: turns.0.expect.0.agent_says.matches: the regex does not compile (RE2 "
            "syntax): invalid escape sequence: \\1");
  EXPECT_EQ(OnlyErrorOf(head + "      - agent_says: { matches: \"shipped(?= today)\" }\n"),
            "s.yaml:5:32: turns.0.expect.0.agent_says.matches: the regex does not compile (RE2 "
            "syntax): invalid perl operator: (?=");
}

TEST(TurnParserErrorTest, ExpectationsOnTheWrongTurn) {
  EXPECT_EQ(
      OnlyErrorOf(std::string(kHead) + "  - user: hi\n    expect: [ { agent_repeats: {} } ]\n"),
      "s.yaml:4:17: turns.0.expect.0.agent_repeats: agent_repeats needs repeat in the same "
      "turn (the agent repeats itself only when asked)");
  EXPECT_EQ(OnlyErrorOf(std::string(kHead) +
                        "  - repeat: {}\n    expect: [ { agent_stops: { within_ms: 5 } } ]\n"),
            "s.yaml:4:17: turns.0.expect.0.agent_stops: agent_stops needs barge_in in the same "
            "turn (there is nothing to stop)");
}

TEST(TurnParserErrorTest, ToolCallAndCallEndsShapes) {
  const std::string head = std::string(kHead) + "  - user: hi\n    expect:\n";
  EXPECT_EQ(OnlyErrorOf(head + "      - tool_call: { name: x, args: [1, 2] }\n"),
            "s.yaml:5:37: turns.0.expect.0.tool_call.args: expected a map, got a list");
  EXPECT_EQ(OnlyErrorOf(head + "      - tool_call: { args: {} }\n"),
            "s.yaml:5:20: turns.0.expect.0.tool_call.name: missing required key name");
  EXPECT_EQ(OnlyErrorOf(head + "      - call_ends: { by: nobody }\n"),
            "s.yaml:5:26: turns.0.expect.0.call_ends.by: expected caller | agent | transfer, got "
            "nobody");
  EXPECT_EQ(OnlyErrorOf(head + "      - no_reply: { within_ms: -1 }\n"),
            "s.yaml:5:32: turns.0.expect.0.no_reply.within_ms: expected a number in (0, 86400000], "
            "got -1");
  EXPECT_EQ(
      OnlyErrorOf(head + "      - { no_reply: { within_ms: 5 }, call_ends: { by: agent } }\n"),
      "s.yaml:5:9: turns.0.expect.0: expected one of agent_says, turn_latency, agent_stops, "
      "tool_call, no_reply, call_ends, agent_repeats per list item, got 2");
}

}  // namespace
}  // namespace callsim::harness
