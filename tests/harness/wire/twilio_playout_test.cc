#include "harness/wire/twilio_playout.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

std::string Frame(char c) { return std::string(160, c); }

TEST(TwilioPlayout, PlaysAtItsOwnPaceWhateverTheArrivalPace) {
  // The same 5 frames sent at 1x (one per tick) and at 2x (two per tick) are heard at the same
  // ticks: the ear's timing does not depend on how fast the agent sends.
  auto heard_at = [](int frames_per_tick) {
    TwilioPlayout p;
    std::vector<int> ticks_with_audio;
    int sent = 0;
    for (int tick = 0; tick < 10; ++tick) {
      for (int i = 0; i < frames_per_tick && sent < 5; ++i) p.PushAudio(Frame('a' + sent++));
      const PlayoutTick t = p.Tick();
      if (t.audio_bytes > 0) ticks_with_audio.push_back(tick);
    }
    return ticks_with_audio;
  };
  EXPECT_EQ(heard_at(1), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(heard_at(2), heard_at(1));
  EXPECT_EQ(heard_at(5), heard_at(1));
}

TEST(TwilioPlayout, FramesAreExactAndPaddedWithSilence) {
  TwilioPlayout p;
  p.PushAudio(std::string(100, 'x'));
  p.PushAudio(std::string(100, 'y'));
  PlayoutTick t = p.Tick();
  EXPECT_EQ(t.frame, std::string(100, 'x') + std::string(60, 'y'));
  EXPECT_EQ(t.audio_bytes, 160u);
  t = p.Tick();
  EXPECT_EQ(t.frame, std::string(40, 'y') + std::string(120, '\xff'));
  EXPECT_EQ(t.audio_bytes, 40u);
  t = p.Tick();
  EXPECT_EQ(t.audio_bytes, 0u);
  EXPECT_EQ(t.frame, std::string(160, '\xff'));
}

TEST(TwilioPlayout, AMarkComesBackWhenTheAudioBeforeItHasPlayed) {
  TwilioPlayout p;
  p.PushAudio(Frame('a'));
  p.PushAudio(std::string(80, 'b'));
  p.PushMark("reply-1");
  p.PushAudio(Frame('c'));
  p.PushMark("reply-2");
  EXPECT_TRUE(p.Tick().marks.empty());  // 'a'
  const PlayoutTick second = p.Tick();   // 'b' ends inside this frame, then 'c' begins
  EXPECT_EQ(second.marks, std::vector<std::string>{"reply-1"});
  const PlayoutTick third = p.Tick();    // the rest of 'c': its mark comes back with it
  EXPECT_EQ(third.audio_bytes, 80u);
  EXPECT_EQ(third.marks, std::vector<std::string>{"reply-2"});
  EXPECT_TRUE(p.Tick().marks.empty());
  EXPECT_EQ(p.queued_marks(), 0u);
  // With nothing queued before it, a mark comes back on the next tick.
  p.PushMark("now");
  EXPECT_EQ(p.Tick().marks, std::vector<std::string>{"now"});
}

TEST(TwilioPlayout, ClearDropsTheAudioAndReturnsEveryQueuedMark) {
  TwilioPlayout p;
  for (int i = 0; i < 10; ++i) p.PushAudio(Frame('a'));
  p.PushMark("m1");
  p.PushAudio(Frame('b'));
  p.PushMark("m2");
  p.Tick();
  EXPECT_EQ(p.buffered_bytes(), 160u * 10);
  EXPECT_EQ(p.Clear(), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(p.buffered_bytes(), 0u);
  EXPECT_EQ(p.cleared_bytes(), 160u * 10);
  const PlayoutTick t = p.Tick();
  EXPECT_EQ(t.audio_bytes, 0u);
  EXPECT_TRUE(t.marks.empty());
}

TEST(TwilioPlayout, AudioPastTheBoundIsDroppedAndCounted) {
  PlayoutConfig c;
  c.max_buffered_bytes = 300;
  TwilioPlayout p(c);
  p.PushAudio(Frame('a'));
  p.PushAudio(Frame('b'));  // 20 of these bytes fit
  EXPECT_EQ(p.buffered_bytes(), 300u);
  EXPECT_EQ(p.dropped_bytes(), 20u);
  p.Tick();
  p.PushAudio(Frame('c'));  // room for 160 again
  EXPECT_EQ(p.buffered_bytes(), 300u);
  EXPECT_EQ(p.dropped_bytes(), 20u);
}

TEST(TwilioPlayout, MarksPastTheirBoundsAreDroppedAndCounted) {
  PlayoutConfig c;
  c.max_queued_marks = 2;
  c.max_mark_chars = 4;
  TwilioPlayout p(c);
  EXPECT_TRUE(p.PushMark("m1"));
  EXPECT_FALSE(p.PushMark("long-name"));
  EXPECT_TRUE(p.PushMark("m2"));
  EXPECT_FALSE(p.PushMark("m3"));
  EXPECT_EQ(p.dropped_marks(), 2u);
  EXPECT_EQ(p.Tick().marks, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(p.PushMark("m4"));  // room again once they came back
}

}  // namespace
}  // namespace callsim::harness
