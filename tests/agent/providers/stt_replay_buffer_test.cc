#include "agent/providers/stt_replay_buffer.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/agent/providers/scripted_providers.h"

namespace callsim::agent::provider_test {
namespace {

// The replay as text: frame numbers, and "F" for each Finalize.
std::string Played(const SttReplayBuffer& buffer) {
  std::string out;
  buffer.Replay(
      [&out](const Frame& f) {
        out += std::to_string(f.samples[0]) + " ";
        return true;
      },
      [&out] {
        out += "F ";
        return true;
      });
  return out;
}

TEST(SttReplayBufferTest, ReplaysFramesAndFinalizesInOrder) {
  SttReplayBuffer b(100);
  for (int k = 1; k <= 3; ++k) b.PushFrame(NumberedFrame(k));
  EXPECT_TRUE(b.MarkFinalize());
  b.PushFrame(NumberedFrame(4));
  EXPECT_TRUE(b.MarkFinalize());
  EXPECT_TRUE(b.MarkFinalize());  // two Finalizes in a row
  EXPECT_EQ(Played(b), "1 2 3 F 4 F F ");
  EXPECT_EQ(b.pending_finals(), 3u);
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(Played(b), "4 F F ");
  EXPECT_TRUE(b.OnFinal());
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(Played(b), "");
  EXPECT_FALSE(b.OnFinal());  // nothing pending: ignored
  EXPECT_EQ(b.held_frames(), 0u);
}

// Silence before the caller speaks is not copied (nothing a recognizer would hear); once speech
// is held, silence after it is kept in its place.
TEST(SttReplayBufferTest, LeadingDigitalSilenceIsNotKept) {
  SttReplayBuffer b(100);
  const Frame silence{};
  for (int k = 0; k < 50; ++k) b.PushFrame(silence);
  EXPECT_EQ(b.held_frames(), 0u);
  EXPECT_EQ(b.dropped_frames(), 0u);
  EXPECT_EQ(b.allocated_frames(), 0u);
  b.PushFrame(NumberedFrame(7));
  b.PushFrame(silence);
  b.PushFrame(NumberedFrame(8));
  EXPECT_TRUE(b.MarkFinalize());
  EXPECT_EQ(Played(b), "7 0 8 F ");
  EXPECT_TRUE(b.OnFinal());
  b.PushFrame(silence);  // nothing held again: skipped
  EXPECT_EQ(b.held_frames(), 0u);
  EXPECT_EQ(b.dropped_frames(), 0u);
}

// While the caller listens the line is digital silence: once every Finalize is answered, silence
// after the last speech goes and the ring's memory with it; while a Finalize is still pending,
// or speech follows the silence, it is kept in its place.
TEST(SttReplayBufferTest, SilenceLeftAfterTheLastFinalIsLetGoWithTheMemory) {
  SttReplayBuffer b(100);
  const Frame silence{};
  b.PushFrame(NumberedFrame(1));
  EXPECT_TRUE(b.MarkFinalize());
  for (int k = 0; k < 30; ++k) b.PushFrame(silence);  // waiting for the final
  EXPECT_EQ(b.held_frames(), 31u);
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(b.held_frames(), 0u);
  EXPECT_EQ(b.allocated_frames(), 0u);
  EXPECT_EQ(b.dropped_frames(), 0u);
  for (int k = 0; k < 30; ++k) b.PushFrame(silence);  // the caller listens: nothing is kept
  EXPECT_EQ(b.allocated_frames(), 0u);

  // Two turns in flight: the second Finalize still waits, so its silence stays.
  b.PushFrame(NumberedFrame(2));
  EXPECT_TRUE(b.MarkFinalize());
  b.PushFrame(silence);
  b.PushFrame(NumberedFrame(3));
  EXPECT_TRUE(b.MarkFinalize());
  b.PushFrame(silence);
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(Played(b), "0 3 F 0 ");
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(b.held_frames(), 0u);
  EXPECT_EQ(b.allocated_frames(), 0u);

  // Speech after the answered Finalize is held, and the silence before it too.
  b.PushFrame(NumberedFrame(4));
  EXPECT_TRUE(b.MarkFinalize());
  b.PushFrame(silence);
  b.PushFrame(NumberedFrame(5));
  EXPECT_TRUE(b.OnFinal());
  EXPECT_EQ(Played(b), "0 5 ");
}

TEST(SttReplayBufferTest, DropsTheOldestAtTheBoundAndCountsThem) {
  SttReplayBuffer b(4);
  for (int k = 1; k <= 10; ++k) b.PushFrame(NumberedFrame(k));
  EXPECT_EQ(Played(b), "7 8 9 10 ");
  EXPECT_EQ(b.dropped_frames(), 6u);
  // 15 s of audio: the memory stops at the bound (no doubling past it).
  SttReplayBuffer big(750);
  for (int k = 0; k < 2000; ++k) big.PushFrame(NumberedFrame(k));
  EXPECT_EQ(big.held_frames(), 750u);
  EXPECT_EQ(big.allocated_frames(), 750u);
  // A Finalize whose frames were all dropped is still replayed, first.
  SttReplayBuffer c(2);
  c.PushFrame(NumberedFrame(1));
  c.MarkFinalize();
  for (int k = 2; k <= 5; ++k) c.PushFrame(NumberedFrame(k));
  EXPECT_EQ(Played(c), "F 4 5 ");
  // Its final makes the frames before it irrelevant: only 2 and 3 count as lost now.
  c.OnFinal();
  EXPECT_EQ(c.dropped_frames(), 2u);
  EXPECT_EQ(Played(c), "4 5 ");
}

TEST(SttReplayBufferTest, RingKeepsOrderAcrossTrimsGrowthAndWraps) {
  SttReplayBuffer b(6);
  int next = 1;
  int oldest_needed = 1;
  // Trims (finals) and pushes interleave so that the ring wraps and grows from a non-zero head.
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 1 + round % 4; ++i) b.PushFrame(NumberedFrame(next++));
    if (round % 3 == 2) {
      b.MarkFinalize();
      b.OnFinal();
      oldest_needed = next;
    }
    std::string want;
    for (int k = std::max(oldest_needed, next - 6); k < next; ++k) want += std::to_string(k) + " ";
    ASSERT_EQ(Played(b), want) << "round " << round;
  }
}

TEST(SttReplayBufferTest, StopsWhenTheSessionGoesAway) {
  SttReplayBuffer b(10);
  for (int k = 1; k <= 5; ++k) b.PushFrame(NumberedFrame(k));
  int pushed = 0;
  b.Replay([&pushed](const Frame&) { return ++pushed < 2; }, [] { return true; });
  EXPECT_EQ(pushed, 2);
}

TEST(SttReplayBufferTest, ZeroCapacityKeepsOnlyTheFinalizes) {
  SttReplayBuffer b(0);
  b.PushFrame(NumberedFrame(1));
  b.MarkFinalize();
  b.PushFrame(NumberedFrame(2));
  EXPECT_EQ(Played(b), "F ");
  EXPECT_EQ(b.dropped_frames(), 2u);
}

TEST(SttReplayBufferTest, PendingFinalizesAreBounded) {
  SttReplayBuffer b(10);
  for (size_t i = 0; i < kMaxPendingFinals; ++i) ASSERT_TRUE(b.MarkFinalize());
  EXPECT_FALSE(b.MarkFinalize());
  EXPECT_EQ(b.pending_finals(), kMaxPendingFinals);
}

}  // namespace
}  // namespace callsim::agent::provider_test
