#include "fakes/voice/speech_stretcher.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace callsim::fakes {
namespace {

// A frame of a 440 Hz tone at `amplitude` plus white-ish noise of `noise` (a fixed generator).
agent::Frame Frame(double amplitude, int noise, uint32_t* state, int index) {
  agent::Frame f;
  for (int k = 0; k < agent::kFrameSamples; ++k) {
    *state = *state * 1664525u + 1013904223u;
    const int n = noise > 0 ? static_cast<int>((*state >> 8) % (2 * noise + 1)) - noise : 0;
    const double t = (index * agent::kFrameSamples + k) / 16000.0;
    f.samples[k] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * 440 * t)) + n);
  }
  return f;
}

struct Pushed {
  std::vector<size_t> closed_sizes;  // stretch sizes at each close, in samples
  int loud_frames = 0;
};

// `pattern`: per frame, the tone's amplitude (0: noise only).
Pushed PushAll(SpeechStretcher& s, const std::vector<double>& pattern, int noise) {
  Pushed p;
  uint32_t state = 7;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (s.Push(Frame(pattern[i], noise, &state, static_cast<int>(i))) ==
        SpeechStretcher::Step::kClosed) {
      p.closed_sizes.push_back(s.stretch().size());
    }
    p.loud_frames += s.loud();
  }
  return p;
}

// Speech-like: syllables of 8 frames at `amplitude` with 60 ms dips (3 frames at 1/100) between,
// `syllables` of them, ending on a syllable. A steady tone from the first frame would be a hum,
// which the floor rightly follows.
std::vector<double> Pattern(int quiet_before, int syllables, int quiet_after, double amplitude) {
  std::vector<double> p(static_cast<size_t>(quiet_before), 0);
  for (int i = 0; i < syllables; ++i) {
    if (i > 0) p.insert(p.end(), 3, amplitude / 100);
    p.insert(p.end(), 8, amplitude);
  }
  p.insert(p.end(), static_cast<size_t>(quiet_after), 0);
  return p;
}
constexpr size_t Frames(int syllables) { return static_cast<size_t>(syllables * 11 - 3); }

// Out of digital silence, the first syllable has no floor under it until the first dip: the
// stretch opens on the second, and the preroll (8 + 3 frames here) takes the first in.
TEST(SpeechStretcherTest, AStretchRunsFromThePrerollToTheGap) {
  SpeechStretcher s({200, 500, 11, 60});
  const Pushed p = PushAll(s, Pattern(50, 5, 30, 3000), 0);
  ASSERT_EQ(p.closed_sizes.size(), 1u);
  // The syllables and their dips, then 25 quiet frames (500 ms) close it.
  EXPECT_EQ(p.closed_sizes[0], (Frames(5) + 25) * agent::kFrameSamples);
  EXPECT_EQ(p.loud_frames, 4 * 8);
  EXPECT_FALSE(s.open());
}

// Steady noise over the absolute level (a fan, a street) is not speech: with the floor following
// it, the stretch still ends when the tone does, and noise alone opens none.
TEST(SpeechStretcherTest, SteadyNoiseRaisesTheFloor) {
  SpeechStretcher s({200, 500, 5, 60});
  const Pushed noise_only = PushAll(s, Pattern(300, 0, 0, 0), 600);
  EXPECT_TRUE(noise_only.closed_sizes.empty());
  EXPECT_FALSE(s.open());
  EXPECT_GT(s.floor_db(), 40);  // 600-step noise: about 51 dB over one step squared

  SpeechStretcher t({200, 500, 5, 60});
  const Pushed p = PushAll(t, Pattern(150, 5, 60, 8000), 600);  // the tone ~20 dB over the noise
  // Over noise the floor is known: every syllable is loud, the stretch takes 5 frames before.
  ASSERT_EQ(p.closed_sizes.size(), 1u);
  EXPECT_EQ(p.closed_sizes[0], (5 + Frames(5) + 25) * agent::kFrameSamples);
  EXPECT_EQ(p.loud_frames, 5 * 8);
}

// Digital silence (an echo guard muting the line) leaves the floor alone: the noise after it is
// still noise.
TEST(SpeechStretcherTest, DigitalSilenceDoesNotLowerTheFloor) {
  SpeechStretcher s({200, 500, 5, 60});
  uint32_t state = 7;
  for (int i = 0; i < 150; ++i) s.Push(Frame(0, 600, &state, i));
  const double floor = s.floor_db();
  for (int i = 0; i < 200; ++i) s.Push(agent::Frame{});  // 4 s of zeros
  EXPECT_EQ(s.floor_db(), floor);
  for (int i = 0; i < 50; ++i) {
    s.Push(Frame(0, 600, &state, i));
    EXPECT_FALSE(s.loud()) << "frame " << i << " of noise after the silence";
  }
}

TEST(SpeechStretcherTest, CloseAndTheLengthBound) {
  SpeechStretcher s({200, 500, 5, 1});  // at most one second
  const Pushed p = PushAll(s, Pattern(10, 11, 0, 3000), 0);  // 118 frames of speech
  ASSERT_EQ(p.closed_sizes.size(), 2u);
  EXPECT_EQ(p.closed_sizes[0], 16000u);  // 50 frames each
  EXPECT_EQ(p.closed_sizes[1], 16000u);
  EXPECT_TRUE(s.open());
  EXPECT_TRUE(s.Close());  // the rest of the speech, less what the first stretch's start skipped
  EXPECT_GT(s.stretch().size(), 0u);
  EXPECT_LE(s.stretch().size(), (Frames(11) - 100) * agent::kFrameSamples);
  EXPECT_FALSE(s.Close());
}

}  // namespace
}  // namespace callsim::fakes
