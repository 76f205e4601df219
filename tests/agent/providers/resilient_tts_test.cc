#include "agent/providers/resilient_tts.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::agent::provider_test {
namespace {

// Each frame as "<provider id>:<request>:<frame>", from the markers ScriptedTts writes.
struct TtsRecord {
  std::vector<std::string> frames;
  std::vector<std::string> errors;
  int done = 0;
  int64_t first_frame_us = -1;

  TtsListener Listener(agent::SimScheduler& s) {
    TtsListener l;
    l.on_audio = [this, &s](const TtsFrame& frame) {
      Frame f;
      frame.Render(&f);
      if (first_frame_us < 0) first_frame_us = s.NowUs();
      frames.push_back(std::to_string(f.samples[2]) + ":" + std::to_string(f.samples[1]) + ":" +
                       std::to_string(f.samples[0]));
    };
    l.on_done = [this] { ++done; };
    l.on_error = [this](const std::string& e) { errors.push_back(e); };
    return l;
  }
  int callbacks() const { return static_cast<int>(frames.size() + errors.size()) + done; }
};

RetryPolicy Policy(int retries, double backoff_ms, double timeout_ms = 2500) {
  RetryPolicy p;
  p.retries = retries;
  p.backoff_ms = backoff_ms;
  p.first_response_timeout_ms = timeout_ms;
  return p;
}

TEST(ResilientTtsTest, RetryAfterBackoffThenFailoverDeliversOnlyTheGoodAttempt) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedTts primary(s, 1, {FailPlan(50)});
  ScriptedTts secondary(s, 2, {StreamPlan{}});
  ResilientTts tts(s, sink, Policy(1, 200), primary, &secondary);
  TtsRecord rec;
  auto stream = tts.Synthesize("Hello there.", rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 250 * kMs}));
  EXPECT_EQ(secondary.start_us, (std::vector<int64_t>{300 * kMs}));
  EXPECT_EQ(secondary.texts, (std::vector<std::string>{"Hello there."}));
  EXPECT_EQ(rec.frames, (std::vector<std::string>{"2:0:0", "2:0:1", "2:0:2"}));
  EXPECT_EQ(rec.first_frame_us, 400 * kMs);
  EXPECT_EQ(rec.done, 1);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].detail,
            (nlohmann::json{{"stage", "tts"}, {"attempt", 1}, {"error", "boom"}}));
  EXPECT_EQ(sink.events[0].t_us, 50 * kMs);
  EXPECT_EQ(sink.events[1].kind, "provider_failover");
}

TEST(ResilientTtsTest, NoFirstFrameInTimeIsRetriedAtTheTimeout) {
  agent::SimScheduler s;
  RecordingSink sink;
  StreamPlan late;
  late.first_ms = 900;  // would answer, but after the 500 ms timeout
  ScriptedTts primary(s, 1, {late, StreamPlan{}});
  ResilientTts tts(s, sink, Policy(1, 100, 500), primary);
  TtsRecord rec;
  auto stream = tts.Synthesize("Hi.", rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 600 * kMs}));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].t_us, 500 * kMs);
  EXPECT_EQ(sink.events[0].detail["error"], "no first response within 500 ms");
  // The late first attempt was cancelled: its frames (request 0) never show.
  EXPECT_EQ(rec.frames, (std::vector<std::string>{"1:1:0", "1:1:1", "1:1:2"}));
  EXPECT_EQ(rec.done, 1);
}

TEST(ResilientTtsTest, ErrorAfterAudioPassesThrough) {
  agent::SimScheduler s;
  RecordingSink sink;
  StreamPlan plan;
  plan.events = 1;
  plan.error = "socket closed";
  ScriptedTts primary(s, 1, {plan, StreamPlan{}});
  ResilientTts tts(s, sink, Policy(1, 100), primary);
  TtsRecord rec;
  auto stream = tts.Synthesize("Hi.", rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.frames.size(), 1u);
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"socket closed"}));
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(ResilientTtsTest, CancelDuringBackoffMeansNoCallbacks) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedTts primary(s, 1, {FailPlan(50)});
  ScriptedTts secondary(s, 2, {StreamPlan{}});
  ResilientTts tts(s, sink, Policy(1, 200), primary, &secondary);
  TtsRecord rec;
  auto stream = tts.Synthesize("Hi.", rec.Listener(s));
  s.RunUntil(100 * kMs);
  stream.reset();
  s.RunAll();
  EXPECT_EQ(rec.callbacks(), 0);
  EXPECT_EQ(primary.start_us.size(), 1u);
  EXPECT_TRUE(secondary.start_us.empty());
  EXPECT_EQ(s.pending(), 0u);
}

TEST(ResilientTtsTest, GivesUpOnceWhenEverythingFails) {
  agent::SimScheduler s;
  RecordingSink sink;
  ScriptedTts primary(s, 1, {HangPlan()});
  ResilientTts tts(s, sink, Policy(1, 100, 300), primary);
  TtsRecord rec;
  auto stream = tts.Synthesize("Hi.", rec.Listener(s));
  s.RunAll();
  EXPECT_EQ(rec.errors, (std::vector<std::string>{"no first response within 300 ms"}));
  EXPECT_EQ(rec.callbacks(), 1);
  EXPECT_EQ(primary.start_us, (std::vector<int64_t>{0, 400 * kMs}));
  EXPECT_EQ(tts.stats().timeouts, 2u);
  EXPECT_EQ(tts.stats().gave_up, 1u);
  EXPECT_EQ(sink.OfKind("provider_gave_up").at(0).t_us, 700 * kMs);
}

}  // namespace
}  // namespace callsim::agent::provider_test
