// The reference agent beyond speech: DTMF keys as user messages, the call-control tools
// (end_call, transfer_call) and replaying the last message when the caller asks for a repeat.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/pipeline/pipeline_fakes.h"

namespace callsim::agent {
namespace {

using pipeline_test::EventRecorder;
using pipeline_test::FakeLlm;
using pipeline_test::FakeStt;
using pipeline_test::FakeTts;
using pipeline_test::IsSilent;
using pipeline_test::kMs;
using pipeline_test::LlmScript;
using pipeline_test::RecordedEvent;
using pipeline_test::ToneFrame;

using Path = std::vector<std::string>;

// One agent on a SimScheduler with the greeting "Hi." (25 frames from 100 ms: heard 100-600 ms).
// Every 20 ms the caller frame [t-20, t) goes in (a tone inside `caller_`, else silence) and the
// agent's output frame comes out.
class VoiceAgentCallsTest : public ::testing::Test {
 protected:
  struct Speech {
    int64_t from_us;
    int64_t to_us;
  };

  VoiceAgentCallsTest() : stt_(scheduler_), llm_(scheduler_), tts_(scheduler_) {}

  void Build(AgentConfig config = {}) {
    config.greeting = "Hi.";
    agent_ = std::make_unique<VoiceAgent>(scheduler_, config, stt_, llm_, tts_, events_);
    agent_->set_on_call_end([this](const std::string& how) { call_ends_.push_back(how); });
    agent_->Start();
    ScheduleTick(kFrameUs);
  }
  void ScheduleTick(int64_t t_us) {
    scheduler_.At(t_us, [this, t_us] {
      agent_->OnCallerFrame(CallerFrame(t_us - kFrameUs), t_us - kFrameUs);
      Frame out;
      agent_->NextOutputFrame(&out);
      if (!IsSilent(out)) last_audio_us_ = t_us;
      ScheduleTick(t_us + kFrameUs);
    });
  }
  Frame CallerFrame(int64_t start_us) const {
    for (const Speech& s : caller_) {
      if (start_us >= s.from_us && start_us < s.to_us) return ToneFrame(-20);
    }
    return Frame{};
  }
  void Press(int64_t at_ms, char key) {
    scheduler_.At(at_ms * kMs, [this, at_ms, key] { agent_->OnDtmf(key, at_ms * kMs); });
  }
  int64_t RunToSpeechStart(int n) {
    while (events_.Find("speech_start", n) == nullptr && scheduler_.NowUs() < 60000 * kMs) {
      scheduler_.RunOne();
    }
    const RecordedEvent* e = events_.Find("speech_start", n);
    return e ? e->t_us : -1;
  }
  const RecordedEvent& Event(std::string_view kind, int n = 0) const {
    const RecordedEvent* e = events_.Find(kind, n);
    EXPECT_NE(e, nullptr) << kind;
    static const RecordedEvent kMissing{-1, "", nlohmann::json::object()};
    return e ? *e : kMissing;
  }
  Path StatesAfterGreeting() const {
    Path path = events_.StatePath();
    EXPECT_GE(path.size(), 2u);
    return path.size() < 2 ? path : Path(path.begin() + 2, path.end());
  }
  const std::string& LastUserMessage(size_t request) const {
    return llm_.requests.at(request).messages.back().content;
  }

