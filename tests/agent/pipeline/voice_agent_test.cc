#include "agent/pipeline/voice_agent.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

// Drives one agent on a SimScheduler: every 20 ms (t = 20, 40, ... ms) the caller frame
// [t-20, t) goes in, then the agent's output frame for [t, t+20) comes out and is recorded.
class VoiceAgentTest : public ::testing::Test {
 protected:
  struct Played {
    int64_t t_us;
    int16_t marker;  // 1000 + TTS request index, 0 when silent
    bool silent;
  };
  struct Speech {
    int64_t from_us;
    int64_t to_us;
  };

  VoiceAgentTest() : stt_(scheduler_), llm_(scheduler_), tts_(scheduler_) {}

  void Build(AgentConfig config = {}) {
    agent_ = std::make_unique<VoiceAgent>(scheduler_, config, stt_, llm_, tts_, events_);
  }

  // Starts the call at t = 0 and runs the frame loop until `end_ms`.
  void StartAndRun(int64_t end_ms) {
    agent_->Start();
    ScheduleTick(kFrameUs);
    scheduler_.RunUntil(end_ms * kMs);
  }
  void RunUntilMs(int64_t end_ms) { scheduler_.RunUntil(end_ms * kMs); }
  // Runs until the n-th "speech_start" event (0-based), at most 60 s; returns its time.
  int64_t RunToSpeechStart(int n) {
    while (events_.Find("speech_start", n) == nullptr && scheduler_.NowUs() < 60000 * kMs) {
      scheduler_.RunOne();
    }
    const RecordedEvent* e = events_.Find("speech_start", n);
    return e ? e->t_us : -1;
  }

  // The frame loop reschedules itself forever; RunUntil bounds it.
  void ScheduleTick(int64_t t_us) {
    scheduler_.At(t_us, [this, t_us] {
      agent_->OnCallerFrame(CallerFrame(t_us - kFrameUs), t_us - kFrameUs);
      Frame out;
      agent_->NextOutputFrame(&out);
      const bool silent = IsSilent(out);
      played_.push_back({t_us, silent ? int16_t{0} : out.samples[0], silent});
      ScheduleTick(t_us + kFrameUs);
    });
  }
  Frame CallerFrame(int64_t start_us) const {
    for (const Speech& s : caller_) {
      if (start_us >= s.from_us && start_us < s.to_us) return ToneFrame(-20);
    }
    return Frame{};
  }

  int CountPlayed(int16_t marker) const {
    int n = 0;
    for (const Played& p : played_) n += p.marker == marker;
    return n;
  }
  int64_t FirstPlayed(int16_t marker) const {
    for (const Played& p : played_) {
      if (p.marker == marker) return p.t_us;
    }
    return -1;
  }
  int64_t LastPlayed(int16_t marker) const {
    int64_t last = -1;
    for (const Played& p : played_) {
      if (p.marker == marker) last = p.t_us;
    }
    return last;
  }
  // States entered after the greeting finished (the greeting is listening->speaking->listening).
  Path StatesAfterGreeting() const {
    Path path = events_.StatePath();
    EXPECT_GE(path.size(), 2u);
    EXPECT_EQ(path[0], "speaking");
    EXPECT_EQ(path[1], "listening");
    return Path(path.begin() + 2, path.end());
  }
  const RecordedEvent& Event(std::string_view kind, int n = 0) const {
    const RecordedEvent* e = events_.Find(kind, n);
    EXPECT_NE(e, nullptr) << kind;
    static const RecordedEvent kMissing{-1, "", nullptr};
    return e ? *e : kMissing;
  }

  agent::SimScheduler scheduler_;
  EventRecorder events_;
  FakeStt stt_;
  FakeLlm llm_;
  FakeTts tts_;
  std::unique_ptr<VoiceAgent> agent_;
  std::vector<Speech> caller_;
  std::vector<Played> played_;
};

