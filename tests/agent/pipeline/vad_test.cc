#include "agent/pipeline/vad.h"

#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "tests/agent/pipeline/pipeline_fakes.h"

namespace callsim::agent {
namespace {

using pipeline_test::AddNoise;
using pipeline_test::kMs;
using pipeline_test::ToneFrame;

struct Seen {
  VadEventKind kind;
  int64_t time_us;      // the event's audio time
  int64_t decided_us;   // start of the frame that completed it
};

// Runs `duration_ms` of frames; `make(t_ms)` builds the frame starting at t_ms.
std::vector<Seen> RunFrames(Vad& vad, int64_t duration_ms, const std::function<Frame(int64_t)>& make) {
  std::vector<Seen> seen;
  for (int64_t t_ms = 0; t_ms < duration_ms; t_ms += kFrameMs) {
    const VadEvent e = vad.Process(make(t_ms), t_ms * kMs);
    if (e.kind != VadEventKind::kNone) seen.push_back({e.kind, e.time_us, t_ms * kMs});
  }
  return seen;
}

bool In(int64_t t, int64_t from, int64_t to) { return t >= from && t < to; }

TEST(FrameLevelTest, ToneAndSilenceLevels) {
  EXPECT_NEAR(FrameLevelDbfs(ToneFrame(-20)), -20.0, 0.05);
  EXPECT_NEAR(FrameLevelDbfs(ToneFrame(-45)), -45.0, 0.1);
  EXPECT_EQ(FrameLevelDbfs(Frame{}), kSilenceDbfs);
}

TEST(VadTest, HysteresisTimesAreExact) {
  // 300 ms silence, 300 ms tone, 100 ms gap (shorter than stop_ms: no stop), 200 ms tone,
  // 1000 ms silence, then a 40 ms blip (shorter than start_ms: no start).
  Vad vad;  // start 60 ms (3 frames), stop 250 ms (13 frames)
  const auto seen = RunFrames(vad, 2500, [](int64_t t) {
    const bool on = In(t, 300, 600) || In(t, 700, 900) || In(t, 1900, 1940);
    return on ? ToneFrame(-20) : Frame{};
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, VadEventKind::kStart);
  EXPECT_EQ(seen[0].time_us, 300 * kMs);     // first voiced frame
  EXPECT_EQ(seen[0].decided_us, 340 * kMs);  // after its third voiced frame
  EXPECT_EQ(seen[1].kind, VadEventKind::kStop);
  EXPECT_EQ(seen[1].time_us, 900 * kMs);        // end of the last voiced frame
  EXPECT_EQ(seen[1].decided_us, 1140 * kMs);    // the 13th unvoiced frame: 900..1160 ms
  EXPECT_FALSE(vad.speaking());
}

TEST(VadTest, ConfigurableHysteresis) {
  VadConfig config;
  config.start_ms = 100;  // 5 frames
  config.stop_ms = 100;   // 5 frames
  Vad vad(config);
  const auto seen = RunFrames(vad, 1500, [](int64_t t) {
    // Voiced 80 ms only (no start), then a 400 ms tone with a 60 ms gap, then silence.
    const bool on = In(t, 300, 380) || In(t, 500, 700) || In(t, 760, 960);
    return on ? ToneFrame(-30) : Frame{};
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].time_us, 500 * kMs);
  EXPECT_EQ(seen[0].decided_us, 580 * kMs);
  EXPECT_EQ(seen[1].time_us, 960 * kMs);
  EXPECT_EQ(seen[1].decided_us, 1040 * kMs);
}

TEST(VadTest, QuietToneBelowThresholdIsNotSpeech) {
  Vad vad;
  const auto seen = RunFrames(vad, 2000, [](int64_t t) {
    return In(t, 400, 1400) ? ToneFrame(-47) : Frame{};
  });
  EXPECT_TRUE(seen.empty());
}

TEST(VadTest, SpeechOverLowNoiseGivesOneStartAndStop) {
  Rng rng(7);
  Vad vad;
  const auto seen = RunFrames(vad, 4000, [&rng](int64_t t) {
    Frame f = In(t, 1000, 2000) ? ToneFrame(-20) : Frame{};
    AddNoise(&f, -55, rng);
    return f;
  });
  ASSERT_EQ(seen.size(), 2u) << "seed 7";
  EXPECT_EQ(seen[0].kind, VadEventKind::kStart);
  EXPECT_EQ(seen[0].time_us, 1000 * kMs);
  EXPECT_EQ(seen[1].kind, VadEventKind::kStop);
  EXPECT_EQ(seen[1].time_us, 2000 * kMs);
}

TEST(VadTest, SteadyNoiseTenDbBelowSpeechIsNotSpeech) {
  // Noise at -30 dBFS, above the -45 threshold, from the first frame; speech at -20 dBFS.
  Rng rng(11);
  Vad vad;
  const auto seen = RunFrames(vad, 6000, [&rng](int64_t t) {
    Frame f = (In(t, 2000, 3000) || In(t, 4000, 4800)) ? ToneFrame(-20) : Frame{};
    AddNoise(&f, -30, rng);
    return f;
  });
  ASSERT_EQ(seen.size(), 4u) << "seed 11";
  EXPECT_EQ(seen[0].time_us, 2000 * kMs);
  EXPECT_EQ(seen[1].time_us, 3000 * kMs);
  EXPECT_EQ(seen[2].time_us, 4000 * kMs);
  EXPECT_EQ(seen[3].time_us, 4800 * kMs);
  EXPECT_NEAR(vad.noise_floor_dbfs(), -30.0, 1.5);
}

TEST(VadTest, NoiseAppearingMidCallIsAbsorbedWithinSeconds) {
  // Steady -30 dBFS noise switched on at 2 s after digital silence reads as speech at first;
  // the slow rise on voiced frames (time constant about 10 s) absorbs it: from the clamped floor
  // (-51) to within 6 dB of the noise takes about 12.5 s. One start, one stop, nothing after.
  Rng rng(5);
  Vad vad;
  const auto seen = RunFrames(vad, 30000, [&rng](int64_t t) {
    Frame f;
    if (t >= 2000) AddNoise(&f, -30, rng);
    return f;
  });
  ASSERT_EQ(seen.size(), 2u) << "seed 5";
  EXPECT_EQ(seen[0].time_us, 2000 * kMs);
  EXPECT_GT(seen[1].decided_us, 12000 * kMs);
  EXPECT_LT(seen[1].decided_us, 16000 * kMs);
}

TEST(VadTest, ReportsLevelAndVoicing) {
  Vad vad;
  for (int i = 0; i < 20; ++i) vad.Process(Frame{}, i * kFrameUs);
  vad.Process(ToneFrame(-20), 20 * kFrameUs);
  EXPECT_NEAR(vad.last_level_dbfs(), -20.0, 0.05);
  EXPECT_TRUE(vad.last_frame_voiced());
  EXPECT_FALSE(vad.speaking());
}

}  // namespace
}  // namespace callsim::agent