  agent::SimScheduler scheduler_;
  EventRecorder events_;
  FakeStt stt_;
  FakeLlm llm_;
  FakeTts tts_;
  std::unique_ptr<VoiceAgent> agent_;
  std::vector<Speech> caller_;
  std::vector<std::string> call_ends_;
  int64_t last_audio_us_ = -1;
};

TEST_F(VoiceAgentCallsTest, DtmfKeysBecomeAUserMessageAfterTheTimeout) {
  llm_.scripts = {LlmScript{{{100, "You entered one two three four."}}, 150}};
  Build();
  Press(1000, '1');
  Press(1200, '2');
  Press(1400, '3');
  Press(1600, '4');
  scheduler_.RunUntil(5000 * kMs);

  EXPECT_EQ(events_.Count("dtmf"), 4);
  EXPECT_EQ(Event("dtmf", 2).detail["key"], "3");
  const RecordedEvent& input = Event("dtmf_input");
  EXPECT_EQ(input.t_us, 3600 * kMs);  // 2 s after the last key
  EXPECT_EQ(input.detail["text"], "DTMF: 1234");
  EXPECT_EQ(input.detail["reason"], "timeout");
  ASSERT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(llm_.request_times_us[0], 3600 * kMs);
  EXPECT_EQ(LastUserMessage(0), "DTMF: 1234");
  EXPECT_EQ(StatesAfterGreeting(), (Path{"thinking", "speaking", "listening"}));
  // The turn is timed from the last key, like speech from its last voiced frame.
  EXPECT_DOUBLE_EQ(Event("turn_spans").detail["endpointing_ms"].get<double>(), 2000);
  EXPECT_EQ(agent_->history().back().content, "You entered one two three four.");
}

TEST_F(VoiceAgentCallsTest, HashEndsTheKeysAtOnceAndIsNotPartOfThem) {
  llm_.scripts = {LlmScript{{{100, "Okay."}}, 150}};
  Build();
  Press(1000, '5');
  Press(1100, '#');
  Press(3000, '#');  // alone
  scheduler_.RunUntil(6000 * kMs);
  ASSERT_EQ(events_.Count("dtmf_input"), 2);
  EXPECT_EQ(Event("dtmf_input", 0).t_us, 1100 * kMs);
  EXPECT_EQ(Event("dtmf_input", 0).detail["text"], "DTMF: 5");
  EXPECT_EQ(Event("dtmf_input", 0).detail["reason"], "terminator");
  EXPECT_EQ(Event("dtmf_input", 1).detail["text"], "DTMF: #");
  ASSERT_EQ(llm_.requests.size(), 2u);
  EXPECT_EQ(LastUserMessage(0), "DTMF: 5");
  EXPECT_EQ(LastUserMessage(1), "DTMF: #");
}

TEST_F(VoiceAgentCallsTest, KeysBeyondTheBoundAreDropped) {
  llm_.scripts = {LlmScript{{{100, "Okay."}}, 150}};
  AgentConfig config;
  config.max_dtmf_keys = 2;
  Build(config);
  for (int i = 0; i < 4; ++i) Press(1000 + 100 * i, static_cast<char>('1' + i));
  Press(1400, '#');
  scheduler_.RunUntil(3000 * kMs);
  EXPECT_EQ(events_.Count("dtmf_dropped"), 2);
  EXPECT_EQ(Event("dtmf_input").detail["text"], "DTMF: 12");
}

TEST_F(VoiceAgentCallsTest, DtmfInterruptsTheReplyInProgress) {
  stt_.finals = {"what are my options"};
  llm_.scripts = {LlmScript{{{100, "Press one for sales. Press two for support."}}, 150},
                  LlmScript{{{100, "Sales it is."}}, 150}};
  tts_.frames_per_request = 50;
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  const int64_t reply_us = RunToSpeechStart(1);
  ASSERT_GT(reply_us, 0);
  Press(reply_us / kMs + 300, '1');
  Press(reply_us / kMs + 400, '#');
  scheduler_.RunUntil(reply_us + 3000 * kMs);
  EXPECT_EQ(Event("reply_cancelled").detail["reason"], "dtmf");
  ASSERT_EQ(llm_.requests.size(), 2u);
  EXPECT_EQ(LastUserMessage(1), "DTMF: 1");
  EXPECT_EQ(agent_->history().back().content, "Sales it is.");
}

TEST_F(VoiceAgentCallsTest, EndCallToolHangsUpAfterTheReplyHasPlayed) {
  stt_.finals = {"that's all, bye"};
  llm_.scripts = {
      LlmScript{{{100, "Goodbye."}}, 150, -1, {ToolCallRequest{"c1", "end_call", "{}"}}}};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  scheduler_.RunUntil(6000 * kMs);

  ASSERT_EQ(call_ends_, (std::vector<std::string>{"agent"}));
  const RecordedEvent& hangup = Event("agent_hangup");
  EXPECT_EQ(Event("tool_call_proposed").detail["name"], "end_call");
  EXPECT_GT(hangup.t_us, Event("speech_end", 1).t_us - 1);     // after the goodbye ended
  EXPECT_GE(hangup.t_us, last_audio_us_);                      // nothing plays after it
  EXPECT_EQ(Event("speech_end", 1).detail["played_ms"], 500);  // the whole goodbye
  EXPECT_EQ(agent_->state(), AgentState::kEnded);
  EXPECT_EQ(events_.StatePath().back(), "ended");
  EXPECT_EQ(agent_->history().back().content, "Goodbye.");
  // An ended agent answers nothing more.
  caller_.push_back({6000 * kMs, 6500 * kMs});
  scheduler_.RunUntil(9000 * kMs);
  EXPECT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(call_ends_.size(), 1u);
}

// A tool the model asks for while its answer is held (preemptive generation) waits for the
// endpoint: nothing runs on words the caller may still add to.
TEST_F(VoiceAgentCallsTest, ToolCallOfAHeldAnswerWaitsForTheEndpoint) {
  stt_.interims = {{1560, "that's all, bye."}};
  stt_.finals = {"that's all, bye."};
  llm_.scripts = {
      LlmScript{{{100, "Goodbye."}}, 150, -1, {ToolCallRequest{"c1", "end_call", "{}"}}}};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  scheduler_.RunUntil(6000 * kMs);

  EXPECT_EQ(Event("preemptive_start").t_us, 1560 * kMs);
  EXPECT_EQ(llm_.request_times_us.at(0), 1560 * kMs);  // the model proposed end_call at 1.66 s
  EXPECT_EQ(Event("endpoint").t_us, 2050 * kMs);      // 1500 + 250 + 300
  EXPECT_EQ(Event("tool_call_proposed").t_us, 2050 * kMs);
  EXPECT_EQ(Event("preemptive_used").t_us, 2050 * kMs);
  ASSERT_EQ(call_ends_, (std::vector<std::string>{"agent"}));  // after the goodbye, as without
  EXPECT_EQ(Event("speech_end", 1).detail["played_ms"], 500);
}

TEST_F(VoiceAgentCallsTest, TransferToolEndsWithItsTarget) {
  stt_.finals = {"billing please"};
  llm_.scripts = {LlmScript{{{100, "Transferring you now."}},
                            150,
                            -1,
                            {ToolCallRequest{"c1", "transfer_call", R"({"target":"billing"})"}}}};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  scheduler_.RunUntil(6000 * kMs);
  ASSERT_EQ(call_ends_, (std::vector<std::string>{"transfer"}));
  EXPECT_EQ(Event("transfer").detail["target"], "billing");
  EXPECT_EQ(events_.Count("agent_hangup"), 0);
  EXPECT_EQ(agent_->state(), AgentState::kEnded);
}

TEST_F(VoiceAgentCallsTest, TransferWithMalformedArgumentsHasNoTarget) {
  stt_.finals = {"billing please"};
  llm_.scripts = {
      LlmScript{{}, 150, -1, {ToolCallRequest{"c1", "transfer_call", R"({"target": 4)"}}}};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  scheduler_.RunUntil(6000 * kMs);
  ASSERT_EQ(call_ends_, (std::vector<std::string>{"transfer"}));  // a tool-only reply ends too
  EXPECT_EQ(Event("transfer").detail["target"], "");
}

TEST_F(VoiceAgentCallsTest, BargeInOverTheGoodbyeKeepsTheCallGoing) {
  stt_.finals = {"bye", "wait, one more thing"};
  llm_.scripts = {
      LlmScript{
          {{100, "Goodbye. Have a nice day."}}, 150, -1, {ToolCallRequest{"c1", "end_call", "{}"}}},
      LlmScript{{{100, "Sure."}}, 150}};
  tts_.frames_per_request = 50;
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  const int64_t reply_us = RunToSpeechStart(1);
  ASSERT_GT(reply_us, 0);
  caller_.push_back({reply_us + 300 * kMs, reply_us + 1000 * kMs});
  scheduler_.RunUntil(reply_us + 5000 * kMs);
  EXPECT_EQ(events_.Count("barge_in"), 1);
  EXPECT_TRUE(call_ends_.empty());
  EXPECT_EQ(events_.Count("agent_hangup"), 0);
  EXPECT_NE(agent_->state(), AgentState::kEnded);
  EXPECT_EQ(agent_->history().back().content, "Sure.");
}

TEST_F(VoiceAgentCallsTest, RepeatRequestReplaysTheLastMessageWithoutTheLlm) {
  stt_.finals = {"where is my order", "sorry, could you say that again?"};
  llm_.scripts = {LlmScript{{{100, "It has shipped. It arrives Friday."}}, 150}};
  caller_ = {{1000 * kMs, 1500 * kMs}, {5000 * kMs, 5500 * kMs}};
  Build();
  scheduler_.RunUntil(9000 * kMs);

  ASSERT_EQ(llm_.requests.size(), 1u);
  const RecordedEvent& repeat = Event("repeat");
  EXPECT_EQ(repeat.t_us, (5500 + 550 + 150) * kMs);  // at the final of the second turn
  EXPECT_EQ(repeat.detail["text"], "It has shipped. It arrives Friday.");
  EXPECT_EQ(tts_.texts, (std::vector<std::string>{"Hi.", "It has shipped.", "It arrives Friday.",
                                                  "It has shipped.", "It arrives Friday."}));
  EXPECT_EQ(events_.Count("speech_end"), 3);
  const auto& history = agent_->history();
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[3].content, "sorry, could you say that again?");
  EXPECT_EQ(history[4].content, "It has shipped. It arrives Friday.");
  // The replay is timed as an answer, with no LLM in it.
  const auto& spans = Event("turn_spans", 1).detail;
  EXPECT_TRUE(spans["llm_ttft_ms"].is_null());
  EXPECT_DOUBLE_EQ(spans["endpointing_ms"].get<double>(), 550);
}

TEST_F(VoiceAgentCallsTest, RepeatBeforeAnyAnswerReplaysTheGreeting) {
  stt_.finals = {"pardon?"};
  llm_.scripts = {LlmScript{{{100, "Unused."}}, 150}};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  scheduler_.RunUntil(4000 * kMs);
  EXPECT_TRUE(llm_.requests.empty());
  EXPECT_EQ(Event("repeat").detail["text"], "Hi.");
}

}  // namespace
}  // namespace callsim::agent