TEST_F(VoiceAgentTest, FullTurn) {
  stt_.finals = {"what is my order status"};
  llm_.scripts = {LlmScript{{{200, "Your order"}, {300, " has shipped. It"}, {600, " will arrive"},
                             {800, " tomorrow."}},
                            850}};
  // Requests 0 and 1: the greeting's two sentences. 2 and 3: the answer. The second answer
  // sentence is synthesized fast, while the first is still playing: it must wait its turn.
  tts_.delays_ms = {100, 100, 200, 50};
  tts_.frames = {25, 25, 40, 20};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  Build();
  StartAndRun(7000);

  // Greeting: both sentences, in order, from the first frame after their audio arrived.
  EXPECT_EQ(tts_.texts[0], "Hello, thanks for calling.");
  EXPECT_EQ(tts_.texts[1], "How can I help you today?");
  EXPECT_EQ(FirstPlayed(1000), 100 * kMs);
  EXPECT_EQ(FirstPlayed(1001), 600 * kMs);
  EXPECT_EQ(Event("speech_end", 0).t_us, 1100 * kMs);

  EXPECT_EQ(Event("vad_start").detail["audio_us"], 2000 * kMs);
  EXPECT_EQ(Event("vad_stop").detail["audio_us"], 3000 * kMs);
  EXPECT_EQ(Event("endpoint").t_us, 3550 * kMs);  // tone end + stop_ms 250 + delay 300
  EXPECT_EQ(Event("stt_final").t_us, 3700 * kMs);
  ASSERT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(llm_.request_times_us[0], 3700 * kMs);  // right after the final

  // The first sentence goes to TTS before the LLM's last token.
  ASSERT_EQ(tts_.texts.size(), 4u);
  EXPECT_EQ(tts_.texts[2], "Your order has shipped.");
  EXPECT_EQ(tts_.texts[3], "It will arrive tomorrow.");
  EXPECT_EQ(tts_.request_times_us[2], 4000 * kMs);
  EXPECT_LT(tts_.request_times_us[2], llm_.token_times_us.back());

  // Reply audio in sentence order, without a gap: 40 frames of sentence 2, then 20 of sentence 3.
  EXPECT_EQ(CountPlayed(1002), 40);
  EXPECT_EQ(CountPlayed(1003), 20);
  EXPECT_EQ(FirstPlayed(1002), 4200 * kMs);
  EXPECT_EQ(LastPlayed(1002), 4980 * kMs);
  EXPECT_EQ(FirstPlayed(1003), 5000 * kMs);
  EXPECT_EQ(Event("speech_start", 1).t_us, 4200 * kMs);
  EXPECT_EQ(Event("speech_end", 1).t_us, 5400 * kMs);

  EXPECT_EQ(StatesAfterGreeting(),
            (Path{"user_speaking", "thinking", "speaking", "listening"}));
  EXPECT_EQ(agent_->state(), AgentState::kListening);

  const auto& history = agent_->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].role, "assistant");
  EXPECT_EQ(history[0].content, "Hello, thanks for calling. How can I help you today?");
  EXPECT_EQ(history[1].role, "user");
  EXPECT_EQ(history[1].content, "what is my order status");
  EXPECT_EQ(history[2].role, "assistant");
  EXPECT_EQ(history[2].content, "Your order has shipped. It will arrive tomorrow.");

  const auto& request = llm_.requests[0].messages;
  ASSERT_EQ(request.size(), 3u);
  EXPECT_EQ(request[0].role, "system");
  EXPECT_EQ(request[0].content, "You are a helpful support agent.");
  EXPECT_EQ(request[2].content, "what is my order status");

  const auto& spans = Event("turn_spans").detail;
  EXPECT_EQ(Event("turn_spans").t_us, 4200 * kMs);
  EXPECT_DOUBLE_EQ(spans["endpointing_ms"].get<double>(), 550);
  EXPECT_DOUBLE_EQ(spans["stt_final_ms"].get<double>(), 150);
  EXPECT_DOUBLE_EQ(spans["llm_ttft_ms"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(spans["first_sentence_ms"].get<double>(), 300);
  EXPECT_DOUBLE_EQ(spans["tts_ttfb_ms"].get<double>(), 200);
  EXPECT_DOUBLE_EQ(spans["response_ms"].get<double>(), 1200);
  // Every caller frame went to STT, including those while the agent spoke.
  EXPECT_EQ(stt_.frames_pushed, 350);
}

// Greeting "Hi." (request 0), then a caller question at 1-2 s answered by a three-sentence reply
// whose TTS streams in real time (one frame per 20 ms).
class BargeInTest : public VoiceAgentTest {
 protected:
  void SetUp() override {
    stt_.finals = {"where is my order", "cancel it"};
    llm_.scripts = {
        LlmScript{{{100, "First sentence here. "}, {150, "Second one. "}, {1500, "Third one is"},
                   {2500, " long."}},
                  2600},
        LlmScript{{{100, "Okay, cancelled."}}, 150}};
    tts_.frames = {10};
    tts_.frames_per_request = 50;  // 1 s per sentence
    tts_.frame_interval_ms = 20;
    caller_ = {{1000 * kMs, 2000 * kMs}};
    AgentConfig config;
    config.greeting = "Hi.";
    Build(config);
    StartAndRun(0);
  }
};

TEST_F(BargeInTest, CallerSpeechStopsTheReplyAndCutsTheHistory) {
  const int64_t reply_start_us = RunToSpeechStart(1);
  ASSERT_EQ(reply_start_us, 2900 * kMs);  // endpoint 2550, final 2700, token 2800, TTS 2900
  const int64_t speech_us = reply_start_us + 500 * kMs;
  caller_.push_back({speech_us, speech_us + 1000 * kMs});
  RunUntilMs(4000);

  ASSERT_EQ(events_.Count("barge_in"), 1);
  const RecordedEvent& barge = Event("barge_in");
  EXPECT_EQ(barge.t_us, speech_us + 200 * kMs);  // exactly barge_in_min_ms of voiced audio
  EXPECT_EQ(barge.detail["played_ms"], 700);
  EXPECT_EQ(barge.detail["heard_text"], "First sentence here.");

  // Output: reply audio up to the barge-in, silence from the very next frame (bound: min + 40).
  int64_t last_audio_us = -1;
  int64_t first_silence_us = -1;
  for (const Played& p : played_) {
    if (p.t_us < speech_us) continue;
    if (!p.silent) last_audio_us = p.t_us;
    if (p.silent && first_silence_us < 0) first_silence_us = p.t_us;
  }
  EXPECT_LE(first_silence_us - speech_us, 200 * kMs + 40 * kMs);
  EXPECT_LT(last_audio_us, first_silence_us);  // nothing plays after the stop
  EXPECT_EQ(CountPlayed(1002), 0);             // the queued second sentence was discarded

  EXPECT_EQ(llm_.cancelled_active, 1);  // the LLM was still streaming
  EXPECT_EQ(tts_.cancelled_active, 2);  // both sentences were still being synthesized
  EXPECT_EQ(agent_->state(), AgentState::kUserSpeaking);
  ASSERT_EQ(agent_->history().size(), 3u);
  EXPECT_EQ(agent_->history().back().role, "assistant");
  EXPECT_EQ(agent_->history().back().content, "First sentence here.");

  // The new words are endpointed and answered as usual, with what the caller heard in context.
  RunUntilMs(7000);
  ASSERT_EQ(llm_.requests.size(), 2u);
  const auto& messages = llm_.requests[1].messages;
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[3].content, "First sentence here.");
  EXPECT_EQ(messages[4].content, "cancel it");
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "speaking", "user_speaking",
                                        "thinking", "speaking", "listening"}));
  EXPECT_EQ(agent_->history().back().content, "Okay, cancelled.");
  if (::testing::Test::HasFailure() || getenv("PIPELINE_DUMP")) {
    for (const RecordedEvent& e : events_.events) {
      std::printf("%8.1f %-20s %s\n", e.t_us / 1000.0, e.kind.c_str(), e.detail.dump().c_str());
    }
  }
}

