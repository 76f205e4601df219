// The tape behind `--record`: frames land at their caller time in their own channel, what
// nothing covered is silence, the length is the call's, and the bound truncates.
#include "harness/caller/audio_tape.h"

#include <gtest/gtest.h>

#include <vector>

namespace callsim::harness {
namespace {

constexpr int64_t kOriginUs = 5'000'000;  // the call started 5 s into the run

agent::Frame Ramp(int16_t base) {
  agent::Frame f;
  for (int i = 0; i < agent::kFrameSamples; ++i) f.samples[i] = static_cast<int16_t>(base + i);
  return f;
}

std::vector<int16_t> ReadAll(const AudioTape& tape) {
  std::vector<int16_t> out(static_cast<size_t>(tape.length_samples() * AudioTape::kChannels));
  tape.Read(0, tape.length_samples(), out.data());
  return out;
}

TEST(AudioTapeTest, SampleIndexIsCallerTimeTimesTheRate) {
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs), 0);
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs + 20'000), 320);
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs + 1'000'000), 16000);
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs + 62), 0) << "a sample lasts 62.5 us";
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs + 63), 1);
  EXPECT_EQ(TapeSampleIndex(kOriginUs, kOriginUs - 1), -1) << "floor, not toward zero";
}

TEST(AudioTapeTest, MicIsLeftEarIsRightAtTheirOwnTimes) {
  AudioTape tape(kOriginUs, 16000 * 60);
  tape.Mic(Ramp(1000), kOriginUs + 40'000);  // samples 640..959, left
  tape.Ear(Ramp(-2000), kOriginUs + 60'000);  // samples 960..1279, right
  tape.Close(kOriginUs + 100'000);
  ASSERT_EQ(tape.length_samples(), 1600);
  const std::vector<int16_t> v = ReadAll(tape);
  EXPECT_EQ(v[2 * 639], 0);
  EXPECT_EQ(v[2 * 640], 1000);
  EXPECT_EQ(v[2 * 640 + 1], 0) << "the ear heard nothing then";
  EXPECT_EQ(v[2 * 959], 1000 + 319);
  EXPECT_EQ(v[2 * 960], 0) << "the microphone frame ended";
  EXPECT_EQ(v[2 * 960 + 1], -2000);
  EXPECT_EQ(v[2 * 1279 + 1], -2000 + 319);
  EXPECT_EQ(v[2 * 1280 + 1], 0);
  EXPECT_EQ(v[2 * 1599 + 1], 0);
}

TEST(AudioTapeTest, AFrameAcrossASecondBoundaryIsWholeAndUnwrittenSecondsHoldNothing) {
  AudioTape tape(kOriginUs, 16000 * 60);
  tape.Ear(Ramp(7), kOriginUs + 990'000);  // samples 15840..16159: two chunks
  tape.Mic(Ramp(9), kOriginUs + 5'000'000);
  tape.Close(kOriginUs + 6'000'000);
  EXPECT_EQ(tape.bytes_held(), 3 * 16000 * 2 * 2) << "seconds 0, 1 and 5; 2 to 4 are silence";
  const std::vector<int16_t> v = ReadAll(tape);
  EXPECT_EQ(v[2 * 15999 + 1], 7 + 159);
  EXPECT_EQ(v[2 * 16000 + 1], 7 + 160);
  EXPECT_EQ(v[2 * 16159 + 1], 7 + 319);
  EXPECT_EQ(v[2 * 40000], 0);
  EXPECT_EQ(v[2 * 80000], 9);
}

TEST(AudioTapeTest, LengthIsTheCallsAndLaterFramesAreIgnored) {
  AudioTape tape(kOriginUs, 16000 * 60);
  tape.Mic(Ramp(1), kOriginUs);
  tape.Close(kOriginUs + 2'500'000);
  EXPECT_EQ(tape.length_samples(), 40000) << "2.5 s at 16 kHz, although only 20 ms was written";
  EXPECT_FALSE(tape.truncated());
  tape.Mic(Ramp(1), kOriginUs + 3'000'000);
  EXPECT_EQ(tape.length_samples(), 40000);
  EXPECT_EQ(tape.bytes_held(), 16000 * 2 * 2);
}

TEST(AudioTapeTest, TheBoundStopsTheTapeAndSaysSo) {
  AudioTape tape(kOriginUs, 500);  // 31.25 ms
  tape.Mic(Ramp(100), kOriginUs);
  EXPECT_FALSE(tape.truncated());
  tape.Mic(Ramp(100), kOriginUs + 20'000);  // samples 320..639: only 320..499 fit
  EXPECT_TRUE(tape.truncated());
  EXPECT_EQ(tape.length_samples(), 500);
  tape.Ear(Ramp(5), kOriginUs);  // after the bound nothing more is recorded
  tape.Close(kOriginUs + 10'000'000);
  EXPECT_EQ(tape.length_samples(), 500);
  const std::vector<int16_t> v = ReadAll(tape);
  EXPECT_EQ(v[2 * 499], 100 + 179);
  EXPECT_EQ(v[1], 0);
}

TEST(AudioTapeTest, ACallLongerThanTheBoundIsTruncatedAtClose) {
  AudioTape tape(kOriginUs, 16000);
  tape.Close(kOriginUs + 1'000'063);
  EXPECT_TRUE(tape.truncated());
  EXPECT_EQ(tape.length_samples(), 16000);
}

TEST(AudioTapeTest, FramesBeforeTheOriginKeepOnlyTheirTail) {
  AudioTape tape(kOriginUs, 16000);
  tape.Ear(Ramp(0), kOriginUs - 10'000);  // samples -160..159
  tape.Close(kOriginUs + 20'000);
  const std::vector<int16_t> v = ReadAll(tape);
  EXPECT_EQ(v[1], 160);
  EXPECT_EQ(v[2 * 159 + 1], 319);
  EXPECT_EQ(v[2 * 160 + 1], 0);
}

TEST(AudioTapeTest, NothingIsAllocatedUntilAFrameArrives) {
  AudioTape tape(kOriginUs, 16000 * 600);
  EXPECT_EQ(tape.bytes_held(), 0);
  tape.Close(kOriginUs + 30'000'000);
  EXPECT_EQ(tape.bytes_held(), 0);
  EXPECT_EQ(tape.length_samples(), 480000);
}

}  // namespace
}  // namespace callsim::harness
