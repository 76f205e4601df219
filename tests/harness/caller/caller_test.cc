// The caller against a scripted line on a SimScheduler: every 20 ms its mouth is read and its ear
// is fed the "agent" audio the test queued (word-modem speech), with no network or agent in
// between, so every time below is exact.
#include "harness/caller/caller.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/harness/caller/speech_wav.h"

namespace callsim::harness {
namespace {

using nlohmann::json;
using Action = Turn::Action;

constexpr int64_t kMs = 1000;
constexpr uint64_t kSeed = 17;

struct Event {
  int64_t t_us;
  std::string kind;
  json detail;
};

class Recorder final : public agent::EventSink {
 public:
  void Emit(int64_t t_us, std::string_view, std::string_view kind, const json& detail) override {
    events.push_back({t_us, std::string(kind), detail});
    if (hook) hook(events.back());
  }
  const Event* Find(std::string_view kind, int n = 0) const {
    for (const Event& e : events) {
      if (e.kind == kind && n-- == 0) return &e;
    }
    return nullptr;
  }
  int Count(std::string_view kind) const {
    int n = 0;
    for (const Event& e : events) n += e.kind == kind;
    return n;
  }
  std::vector<Event> events;
  std::function<void(const Event&)> hook;
};

Turn Say(std::string text) {
  Turn t;
  t.action = Action::kSay;
  t.user = std::move(text);
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

class CallerTest : public ::testing::Test {
 protected:
  CallerTest() {
    scenario_.caller.reply_timeout_ms = 3000;
    scenario_.caller.reply_end_silence_ms = 600;
  }

  void Start() {
    caller_ = std::make_unique<Caller>(scheduler_, scenario_, agent::Rng(kSeed), events_,
                                       [this](const std::string& reason) { hangup_ = reason; });
    ASSERT_EQ(caller_->setup_error(), "");
    caller_->set_dtmf_sender([this](char key, int ms) {
      keys_.push_back({key, ms, scheduler_.NowUs()});
    });
    events_.hook = [this](const Event& e) { OnCallerEvent(e); };
    caller_->Start();
    Tick(0);
  }
  void Run(int64_t until_ms = 60000) { scheduler_.RunUntil(until_ms * kMs); }

  // The scripted agent: replies_[turn] starts reply_delay_ms after the turn's action ended.
  void OnCallerEvent(const Event& e) {
    if (e.kind != "utterance_end" && e.kind != "dtmf_end") return;
    const int turn = e.detail["turn"].get<int>();
    const auto it = replies_.find(turn);
    if (it == replies_.end()) return;
    const int64_t end_us = *caller_->outcomes()[turn].utterance_end_us;
    AgentSays(end_us + reply_delay_ms_ * kMs, it->second);
  }
  // Queues modem speech of `text` to reach the ear from the first tick at or after `at_us`.
  void AgentSays(int64_t at_us, const std::string& text) {
    scheduler_.At(at_us, [this, text] {
      const fakes::ModemAudio audio = fakes::EncodeSpeech(text, fakes::VoiceProfile{}, nullptr);
      agent_audio_.insert(agent_audio_.end(), audio.samples.begin(), audio.samples.end());
      agent_words_.push_back(audio.words);
    });
  }
  void Tick(int64_t t_us) {
    scheduler_.At(t_us, [this, t_us] {
      if (caller_->finished()) return;
      agent::Frame mouth;
      caller_->NextOutputFrame(&mouth);
      if (mouth_start_us_ < 0) mouth_start_us_ = t_us;
      mouth_.insert(mouth_.end(), mouth.samples.begin(), mouth.samples.end());
      agent::Frame ear;
      for (int16_t& s : ear.samples) {
        if (agent_audio_.empty()) break;
        s = agent_audio_.front();
        agent_audio_.pop_front();
      }
      if (ear_start_us_ < 0 && ear.samples != agent::Frame{}.samples) ear_start_us_ = t_us;
      caller_->OnEarFrame(ear, t_us);
      Tick(t_us + agent::kFrameUs);
    });
  }

  const TurnOutcome& Outcome(int turn) const {
    return caller_->outcomes().at(static_cast<size_t>(turn));
  }
  std::vector<ExpectationResult> Results(const std::string& kind) const {
    std::vector<ExpectationResult> out;
    for (const ExpectationResult& r : caller_->expectations()) {
      if (r.kind == kind) out.push_back(r);
    }
    return out;
  }
  int Failures() const {
    int n = 0;
    for (const ExpectationResult& r : caller_->expectations()) n += !r.passed;
    return n;
  }
  // Mouth samples of the interval [from_us, to_us) (times rounded to the nearest sample).
  std::vector<int16_t> Mouth(int64_t from_us, int64_t to_us) const {
    const auto begin = static_cast<size_t>(((from_us - mouth_start_us_) * 16 + kMs / 2) / kMs);
    const auto end = static_cast<size_t>(((to_us - mouth_start_us_) * 16 + kMs / 2) / kMs);
    return std::vector<int16_t>(mouth_.begin() + static_cast<std::ptrdiff_t>(begin),
                                mouth_.begin() + static_cast<std::ptrdiff_t>(end));
  }

  struct Key {
    char key;
    int duration_ms;
    int64_t t_us;
  };

  agent::SimScheduler scheduler_;
  Scenario scenario_;
  Recorder events_;
  std::unique_ptr<Caller> caller_;
  std::map<int, std::string> replies_;
  int64_t reply_delay_ms_ = 500;
  std::deque<int16_t> agent_audio_;
  std::vector<std::vector<fakes::WordTiming>> agent_words_;
  std::vector<int16_t> mouth_;
  int64_t mouth_start_us_ = -1;
  int64_t ear_start_us_ = -1;
  std::vector<Key> keys_;
  std::string hangup_;
};

TEST_F(CallerTest, PauseMarkersStayInsideOneUtterance) {
  scenario_.caller.variation.pauses = 0.4;  // this caller's own pause scale applies to [pause N]
  Turn say = Say("my number is four five");
  say.segments = {{"my number is", 900}, {"four five", 0}};
  scenario_.turns = {say, Act(Action::kHangup)};
  replies_[0] = "thank you";
  Start();
  Run();

  const double scale = caller_->voice().pause_scale;
  EXPECT_NE(scale, 1.0);
  agent::Rng voice_rng = agent::Rng(kSeed).Fork("voice");
  const std::vector<int16_t> expected =
      EncodeUtterance(say.segments, caller_->voice(), &voice_rng).Samples();
  const TurnOutcome& o = Outcome(0);
  ASSERT_TRUE(o.utterance_start_us && o.utterance_end_us);
  EXPECT_EQ(*o.utterance_end_us - *o.utterance_start_us,
            static_cast<int64_t>(expected.size()) * kMs / 16);
  const std::vector<int16_t> mouth = Mouth(*o.utterance_start_us, *o.utterance_end_us);
  ASSERT_EQ(mouth.size(), expected.size());
  for (size_t i = 0; i < mouth.size(); ++i) ASSERT_EQ(mouth[i], expected[i]) << i;
  EXPECT_EQ(events_.Count("utterance_start"), 1);
  EXPECT_EQ(events_.Count("utterance_end"), 1);
  EXPECT_EQ(o.reference_text, "my number is four five");
  EXPECT_TRUE(o.has_user);
  EXPECT_EQ(o.heard_text, "thank you");
  EXPECT_EQ(hangup_, "caller hung up");
}

TEST_F(CallerTest, DtmfKeysArePressedForTheirTimeWithGaps) {
  Turn dtmf = Act(Action::kDtmf);
  dtmf.dtmf = "12#";
  dtmf.pause_before_ms = 100;
  scenario_.turns = {dtmf, Act(Action::kHangup)};
  replies_[0] = "okay";
  reply_delay_ms_ = 300;
  Start();
  Run();

  ASSERT_EQ(keys_.size(), 3u);
  EXPECT_EQ(keys_[0].key, '1');
  EXPECT_EQ(keys_[2].key, '#');
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(keys_[i].t_us, (100 + 200 * static_cast<int64_t>(i)) * kMs);
    EXPECT_EQ(keys_[i].duration_ms, kDtmfKeyMs);
  }
  const TurnOutcome& o = Outcome(0);
  EXPECT_EQ(o.action, "dtmf");
  EXPECT_FALSE(o.has_user);
  EXPECT_EQ(*o.utterance_start_us, 100 * kMs);
  EXPECT_EQ(*o.utterance_end_us, 600 * kMs);  // the last key's end
  EXPECT_EQ(events_.Count("utterance_start"), 0);
  EXPECT_EQ(events_.Count("dtmf_end"), 1);
  ASSERT_TRUE(o.turn_latency_ms);  // the reply starts 300 ms later, on the next tick
  EXPECT_GE(*o.turn_latency_ms, 300);
  EXPECT_LT(*o.turn_latency_ms, 330);
  for (int16_t s : mouth_) ASSERT_EQ(s, 0);  // keys are events, not sound
}

TEST_F(CallerTest, SilenceGoesOnWithoutWaitingForAReply) {
  Turn silence = Act(Action::kSilence);
  silence.silence_ms = 1500;
  scenario_.turns = {silence, Say("hello"), Act(Action::kHangup)};
  replies_[1] = "hi";
  Start();
  Run();
  EXPECT_EQ(*Outcome(1).utterance_start_us, 1500 * kMs);
  EXPECT_EQ(Failures(), 0);
  EXPECT_EQ(Outcome(1).heard_text, "hi");
}

TEST_F(CallerTest, NoReplyPassesWhenTheAgentStaysSilent) {
  Turn hold = Say("hold on");
  Expectation quiet = Expect(Expectation::kNoReply);
  quiet.within_ms = 2000;
  hold.expect = {quiet};
  scenario_.turns = {hold, Say("okay"), Act(Action::kHangup)};
  replies_[1] = "fine";
  Start();
  Run();
  const auto r = Results("no_reply");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].passed) << r[0].detail;
  EXPECT_EQ(r[0].detail, "no agent audio within 2000 ms");
  // The caller went on once the window closed (the next frame boundary).
  const int64_t window_end = *Outcome(0).utterance_end_us + 2000 * kMs;
  EXPECT_GE(*Outcome(1).utterance_start_us, window_end);
  EXPECT_LT(*Outcome(1).utterance_start_us, window_end + agent::kFrameUs);
  EXPECT_EQ(Failures(), 0);
}