TEST_F(BargeInTest, ShortNoiseBlipDoesNotInterrupt) {
  const int64_t reply_start_us = RunToSpeechStart(1);
  ASSERT_EQ(reply_start_us, 2900 * kMs);
  caller_.push_back({reply_start_us + 500 * kMs, reply_start_us + 600 * kMs});  // 100 ms
  RunUntilMs(8000);

  EXPECT_EQ(events_.Count("barge_in"), 0);
  EXPECT_EQ(events_.Count("barge_in_ignored"), 1);
  EXPECT_EQ(CountPlayed(1001), 50);
  EXPECT_EQ(CountPlayed(1002), 50);
  EXPECT_EQ(CountPlayed(1003), 50);
  EXPECT_EQ(llm_.cancelled_active, 0);
  EXPECT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(agent_->history().back().content,
            "First sentence here. Second one. Third one is long.");
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "speaking", "listening"}));
}

TEST_F(VoiceAgentTest, LlmErrorIsAnsweredWithAnApology) {
  stt_.finals = {"hello"};
  LlmScript failing;
  failing.tokens = {{100, "Let me"}};
  failing.error_ms = 200;
  llm_.scripts = {failing};
  tts_.frames = {10};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  StartAndRun(4000);

  const RecordedEvent& error = Event("provider_error");
  EXPECT_EQ(error.detail["stage"], "llm");
  EXPECT_EQ(error.detail["error"], "llm overloaded");
  EXPECT_EQ(error.t_us, (1500 + 550 + 150 + 200) * kMs);
  ASSERT_EQ(tts_.texts.size(), 3u);
  EXPECT_EQ(tts_.texts[2], "Sorry, I'm having trouble right now.");
  EXPECT_EQ(CountPlayed(1002), 25);
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "speaking", "listening"}));
  EXPECT_EQ(agent_->history().back().content, "Sorry, I'm having trouble right now.");
}

