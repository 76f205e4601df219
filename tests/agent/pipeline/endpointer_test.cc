#include "agent/pipeline/endpointer.h"

#include <vector>

#include <gtest/gtest.h>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;

struct Fired {
  int64_t at_us;
  Endpoint endpoint;
};

class EndpointerTest : public ::testing::Test {
 protected:
  EndpointerTest()
      : endpointer_(scheduler_, EndpointerConfig{.vad_stop_ms = 250, .delay_ms = 300, .max_delay_ms = 300, .max_turn_ms = 5000},
                    [this](const Endpoint& e) { fired_.push_back({scheduler_.NowUs(), e}); }) {}

  // Runs the scheduler up to `t_ms`, then calls `f` at that time.
  template <typename F>
  void At(int64_t t_ms, F f) {
    scheduler_.RunUntil(t_ms * kMs);
    f();
  }

  agent::SimScheduler scheduler_;
  std::vector<Fired> fired_;
  Endpointer endpointer_;
};

// Adaptive: a turn that sounds finished ends finished_delay_ms after the VAD stop; one with no
// words yet waits delay_ms; one that stops mid-sentence waits max_delay_ms. The cue is asked
// when each delay passes, so words that arrive in between count.
TEST(AdaptiveEndpointerTest, EachWayATurnSoundsHasItsDelay) {
  struct Case {
    TurnSounds at_finished_delay;
    TurnSounds at_delay;
    int64_t endpoint_ms;
  };
  const Case cases[] = {
      {TurnSounds::kFinished, TurnSounds::kFinished, 1350},      // 1000 + 250 + 100
      {TurnSounds::kUnknown, TurnSounds::kUnknown, 1550},        // 1000 + 250 + 300
      {TurnSounds::kUnknown, TurnSounds::kFinished, 1550},       // words came late: delay_ms
      {TurnSounds::kUnfinished, TurnSounds::kUnfinished, 2750},  // 1000 + 250 + 1500
  };
  for (const Case& c : cases) {
    SimScheduler scheduler;
    std::vector<int64_t> fired;
    Endpointer endpointer(scheduler,
                          EndpointerConfig{.vad_stop_ms = 250, .delay_ms = 300,
                                           .max_delay_ms = 1500, .max_turn_ms = 30000,
                                           .finished_delay_ms = 100},
                          [&](const Endpoint&) { fired.push_back(scheduler.NowUs()); });
    endpointer.set_sounds([&] {
      return scheduler.NowUs() < 1550 * kMs ? c.at_finished_delay : c.at_delay;
    });
    endpointer.OnSpeechStart(0);
    scheduler.RunUntil(1250 * kMs);
    endpointer.OnSpeechStop(1000 * kMs);
    scheduler.RunUntil(10000 * kMs);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0], c.endpoint_ms * kMs);
  }
}

TEST(AdaptiveEndpointerTest, OffWhenTheFinishedDelayIsNotShorter) {
  SimScheduler scheduler;
  std::vector<int64_t> fired;
  Endpointer endpointer(scheduler,
                        EndpointerConfig{.vad_stop_ms = 250, .delay_ms = 300,
                                         .max_delay_ms = 300, .max_turn_ms = 30000,
                                         .finished_delay_ms = 300},
                        [&](const Endpoint&) { fired.push_back(scheduler.NowUs()); });
  endpointer.set_sounds([] { return TurnSounds::kFinished; });
  endpointer.OnSpeechStart(0);
  scheduler.RunUntil(1250 * kMs);
  endpointer.OnSpeechStop(1000 * kMs);
  scheduler.RunUntil(10000 * kMs);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], 1550 * kMs);
}

TEST_F(EndpointerTest, SilenceEndpointAtStopPlusDelay) {
  At(60, [&] { endpointer_.OnSpeechStart(0); });
  At(1260, [&] { endpointer_.OnSpeechStop(1000 * kMs); });  // the VAD needs 260 ms to decide
  scheduler_.RunUntil(10000 * kMs);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].at_us, 1550 * kMs);  // 1000 + 250 + 300
  EXPECT_EQ(fired_[0].endpoint.reason, EndpointReason::kSilence);
  EXPECT_EQ(fired_[0].endpoint.turn_start_us, 0);
  EXPECT_EQ(fired_[0].endpoint.speech_end_us, 1000 * kMs);
  EXPECT_FALSE(endpointer_.in_turn());
}

TEST_F(EndpointerTest, SpeechResumingBeforeTheEndpointContinuesTheTurn) {
  At(60, [&] { endpointer_.OnSpeechStart(0); });
  At(1260, [&] { endpointer_.OnSpeechStop(1000 * kMs); });
  At(1500, [&] { endpointer_.OnSpeechStart(1440 * kMs); });  // before 1550
  At(2260, [&] { endpointer_.OnSpeechStop(2000 * kMs); });
  scheduler_.RunUntil(10000 * kMs);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].at_us, 2550 * kMs);
  EXPECT_EQ(fired_[0].endpoint.turn_start_us, 0);
}

TEST_F(EndpointerTest, MaxTurnBoundsACallerWhoNeverStops) {
  At(60, [&] { endpointer_.OnSpeechStart(0); });
  scheduler_.RunUntil(20000 * kMs);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].at_us, 5000 * kMs);
  EXPECT_EQ(fired_[0].endpoint.reason, EndpointReason::kMaxTurn);
  EXPECT_EQ(fired_[0].endpoint.speech_end_us, -1);
}

TEST_F(EndpointerTest, ResetCancelsAndStopOutsideATurnIsIgnored) {
  At(0, [&] { endpointer_.OnSpeechStop(0); });
  At(60, [&] { endpointer_.OnSpeechStart(0); });
  At(1260, [&] { endpointer_.OnSpeechStop(1000 * kMs); });
  At(1300, [&] { endpointer_.Reset(); });
  scheduler_.RunUntil(20000 * kMs);
  EXPECT_TRUE(fired_.empty());
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(EndpointerTest, LateStopFiresImmediately) {
  // Frames delivered late (a deep jitter buffer): the deadline has passed, fire now.
  At(60, [&] { endpointer_.OnSpeechStart(0); });
  At(1700, [&] { endpointer_.OnSpeechStop(1000 * kMs); });
  scheduler_.RunUntil(10000 * kMs);
  ASSERT_EQ(fired_.size(), 1u);
  EXPECT_EQ(fired_[0].at_us, 1700 * kMs);
}

}  // namespace
}  // namespace callsim::agent