TEST_F(CallerTest, NoReplyFailsWithHowSoonTheAgentSpoke) {
  Turn hold = Say("hold on");
  Expectation quiet = Expect(Expectation::kNoReply);
  quiet.within_ms = 2000;
  hold.expect = {quiet};
  scenario_.turns = {hold, Act(Action::kHangup)};
  replies_[0] = "sure";
  reply_delay_ms_ = 400;
  Start();
  Run();
  const auto r = Results("no_reply");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].passed);
  const double after_ms =
      static_cast<double>(*Outcome(0).reply_onset_us - *Outcome(0).utterance_end_us) / kMs;
  EXPECT_GE(after_ms, 400);
  EXPECT_LT(after_ms, 430);
  EXPECT_NE(r[0].detail.find("the agent spoke 4"), std::string::npos) << r[0].detail;
  EXPECT_EQ(Outcome(0).heard_text, "sure");  // the reply was still heard out
}

TEST_F(CallerTest, ToolCallsDuringTheTurnAreMatchedOnArgumentSubsets) {
  Turn ask = Say("check my order status");
  Expectation right = Expect(Expectation::kToolCall);
  right.tool_name = "check_order_status";
  right.tool_args_json = R"({"order_id":"4567"})";
  Expectation wrong = right;
  wrong.tool_args_json = R"({"order_id":"1234"})";
  ask.expect = {right, wrong};
  scenario_.turns = {ask, Say("thanks"), Act(Action::kHangup)};
  replies_[0] = "let me check";
  replies_[1] = "welcome";
  Start();
  // The agent proposes the tool while the caller waits for the reply.
  events_.hook = [this](const Event& e) {
    OnCallerEvent(e);
    if (e.kind == "utterance_end" && e.detail["turn"] == 0) {
      scheduler_.After(100 * kMs, [this] {
        caller_->OnAgentEvent("tool_call_proposed",
                              {{"id", "call_1"},
                               {"name", "check_order_status"},
                               {"arguments", R"({"order_id":"4567","include_items":true})"}});
        caller_->OnAgentEvent("tool_call", {{"id", "call_1"},
                                            {"name", "check_order_status"},
                                            {"arguments", R"({"order_id":"4567"})"}});
      });
    }
  };
  Run();
  const auto r = Results("tool_call");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].passed) << r[0].detail;
  EXPECT_FALSE(r[1].passed);
  EXPECT_EQ(Outcome(0).tool_calls.size(), 1u);  // the executed call is the proposed one
  EXPECT_TRUE(Outcome(1).tool_calls.empty());
}