TEST_F(VoiceAgentTest, TtsErrorGoesBackToListeningWithoutApology) {
  stt_.finals = {"hello"};
  llm_.scripts = {LlmScript{{{100, "Sure thing."}}, 150}};
  tts_.fail = true;
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  StartAndRun(4000);

  EXPECT_EQ(events_.Count("provider_error"), 2);  // the greeting, then the answer
  EXPECT_EQ(Event("provider_error", 1).detail["stage"], "tts");
  EXPECT_EQ(tts_.texts, (std::vector<std::string>{"Hello, thanks for calling.",
                                                  "How can I help you today?", "Sure thing."}));
  EXPECT_EQ(events_.StatePath(), (Path{"user_speaking", "thinking", "listening"}));
  EXPECT_EQ(Event("state", 2).detail["reason"], "tts_error");
  for (const Played& p : played_) EXPECT_TRUE(p.silent);
}

TEST_F(VoiceAgentTest, SilentLlmTimesOutIntoAnApology) {
  stt_.finals = {"hello"};
  llm_.scripts = {LlmScript{}};  // never answers
  tts_.frames = {10};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  AgentConfig config;
  config.provider_timeout_ms = 2000;
  Build(config);
  StartAndRun(6000);

  const RecordedEvent& error = Event("provider_error");
  EXPECT_EQ(error.detail["stage"], "llm");
  EXPECT_EQ(error.detail["error"], "timeout");
  EXPECT_EQ(error.t_us, llm_.request_times_us[0] + 2000 * kMs);
  EXPECT_EQ(llm_.cancelled_active, 1);
  EXPECT_EQ(tts_.texts.back(), "Sorry, I'm having trouble right now.");
  EXPECT_EQ(agent_->state(), AgentState::kListening);
}

TEST_F(VoiceAgentTest, SttErrorReopensTheSessionAndApologises) {
  stt_.fail_on_finalize = true;
  tts_.frames = {10};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  StartAndRun(4000);

  EXPECT_EQ(Event("provider_error").detail["stage"], "stt");
  EXPECT_EQ(stt_.opens, 2);
  EXPECT_TRUE(llm_.requests.empty());
  EXPECT_EQ(tts_.texts.back(), "Sorry, I'm having trouble right now.");
  EXPECT_EQ(agent_->state(), AgentState::kListening);
}

TEST_F(VoiceAgentTest, EmptyFinalGoesBackToListening) {
  stt_.finals = {""};
  tts_.frames = {10};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  StartAndRun(4000);

  EXPECT_EQ(events_.Count("empty_final"), 1);
  EXPECT_TRUE(llm_.requests.empty());
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "listening"}));
  EXPECT_EQ(agent_->history().size(), 1u);  // just the greeting
}

