// Whole calls, one at a time: the caller's actions (pauses inside an utterance, DTMF keys, a
// recording, barge-in on a phrase, repeats, silence) and expectations (tool_call, no_reply,
// call_ends, agent_repeats) through the links, RTP, jitter buffers, the reference agent and the
// fakes (scenarios/llm/actions.yaml), in virtual time.
#include "harness/run/sim_call.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "harness/measure/wer.h"
#include "agent/runtime/sim_scheduler.h"
#include "harness/scenario/loader.h"
#include "tests/harness/caller/speech_wav.h"

namespace callsim::harness {
namespace {

using Action = Turn::Action;
using nlohmann::json;

const std::string kScenarioDir = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/";

// Fixed provider latencies, so the timing arguments in the tests below hold for every seed:
// an answer starts playing about 1.1 s after the caller's speech ends at the agent (endpoint
// 550 ms, STT final 100, LLM first token 300, TTS first audio 120, a frame).
const char* kBase = R"(
name: actions
codec: l16
network:
  uplink:   { delay_ms: 40, jitter_ms: 5 }
  downlink: { delay_ms: 40, jitter_ms: 5 }
fakes:
  stt: { profile: perfect, final_latency_ms: { p50: 100, p95: 100 } }
  llm: { script: llm/actions.yaml, ttft_ms: { p50: 300, p95: 300 } }
  tts: { ttfb_ms: { p50: 120, p95: 120 } }
turns:
  - expect: [ { agent_says: { contains: "how can i help" } } ]
)";

struct Call {
  CallRecord record;
  // The events of one source and kind, in order.
  std::vector<EventEntry> Events(const std::string& source, const std::string& kind) const {
    std::vector<EventEntry> out;
    for (const EventEntry& e : record.events) {
      if (e.source == source && e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<ExpectationResult> Results(const std::string& kind) const {
    std::vector<ExpectationResult> out;
    for (const ExpectationResult& r : record.expectations) {
      if (r.kind == kind) out.push_back(r);
    }
    return out;
  }
  std::string Failures() const {
    std::string out;
    for (const ExpectationResult& r : record.expectations) {
      if (r.passed) continue;
      out += "turn " + std::to_string(r.turn_index) + " " + r.kind + ": " + r.detail + "\n";
    }
    return out;
  }
};

json Detail(const EventEntry& e) { return json::parse(e.detail_json); }

Turn Say(std::string text) {
  Turn t;
  t.action = Action::kSay;
  t.user = std::move(text);
  t.segments = {SpeechSegment{t.user, 0}};
  return t;
}
Turn Act(Action action) {
  Turn t;
  t.action = action;
  t.hangup = action == Action::kHangup;
  return t;
}
Expectation Expect(Expectation::Kind kind) {
  Expectation e;
  e.kind = kind;
  return e;
}

class SimCallTest : public ::testing::Test {
 protected:
  // The base scenario with `turns` after its greeting turn, then a hangup.
  Scenario Make(std::vector<Turn> turns) {
    LoadResult loaded = LoadScenarioText(kBase, kScenarioDir + "test.yaml");
    EXPECT_TRUE(loaded.scenario) << (loaded.errors.empty() ? "" : loaded.errors[0].ToString());
    Scenario s = loaded.scenario ? *loaded.scenario : Scenario{};
    s.turns.insert(s.turns.end(), turns.begin(), turns.end());
    s.turns.push_back(Act(Action::kHangup));
    return s;
  }
  Call Run(const Scenario& scenario, uint64_t seed) {
    fakes::LlmScript script;
    std::string error;
    EXPECT_TRUE(fakes::LoadLlmScript(scenario.fakes.llm.script, &script, &error)) << error;
    agent::SimScheduler scheduler;
    std::optional<CallRecord> record;
    SimCall call(scheduler, scenario, script, 0, agent::Rng(seed),
                 [&](CallRecord r) { record = std::move(r); });
    call.Start();
    while (!record && scheduler.RunOne()) {
    }
    EXPECT_TRUE(record);
    return Call{record ? std::move(*record) : CallRecord{}};
  }
};

// "i would like to ask about" alone gets the fallback answer; with "my order number four five six
// seven" after the pause it gets the order answer.
Turn PausedUtterance(double pause_ms) {
  Turn t = Say("i would like to ask about my order number four five six seven");
  t.segments = {{"i would like to ask about", pause_ms},
                {"my order number four five six seven", 0}};
  t.expect = {Expect(Expectation::kAgentSays)};
  t.expect[0].contains = "your order number four five six seven has shipped";
  return t;
}

// An answer (agent "speech_start" of kind answer) that began while turn `turn`'s utterance was
// still going at the caller's mouth.
bool AgentCutIn(const Call& call, int turn) {
  const TurnOutcome& o = call.record.outcomes[static_cast<size_t>(turn)];
  for (const EventEntry& e : call.Events("agent", "speech_start")) {
    if (Detail(e)["kind"] == "answer" && e.t_us > *o.utterance_start_us &&
        e.t_us < *o.utterance_end_us) {
      return true;
    }
  }
  return false;
}

// Words that stop mid-sentence ("ask about") make the default agent wait endpoint_max_delay_ms
// (1.5 s) instead of 300 ms after the VAD stop: a 900 ms clause pause is not the end of the turn,
// and the agent hears the whole utterance as one final.
TEST_F(SimCallTest, ClausePauseEndingMidSentenceIsNotAnEndpoint) {
  for (uint64_t seed : {1, 2, 3}) {
    const Call call = Run(Make({PausedUtterance(900)}), seed);
    EXPECT_EQ(call.Failures(), "") << "seed " << seed;
    EXPECT_FALSE(AgentCutIn(call, 1)) << "seed " << seed;
    const auto finals = call.Events("agent", "stt_final");
    ASSERT_EQ(finals.size(), 1u);
    // The voice falls on the line's last word only: the STT ends the transcript there.
    EXPECT_EQ(Detail(finals[0])["text"],
              "i would like to ask about my order number four five six seven.");
    EXPECT_TRUE(call.Events("agent", "reply_cancelled").empty());
  }
}

// A hasty endpointer (no longer wait for unfinished words) ends a turn after 550 ms of silence
// (VAD stop 250 + endpoint delay 300). A 900 ms clause pause does reach the endpoint, but the
// caller resumes while the agent is still thinking (its answer would start ~1.1 s after the
// speech ended), so the reply is dropped and the two halves are answered as one message.
Scenario Hasty(Scenario s) {
  s.agent.endpoint_max_delay_ms = s.agent.endpoint_delay_ms;
  return s;
}

TEST_F(SimCallTest, PauseOf900MsInsideAnUtteranceDoesNotEndTheTurnEarly) {
  for (uint64_t seed : {1, 2, 3}) {
    const Call call = Run(Hasty(Make({PausedUtterance(900)})), seed);
    EXPECT_EQ(call.Failures(), "") << "seed " << seed;
    EXPECT_FALSE(AgentCutIn(call, 1)) << "seed " << seed;
    const auto finals = call.Events("agent", "stt_final");
    ASSERT_EQ(finals.size(), 2u);
    EXPECT_EQ(Detail(finals[0])["text"], "i would like to ask about");
    const auto cancelled = call.Events("agent", "reply_cancelled");
    ASSERT_EQ(cancelled.size(), 1u);
    EXPECT_EQ(Detail(cancelled[0])["reason"], "caller_resumed");
    EXPECT_TRUE(call.Events("agent", "barge_in").empty());
    // Both pieces make the turn's hypothesis.
    EXPECT_EQ(call.record.hypotheses[1],
              "i would like to ask about my order number four five six seven.");
    EXPECT_EQ(
        ComputeWer(call.record.outcomes[1].reference_text, call.record.hypotheses[1]).errors(), 0);
  }
}

// With 1500 ms the agent answers the first half while the caller is still mid-utterance (an agent
// cut-in); the caller's second half then barges in and gets the order answer.
TEST_F(SimCallTest, PauseOf1500MsLetsTheAgentCutIn) {
  for (uint64_t seed : {1, 2, 3}) {
    const Call call = Run(Hasty(Make({PausedUtterance(1500)})), seed);
    EXPECT_TRUE(AgentCutIn(call, 1)) << "seed " << seed;
    const auto finals = call.Events("agent", "stt_final");
    ASSERT_GE(finals.size(), 2u);
    EXPECT_EQ(Detail(finals[0])["text"], "i would like to ask about");  // all it heard at first
    EXPECT_EQ(Detail(call.Events("agent", "sentence")[2])["text"], "Sorry, I did not catch that.");
    EXPECT_EQ(call.Events("agent", "barge_in").size(), 1u);
    EXPECT_EQ(call.record.hypotheses[1],
              "i would like to ask about my order number four five six seven.");
    EXPECT_EQ(call.Failures(), "") << "seed " << seed;  // the final answer was about the order
  }
}

TEST_F(SimCallTest, DtmfKeysReachTheAgentAsAMessage) {
  Turn keys = Act(Action::kDtmf);
  keys.dtmf = "1234";
  keys.expect = {Expect(Expectation::kAgentSays), Expect(Expectation::kTurnLatency)};
  keys.expect[0].contains = "you entered one two three four";
  keys.expect[1].max_ms = 4000;
  const Call call = Run(Make({keys}), 5);
  EXPECT_EQ(call.Failures(), "");
  const auto dtmf = call.Events("agent", "dtmf");
  ASSERT_EQ(dtmf.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Detail(dtmf[i])["key"], std::string(1, "1234"[i]));
  // Keys 200 ms apart, each arriving one uplink delay (40 ms, jitter 5 ms) after it was pressed.
  EXPECT_NEAR(static_cast<double>(dtmf[3].t_us - dtmf[0].t_us), 600'000, 40'000);
  const auto input = call.Events("agent", "dtmf_input");
  ASSERT_EQ(input.size(), 1u);
  EXPECT_EQ(Detail(input[0])["text"], "DTMF: 1234");
  EXPECT_EQ(input[0].t_us - dtmf[3].t_us, 2'000'000);  // the inter-key timeout
  EXPECT_EQ(call.record.agent_media.dtmf_keys_received, 4u);
  EXPECT_EQ(call.record.caller_media.dtmf_packets_sent,
            4u * 7);  // 4 per 100 ms key + 3 end packets
  EXPECT_EQ(call.record.agent_media.dtmf_packets_sent, 0u);
  EXPECT_TRUE(call.record.task_completed);
}

TEST_F(SimCallTest, RecordingIsRecognisedByTheStt) {
  const std::string path = "/tmp/callsim_sim_call_" + std::to_string(getpid()) + ".wav";
  const std::string words = "i want to check on my order number four five six seven";
  ASSERT_TRUE(testing::WriteSamples(path, testing::To8k(testing::ModemSpeech(words)), 8000));
  Turn play = Act(Action::kPlayFile);
  play.audio_file = path;
  play.audio_transcript = words;
  play.expect = {Expect(Expectation::kAgentSays)};
  play.expect[0].contains = "has shipped";
  const Call call = Run(Make({play}), 7);
  std::remove(path.c_str());
  EXPECT_EQ(call.Failures(), "");
  const TurnOutcome& o = call.record.outcomes[1];
  EXPECT_TRUE(o.has_user);
  EXPECT_EQ(o.reference_text, words);
  EXPECT_EQ(call.record.hypotheses[1], words + ".");  // the recording's last word yields the turn
  EXPECT_EQ(ComputeWer(words, call.record.hypotheses[1]).errors(), 0);
}

TEST_F(SimCallTest, BargeInWhenTheAgentSaysAPhrase) {
  Turn ask = Say("what is the status of my order");
  Turn wait = Say("wait");
  wait.barge_in = BargeIn{0, "status of that order"};
  wait.expect = {Expect(Expectation::kAgentStops)};
  wait.expect[0].within_ms = 700;
  const Call call = Run(Make({ask, wait}), 9);
  EXPECT_EQ(call.Failures(), "");
  EXPECT_EQ(call.Events("caller", "barge_in_phrase_heard").size(), 1u);
  const std::string& heard = call.record.outcomes[1].heard_text;
  EXPECT_EQ(heard, "let me check the status of that order");  // cut right after the phrase
  EXPECT_EQ(call.Events("agent", "barge_in").size(), 1u);
  ASSERT_TRUE(call.record.outcomes[2].barge_in_stop_ms);
}

TEST_F(SimCallTest, RepeatIsReplayedAndJudged) {
  Turn order = Say("my order number is four five six seven");
  Turn again = Act(Action::kRepeat);
  again.expect = {Expect(Expectation::kAgentRepeats)};
  const Call call = Run(Make({order, again}), 11);
  EXPECT_EQ(call.Failures(), "");
  ASSERT_EQ(call.Results("agent_repeats").size(), 1u);
  EXPECT_EQ(call.Events("agent", "repeat").size(), 1u);
  EXPECT_EQ(call.Events("agent", "llm_request").size(), 1u);  // the replay needs no LLM
  EXPECT_EQ(call.record.outcomes[2].heard_text, call.record.outcomes[1].heard_text);
  EXPECT_EQ(call.record.hypotheses[2], "sorry could you say that again.");
}

TEST_F(SimCallTest, NoReplyPassesAfterSilenceAndFailsWhenTheAgentAnswers) {
  Turn quiet = Act(Action::kSilence);
  quiet.silence_ms = 3000;
  quiet.expect = {Expect(Expectation::kNoReply)};
  quiet.expect[0].within_ms = 2500;
  Call call = Run(Make({quiet}), 13);
  EXPECT_EQ(call.Failures(), "");
  ASSERT_EQ(call.Results("no_reply").size(), 1u);

  Turn talk = Say("my order number is four five six seven");
  talk.expect = {Expect(Expectation::kNoReply)};
  talk.expect[0].within_ms = 3000;
  call = Run(Make({talk}), 13);
  const auto r = call.Results("no_reply");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].passed);
  EXPECT_NE(r[0].detail.find("the agent spoke"), std::string::npos) << r[0].detail;
  EXPECT_FALSE(call.record.task_completed);
}

TEST_F(SimCallTest, ToolCallExpectationMatchesArgumentSubsets) {
  Turn ask = Say("what is the status of my order");
  Expectation subset = Expect(Expectation::kToolCall);
  subset.tool_name = "check_order_status";
  subset.tool_args_json = R"({"order_id": "4567"})";
  Expectation wrong = subset;
  wrong.tool_args_json = R"({"order_id": "4567", "include_items": false})";
  ask.expect = {subset, wrong};
  const Call call = Run(Make({ask}), 15);
  const auto r = call.Results("tool_call");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].passed) << r[0].detail;
  EXPECT_FALSE(r[1].passed);
  ASSERT_EQ(call.record.outcomes[1].tool_calls.size(), 1u);
  EXPECT_EQ(call.record.outcomes[1].tool_calls[0].arguments_json,
            R"({"order_id":"4567","include_items":true})");
}