TEST_F(CallerTest, WaitForToolResultHoldsTheNextTurnUntilTheResult) {
  Turn next = Say("thanks");
  next.wait_for = WaitFor::kToolResult;
  scenario_.turns = {Say("check my order"), next, Act(Action::kHangup)};
  replies_[0] = "let me check";
  replies_[1] = "welcome";
  Start();
  scheduler_.At(5000 * kMs, [this] { caller_->OnAgentEvent("tool_result", {{"name", "x"}}); });
  Run();
  EXPECT_EQ(events_.Count("wait_for"), 1);
  EXPECT_EQ(events_.Count("wait_for_done"), 1);
  // The caller goes on from a task of its own: at the next frame at the latest.
  EXPECT_GE(*Outcome(1).utterance_start_us, 5000 * kMs);
  EXPECT_LE(*Outcome(1).utterance_start_us, 5000 * kMs + agent::kFrameUs);
  EXPECT_EQ(Failures(), 0);
}

TEST_F(CallerTest, WaitForToolResultIsBoundedByTheReplyTimeout) {
  Turn next = Say("thanks");
  next.wait_for = WaitFor::kToolResult;
  scenario_.turns = {Say("check my order"), next, Act(Action::kHangup)};
  replies_[0] = "let me check";
  replies_[1] = "welcome";
  Start();
  Run();
  const Event* timeout = events_.Find("wait_for_timeout");
  ASSERT_NE(timeout, nullptr);
  const Event* wait = events_.Find("wait_for");
  EXPECT_EQ(timeout->t_us - wait->t_us, 3000 * kMs);  // reply_timeout_ms
  EXPECT_EQ(timeout->detail["waited_ms"], 3000.0);
  EXPECT_GE(*Outcome(1).utterance_start_us, timeout->t_us);  // then the caller went on
  EXPECT_EQ(Outcome(1).heard_text, "welcome");
  EXPECT_EQ(Failures(), 0);
}