TEST_F(VoiceAgentTest, CallerResumingWhileThinkingCancelsAndMergesTheTurn) {
  stt_.finals = {"i want to check", "order four five"};
  llm_.scripts = {LlmScript{{{300, "Checking."}}, 350}};
  tts_.frames = {10};
  // Endpoint 1 at 2050, final 1 at 2200 starts the LLM; the caller resumes at 2200 (decided 2260).
  caller_ = {{1000 * kMs, 1500 * kMs}, {2200 * kMs, 2700 * kMs}};
  Build();
  StartAndRun(5000);

  ASSERT_EQ(llm_.requests.size(), 2u);
  EXPECT_EQ(llm_.cancelled_active, 1);
  EXPECT_EQ(Event("state", 4).detail["reason"], "caller_resumed");
  const auto& messages = llm_.requests[1].messages;
  EXPECT_EQ(messages.back().role, "user");
  EXPECT_EQ(messages.back().content, "i want to check order four five");
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "user_speaking", "thinking",
                                        "speaking", "listening"}));
}

TEST_F(VoiceAgentTest, UndeclaredToolIsBlockedAuditedAndRefusedAloud) {
  stt_.finals = {"check order four five six seven"};
  LlmScript script{{{100, "Let me check."}}, 200};
  script.tool_calls = {ToolCallRequest{"call_1", "check_order_status", R"({"order_id":"4567"})"}};
  llm_.scripts = {script};
  tts_.frames = {10};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  Build();
  StartAndRun(4000);

  const RecordedEvent& proposed = Event("tool_call_proposed");
  EXPECT_EQ(proposed.detail["name"], "check_order_status");
  EXPECT_EQ(proposed.detail["arguments"], R"({"order_id":"4567"})");
  const RecordedEvent& audit = Event("tool_audit");
  EXPECT_EQ(audit.detail["decision"], "blocked");
  EXPECT_EQ(audit.detail["reason"], "unknown_tool");
  // The caller hears one refusal; the model sees the call and why it was blocked.
  const std::vector<ChatMessage>& h = agent_->history();
  ASSERT_GE(h.size(), 3u);
  EXPECT_EQ(h[h.size() - 3].content, "Let me check. Sorry, I can't do that.");
  EXPECT_EQ(h[h.size() - 2].tool_name, "check_order_status");
  EXPECT_EQ(h.back().role, "tool");
  EXPECT_EQ(h.back().content, R"({"error":"blocked: unknown_tool"})");
}

TEST_F(VoiceAgentTest, QueuedAudioIsBounded) {
  stt_.finals = {"tell me everything"};
  llm_.scripts = {LlmScript{{{100, "A very long answer."}}, 150}};
  tts_.frames = {10, 100};
  caller_ = {{1000 * kMs, 1500 * kMs}};
  AgentConfig config;
  config.greeting = "Hi.";
  config.max_queued_frames = 30;
  Build(config);
  StartAndRun(6000);

  EXPECT_EQ(events_.Count("tts_audio_dropped"), 1);
  EXPECT_EQ(CountPlayed(1001), 30);
  EXPECT_EQ(Event("speech_end", 1).detail["dropped_frames"], 70);
}

TEST_F(VoiceAgentTest, MaxTurnEndpointsACallerWhoNeverStops) {
  stt_.finals = {"blah"};
  llm_.scripts = {LlmScript{{{100, "Okay."}}, 150}};
  tts_.frames = {10, 10};
  caller_ = {{1000 * kMs, 4000 * kMs}};
  AgentConfig config;
  config.max_turn_ms = 1000;
  Build(config);
  StartAndRun(3000);

  const RecordedEvent& endpoint = Event("endpoint");
  EXPECT_EQ(endpoint.t_us, 2000 * kMs);
  EXPECT_EQ(endpoint.detail["reason"], "max_turn");
  EXPECT_EQ(Event("state", 3).detail["reason"], "max_turn");
}