TEST_F(SimCallTest, AgentHangsUpWithEndCall) {
  Turn bye = Say("thank you, goodbye");
  bye.expect = {Expect(Expectation::kAgentSays), Expect(Expectation::kCallEnds)};
  bye.expect[0].contains = "have a nice day";
  bye.expect[1].ends_by = CallEndedBy::kAgent;
  const Call call = Run(Make({bye}), 17);
  EXPECT_EQ(call.Failures(), "");
  EXPECT_EQ(call.record.status, CallStatus::kCompleted);
  EXPECT_EQ(call.record.ended_by, CallEndedBy::kAgent);
  EXPECT_TRUE(call.record.task_completed);
  ASSERT_EQ(call.Events("agent", "agent_hangup").size(), 1u);
  EXPECT_TRUE(call.Events("caller", "hangup").empty());
  // The line went dead after the audio already sent had played at the caller.
  const auto end = call.Events("call", "end");
  ASSERT_EQ(end.size(), 1u);
  EXPECT_GT(end[0].t_us, call.Events("agent", "agent_hangup")[0].t_us);
}

TEST_F(SimCallTest, AgentTransfersWithTransferCall) {
  Turn human = Say("i want to talk to an operator");
  human.expect = {Expect(Expectation::kCallEnds)};
  human.expect[0].ends_by = CallEndedBy::kTransfer;
  const Call call = Run(Make({human}), 19);
  EXPECT_EQ(call.Failures(), "");
  EXPECT_EQ(call.record.ended_by, CallEndedBy::kTransfer);
  const auto transfer = call.Events("agent", "transfer");
  ASSERT_EQ(transfer.size(), 1u);
  EXPECT_EQ(Detail(transfer[0])["target"], "operator");
}