TEST_F(CallerTest, BargeInStartsRightAfterThePhraseIsHeard) {
  Turn stop = Say("stop");
  stop.barge_in = BargeIn{0, "three four"};
  scenario_.turns = {Say("count for me"), stop, Act(Action::kHangup)};
  replies_[0] = "one two three four five six seven eight";
  Start();
  Run();
  EXPECT_EQ(Outcome(0).heard_text, "one two three four");  // finalized at the barge-in
  ASSERT_EQ(events_.Count("barge_in_phrase_heard"), 1);
  // "four" ends at its burst's end in the reply; the caller starts within about a frame.
  const int64_t four_end_us = ear_start_us_ + agent_words_[0][3].end_sample * kMs / 16;
  const int64_t start_us = *Outcome(1).utterance_start_us;
  EXPECT_GE(start_us, four_end_us);
  EXPECT_LT(start_us, four_end_us + 60 * kMs);
  EXPECT_TRUE(Outcome(1).barge_in);
}

TEST_F(CallerTest, BargeInPhraseNeverSaidStartsWhenTheReplyEnds) {
  Turn stop = Say("stop");
  stop.barge_in = BargeIn{0, "nine ten"};
  scenario_.turns = {Say("count for me"), stop, Act(Action::kHangup)};
  replies_[0] = "one two three";
  Start();
  Run();
  const Event* missed = events_.Find("barge_in_phrase_not_heard");
  ASSERT_NE(missed, nullptr);
  EXPECT_EQ(missed->detail["why"], "reply ended");
  EXPECT_EQ(Outcome(0).heard_text, "one two three");
  ASSERT_TRUE(Outcome(1).utterance_start_us);
}