TEST_F(VoiceAgentTest, HangupEndsEverything) {
  stt_.finals = {"hello"};
  llm_.scripts = {LlmScript{{{100, "One. "}, {2000, "Two."}}, 2100}};
  tts_.frames = {10, 100};
  tts_.frame_interval_ms = 20;
  caller_ = {{1000 * kMs, 1500 * kMs}};
  AgentConfig config;
  config.greeting = "Hi.";
  Build(config);
  StartAndRun(2600);  // the reply is playing
  ASSERT_EQ(agent_->state(), AgentState::kSpeaking);
  agent_->Hangup();
  const int64_t pushed = stt_.frames_pushed;
  const size_t played_before = played_.size();
  RunUntilMs(4000);

  EXPECT_EQ(agent_->state(), AgentState::kEnded);
  EXPECT_EQ(events_.StatePath().back(), "ended");
  EXPECT_EQ(Event("state", 5).detail["reason"], "hangup");
  EXPECT_EQ(llm_.cancelled_active, 1);
  EXPECT_EQ(tts_.cancelled_active, 1);
  EXPECT_EQ(stt_.frames_pushed, pushed);  // caller frames are ignored
  for (size_t i = played_before; i < played_.size(); ++i) EXPECT_TRUE(played_[i].silent);
  EXPECT_EQ(agent_->history().back().content, "One.");  // what the caller heard
}

TEST_F(VoiceAgentTest, MaxCallDurationEndsTheCall) {
  tts_.frames = {10};
  AgentConfig config;
  config.greeting = "Hi.";
  config.max_call_ms = 3000;
  Build(config);
  StartAndRun(4000);

  EXPECT_EQ(Event("max_call_duration").t_us, 3000 * kMs);
  EXPECT_EQ(agent_->state(), AgentState::kEnded);
  EXPECT_EQ(Event("state", 2).detail["reason"], "max_call");
  for (const Played& p : played_) {
    if (p.t_us > 3000 * kMs) {
      EXPECT_TRUE(p.silent);
    }
  }
}

TEST_F(VoiceAgentTest, SameInputsGiveTheSameEventLog) {
  auto run = [] {
    agent::SimScheduler scheduler;
    EventRecorder events;
    FakeStt stt(scheduler);
    FakeLlm llm(scheduler);
    FakeTts tts(scheduler);
    stt.finals = {"hello there"};
    llm.scripts = {LlmScript{{{100, "Hi. "}, {300, "How are you?"}}, 400}};
    VoiceAgent agent(scheduler, AgentConfig{}, stt, llm, tts, events);
    agent.Start();
    for (int64_t t = kFrameUs; t <= 5000 * kMs; t += kFrameUs) {
      scheduler.RunUntil(t);
      const int64_t start = t - kFrameUs;
      agent.OnCallerFrame(start >= 1500 * kMs && start < 2500 * kMs ? ToneFrame(-20) : Frame{},
                          start);
      Frame out;
      agent.NextOutputFrame(&out);
    }
    std::string log;
    for (const RecordedEvent& e : events.events) {
      log += std::to_string(e.t_us) + e.kind + e.detail.dump() + "\n";
    }
    return log;
  };
  const std::string first = run();
  EXPECT_EQ(first, run());
  EXPECT_NE(first.find("speech_end"), std::string::npos);
}

// ---- latency techniques --------------------------------------------------------------------