TEST_F(SimCallTest, WaitForToolResultIsBoundedByTheReplyTimeout) {
  Turn next = Say("thanks");
  next.wait_for = WaitFor::kToolResult;  // the reference agent executes no lookup tool: none comes
  Scenario s = Make({Say("my order number is four five six seven"), next});
  s.caller.reply_timeout_ms = 4000;
  const Call call = Run(s, 21);
  EXPECT_EQ(call.Failures(), "");
  const auto timeout = call.Events("caller", "wait_for_timeout");
  ASSERT_EQ(timeout.size(), 1u);
  EXPECT_EQ(Detail(timeout[0])["waited_ms"], 4000.0);
  EXPECT_EQ(timeout[0].t_us - call.Events("caller", "wait_for")[0].t_us, 4'000'000);
  EXPECT_GE(*call.record.outcomes[2].utterance_start_us, timeout[0].t_us);
  EXPECT_EQ(call.record.ended_by, CallEndedBy::kCaller);
}

TEST_F(SimCallTest, BadMicrophoneSettingsFailTheCallAtItsStart) {
  Scenario s = Make({Say("hello")});
  s.caller.echo.enabled = true;
  s.caller.echo.delay_ms = 5000;
  const Call call = Run(s, 23);
  EXPECT_EQ(call.record.status, CallStatus::kFailed);
  EXPECT_EQ(call.record.failure_reason.rfind("caller microphone: echo.delay_ms", 0), 0u)
      << call.record.failure_reason;
  EXPECT_EQ(call.record.ended_us, call.record.started_us);
  EXPECT_FALSE(call.record.task_completed);
}

TEST_F(SimCallTest, SameSeedSameCall) {
  Turn keys = Act(Action::kDtmf);
  keys.dtmf = "1234";
  Scenario s = Make({PausedUtterance(1500), keys, Act(Action::kRepeat)});
  s.caller.variation = {0.1, 0.3};
  s.uplink.loss.model = LossSpec::kBernoulli;
  s.uplink.loss.loss = 0.03;
  const Call a = Run(s, 31), b = Run(s, 31), c = Run(s, 32);
  EXPECT_EQ(a.record.event_hash, b.record.event_hash);
  EXPECT_EQ(a.record.events.size(), b.record.events.size());
  EXPECT_NE(a.record.event_hash, c.record.event_hash);
}

}  // namespace
}  // namespace callsim::harness