TEST_F(CallerTest, AgentRepeatsComparesWithThePreviousReply) {
  scenario_.caller.repeat_phrase = "say that again please";
  Turn repeat = Act(Action::kRepeat);
  repeat.expect = {Expect(Expectation::kAgentRepeats)};
  scenario_.turns = {Say("where is it"), repeat, repeat, Act(Action::kHangup)};
  replies_[0] = "it has shipped and arrives on friday";
  replies_[1] = "it has shipped and arrives on friday";
  replies_[2] = "your order is late";
  Start();
  Run();
  const auto r = Results("agent_repeats");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].passed) << r[0].detail;
  EXPECT_FALSE(r[1].passed);
  EXPECT_EQ(Outcome(1).reference_text, "say that again please");
  EXPECT_EQ(Outcome(1).action, "repeat");
}

TEST_F(CallerTest, CallEndsIsJudgedWhenTheCallEnds) {
  Turn bye = Say("goodbye");
  Expectation says = Expect(Expectation::kAgentSays);
  says.contains = "have a nice day";
  Expectation by_agent = Expect(Expectation::kCallEnds);
  by_agent.ends_by = CallEndedBy::kAgent;
  Expectation by_transfer = by_agent;
  by_transfer.ends_by = CallEndedBy::kTransfer;
  bye.expect = {says, by_agent, by_transfer};
  scenario_.turns = {bye, Act(Action::kHangup)};
  replies_[0] = "goodbye and have a nice day";
  Start();
  // The agent hangs up 2.5 s into its 2.2 s reply: before the caller has heard 600 ms of silence.
  events_.hook = [this](const Event& e) {
    OnCallerEvent(e);
    if (e.kind == "reply_onset") {
      scheduler_.After(2500 * kMs,
                       [this] { caller_->Finish("agent hung up", CallEndedBy::kAgent); });
    }
  };
  Run();
  EXPECT_TRUE(hangup_.empty());  // the caller did not hang up itself
  ASSERT_EQ(Results("agent_says").size(), 1u);
  EXPECT_TRUE(Results("agent_says")[0].passed) << Results("agent_says")[0].detail;
  const auto ends = Results("call_ends");
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_TRUE(ends[0].passed) << ends[0].detail;
  EXPECT_FALSE(ends[1].passed);
  EXPECT_EQ(ends[1].detail, "the call ended by agent (agent hung up), expected by transfer");
}

TEST_F(CallerTest, CallerWaitsForTheAgentToEndThenGoesOn) {
  Turn bye = Say("goodbye");
  Expectation by_agent = Expect(Expectation::kCallEnds);
  by_agent.ends_by = CallEndedBy::kAgent;
  bye.expect = {by_agent};
  scenario_.turns = {bye, Act(Action::kHangup)};
  replies_[0] = "goodbye";
  Start();
  Run();
  const Event* reply_end = events_.Find("reply_end");
  const Event* gave_up = events_.Find("agent_end_timeout");
  ASSERT_NE(reply_end, nullptr);
  ASSERT_NE(gave_up, nullptr);
  EXPECT_EQ(gave_up->t_us - reply_end->t_us, 3000 * kMs);
  EXPECT_EQ(hangup_, "caller hung up");
  const auto ends = Results("call_ends");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_FALSE(ends[0].passed);
  EXPECT_EQ(ends[0].detail, "the call ended by caller (caller hung up), expected by agent");
}