// The caller speaks 2-3 s; the STT's interim with the turn-yielding period comes at 3.06 s. With
// preemptive generation the STT is finalized and the LLM asked then, the answer's first sentence
// is synthesized before the endpoint, and it plays once the turn ends (3.55 s) on those words.
TEST_F(VoiceAgentTest, PreemptiveAnswerWaitsForTheEndpointThenPlaysAtOnce) {
  stt_.interims = {{3060, "what is my order status."}};
  stt_.finals = {"what is my order status."};
  llm_.scripts = {LlmScript{{{100, "Your order"}, {150, " has shipped."}}, 200}};
  tts_.delays_ms = {100, 100, 100};
  tts_.frames = {25, 25, 20};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  StartAndRun(6000);

  ASSERT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(llm_.request_times_us[0], 3060 * kMs);
  EXPECT_EQ(llm_.requests[0].messages.back().content, "what is my order status.");
  EXPECT_EQ(Event("preemptive_start").t_us, 3060 * kMs);
  EXPECT_EQ(stt_.finalize_calls, 1);  // at the interim; the endpoint needs no final of its own
  // "Your order has shipped." (complete with the model's end, at 3.26 s), while held.
  EXPECT_EQ(tts_.request_times_us[2], 3260 * kMs);
  EXPECT_EQ(Event("endpoint").t_us, 3550 * kMs);
  EXPECT_EQ(Event("preemptive_used").t_us, 3550 * kMs);
  EXPECT_DOUBLE_EQ(Event("preemptive_used").detail["lead_ms"].get<double>(), 490);
  // Nothing before the endpoint; then the held audio from the next frame.
  EXPECT_EQ(FirstPlayed(1002), 3560 * kMs);
  EXPECT_EQ(Event("speech_start", 1).t_us, 3560 * kMs);
  EXPECT_EQ(CountPlayed(1002), 20);
  EXPECT_TRUE(events_.Find("preemptive_wasted", 0) == nullptr);
  EXPECT_EQ(StatesAfterGreeting(), (Path{"user_speaking", "thinking", "speaking", "listening"}));
  ASSERT_EQ(agent_->history().size(), 3u);
  EXPECT_EQ(agent_->history()[1].content, "what is my order status.");
  agent_->Hangup();
  const auto& usage = Event("usage").detail;
  EXPECT_EQ(usage["preemptive_requests"], 1);
  EXPECT_EQ(usage["wasted_llm_requests"], 0);
}