TEST_F(CallerTest, TurnsNotStartedFailWhenTheCallEnds) {
  Turn later = Say("and another thing");
  Expectation says = Expect(Expectation::kAgentSays);
  says.contains = "sure";
  later.expect = {says};
  scenario_.turns = {Say("hello"), later, Act(Action::kHangup)};
  Start();
  scheduler_.At(1000 * kMs, [this] { caller_->Finish("maximum call duration reached"); });
  Run();
  ASSERT_EQ(caller_->expectations().size(), 1u);
  EXPECT_EQ(caller_->expectations()[0].kind, "reply");
  EXPECT_EQ(caller_->expectations()[0].turn_index, 1);
  EXPECT_EQ(caller_->expectations()[0].detail,
            "call ended (maximum call duration reached) before the turn started");
}

TEST_F(CallerTest, PlayFilePlaysTheRecordingAsItsVoice) {
  const std::string path = "/tmp/callsim_caller_play_" + std::to_string(getpid()) + ".wav";
  const std::vector<int16_t> speech = testing::ModemSpeech("i want to check on my order");
  ASSERT_TRUE(testing::WriteSamples(path, speech, 16000));
  Turn play = Act(Action::kPlayFile);
  play.audio_file = path;
  play.audio_transcript = "i want to check on my order";
  scenario_.turns = {play, Act(Action::kHangup)};
  replies_[0] = "okay";
  Start();
  Run();
  std::remove(path.c_str());
  const TurnOutcome& o = Outcome(0);
  EXPECT_TRUE(o.has_user);
  EXPECT_EQ(o.reference_text, "i want to check on my order");
  EXPECT_EQ(*o.utterance_end_us - *o.utterance_start_us,
            static_cast<int64_t>(speech.size()) * kMs / 16);
  EXPECT_EQ(Mouth(*o.utterance_start_us, *o.utterance_end_us), speech);
  EXPECT_EQ(o.heard_text, "okay");
}

TEST_F(CallerTest, SetupErrorsNameWhatFailed) {
  Turn play = Act(Action::kPlayFile);
  play.audio_file = "/nonexistent/hello.wav";
  scenario_.turns = {play, Act(Action::kHangup)};
  Caller missing(scheduler_, scenario_, agent::Rng(1), events_, nullptr);
  EXPECT_EQ(
      missing.setup_error().rfind("turn 0: audio file /nonexistent/hello.wav: cannot open", 0), 0u)
      << missing.setup_error();
  scenario_.turns = {Say("hi")};
  scenario_.caller.noise.type = NoiseType::kBabble;
  scenario_.caller.noise.talkers = 0;
  Caller noisy(scheduler_, scenario_, agent::Rng(1), events_, nullptr);
  EXPECT_EQ(noisy.setup_error().rfind("caller microphone: ", 0), 0u) << noisy.setup_error();
}

TEST_F(CallerTest, LegacyTurnsWithoutAnActionStillSpeakAndHangUp) {
  Turn say;  // as a loader that predates Turn::action fills it
  say.user = "hello there";
  Turn hangup;
  hangup.hangup = true;
  scenario_.turns = {say, hangup};
  replies_[0] = "hi";
  Start();
  Run();
  EXPECT_EQ(Outcome(0).action, "say");
  EXPECT_EQ(Outcome(0).heard_text, "hi");
  EXPECT_EQ(hangup_, "caller hung up");
}

}  // namespace
}  // namespace callsim::harness