// The caller goes on after the preemptive request: it is thrown away and counted, and the words
// that follow are answered as one message with what came before.
TEST_F(VoiceAgentTest, PreemptiveAnswerIsWastedWhenTheCallerGoesOn) {
  stt_.interims = {{3060, "what is my order."}, {4060, "status."}};
  stt_.finals = {"what is my order.", "status."};
  llm_.scripts = {LlmScript{{{100, "Your"}, {200, " order."}}, 250},
                  LlmScript{{{100, "It shipped."}}, 150}};
  tts_.delays_ms = {100, 100, 100};
  tts_.frames = {25, 25, 20};
  caller_ = {{2000 * kMs, 3000 * kMs}, {3300 * kMs, 4000 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  StartAndRun(7000);

  ASSERT_EQ(llm_.requests.size(), 2u);
  EXPECT_EQ(llm_.request_times_us[1], 4060 * kMs);
  EXPECT_EQ(llm_.requests[1].messages.back().content, "what is my order. status.");
  const RecordedEvent& wasted = Event("preemptive_wasted");
  EXPECT_EQ(wasted.t_us, 3320 * kMs);  // the first voiced frame after the pause, [3.30, 3.32)
  EXPECT_EQ(wasted.detail["reason"], "caller_resumed");
  EXPECT_EQ(wasted.detail["tokens"], 2);     // "Your" and " order." by then
  EXPECT_EQ(wasted.detail["tts_chars"], 11);  // "Your order." went to TTS at the model's end
  EXPECT_EQ(Event("preemptive_used").t_us, 4550 * kMs);
  EXPECT_EQ(tts_.texts.back(), "It shipped.");
  EXPECT_EQ(Event("speech_start", 1).t_us, 4560 * kMs);
  agent_->Hangup();
  const auto& usage = Event("usage").detail;
  EXPECT_EQ(usage["preemptive_requests"], 2);
  EXPECT_EQ(usage["wasted_llm_requests"], 1);
  EXPECT_EQ(usage["wasted_llm_tokens"], 2);
  EXPECT_EQ(usage["wasted_tts_chars"], 11);
}

// A final that differs from the interim the held answer was made for: thrown away at the final,
// and the endpoint asks again with the final's words.
TEST_F(VoiceAgentTest, PreemptiveAnswerIsWastedWhenTheFinalDiffers) {
  stt_.interims = {{3060, "what is my older."}};
  stt_.finals = {"what is my order."};
  llm_.scripts = {LlmScript{{{50, "Older?"}}, 60}, LlmScript{{{100, "Your order."}}, 150}};
  tts_.delays_ms = {100, 100, 100, 100};
  tts_.frames = {25, 25, 20, 20};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  StartAndRun(6000);

  ASSERT_EQ(llm_.requests.size(), 2u);
  EXPECT_EQ(Event("preemptive_wasted").t_us, 3210 * kMs);
  EXPECT_EQ(Event("preemptive_wasted").detail["reason"], "transcript_changed");
  EXPECT_EQ(Event("preemptive_wasted").detail["tts_chars"], 6);  // "Older?" was synthesized
  EXPECT_EQ(llm_.request_times_us[1], 3550 * kMs);  // at the endpoint, with the final's words
  EXPECT_EQ(llm_.requests[1].messages.back().content, "what is my order.");
  EXPECT_EQ(stt_.finalize_calls, 1);
  EXPECT_TRUE(events_.Find("preemptive_used", 0) == nullptr);
  EXPECT_EQ(tts_.texts.back(), "Your order.");
}

// The finished-sounding interim comes while the caller's last word is still being heard: the
// answer starts on the first quiet frame, not at the next interim (there is none) or the endpoint.
TEST_F(VoiceAgentTest, PreemptionWaitsForTheFirstQuietFrameNotTheEndpoint) {
  stt_.interims = {{2990, "what is my order status."}};
  stt_.finals = {"what is my order status."};
  llm_.scripts = {LlmScript{{{100, "Your order has shipped."}}, 150}};
  tts_.delays_ms = {100, 100};
  tts_.frames = {25, 25};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  StartAndRun(6000);

  ASSERT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(Event("preemptive_start").t_us, 3020 * kMs);  // the frame [3.00, 3.02) is quiet
  EXPECT_EQ(llm_.request_times_us[0], 3020 * kMs);
  EXPECT_EQ(stt_.finalize_calls, 1);
  EXPECT_EQ(Event("preemptive_used").t_us, 3550 * kMs);
  EXPECT_EQ(Event("speech_start", 1).t_us, 3560 * kMs);
  agent_->Hangup();
  EXPECT_EQ(Event("usage").detail["wasted_llm_requests"], 0);
}

// Words that do not sound finished (no sentence end; an open last word) start nothing early.
TEST_F(VoiceAgentTest, NoPreemptionBeforeWordsThatSoundFinished) {
  stt_.interims = {{2500, "my order number is"}, {3060, "my order number is four"}};
  stt_.finals = {"my order number is four"};
  llm_.scripts = {LlmScript{{{100, "Thanks."}}, 150}};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  AgentConfig config;
  config.preemptive_generation = true;
  Build(config);
  StartAndRun(6000);
  ASSERT_EQ(llm_.requests.size(), 1u);
  EXPECT_EQ(llm_.request_times_us[0], 3700 * kMs);  // endpoint 3550 + final 150, as without
  EXPECT_TRUE(events_.Find("preemptive_start", 0) == nullptr);
}

// Adaptive endpointing: a punctuated sentence end ends the turn finished_delay_ms after the VAD
// stop; the same words without it wait the usual delay.
class AdaptiveEndpointingTest : public VoiceAgentTest,
                                public ::testing::WithParamInterface<bool> {};

TEST_P(AdaptiveEndpointingTest, FinishedSoundingWordsEndTheTurnSooner) {
  const bool punctuated = GetParam();
  const std::string words = punctuated ? "what is my order status." : "what is my order status";
  stt_.interims = {{2800, words}};
  stt_.finals = {words};
  llm_.scripts = {LlmScript{{{100, "Shipped."}}, 150}};
  caller_ = {{2000 * kMs, 3000 * kMs}};
  AgentConfig config;
  config.endpoint_finished_delay_ms = 50;
  Build(config);
  StartAndRun(6000);
  EXPECT_EQ(Event("endpoint").t_us, (punctuated ? 3300 : 3550) * kMs);
  EXPECT_EQ(llm_.request_times_us.at(0), (punctuated ? 3450 : 3700) * kMs);
}

INSTANTIATE_TEST_SUITE_P(PunctuatedOrNot, AdaptiveEndpointingTest, ::testing::Bool());

}  // namespace
}  // namespace callsim::agent
