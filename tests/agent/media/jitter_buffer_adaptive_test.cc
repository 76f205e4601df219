// The adaptive mode of the jitter buffer: its target delay follows the arrival jitter within
// bounds, rising at once and falling slowly, and playout follows the target.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "agent/media/jitter_buffer.h"
#include "agent/runtime/rng.h"

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;
constexpr uint32_t kStep = 320;  // L16: 20 ms at 16 kHz

JitterBufferConfig Adaptive(int min_ms = 20, int max_ms = 400) {
  return {.target_delay_ms = 40,
          .max_packets = 50,
          .adaptive = true,
          .min_delay_ms = min_ms,
          .max_delay_ms = max_ms,
          .shrink_interval_ms = 500};
}

struct Tick {
  int64_t t_us;
  double target_ms;
  bool concealed;
  int value;  // samples[0]: 100 * (k + 1) for frame k
};

class AdaptiveJitterBufferTest : public testing::Test {
 protected:
  RtpPacket MakePacket(int index) {
    Frame frame;
    frame.samples.fill(static_cast<int16_t>(100 * (index + 1)));
    RtpPacket p;
    p.payload_type = 96;
    p.sequence = static_cast<uint16_t>(index);
    p.timestamp = 7000 + static_cast<uint32_t>(index) * kStep;
    encoder_->Encode(frame, &p.payload);
    return p;
  }

  // Frame k is sent at 20k ms and arrives `delay_ms(k)` later. Pulls every 20 ms from t = 0
  // through `until_ms`, inserting what has arrived first. Returns one Tick per frame out.
  std::vector<Tick> Run(JitterBuffer& jb, int frames, const std::function<double(int)>& delay_ms,
                        int until_ms) {
    std::vector<std::pair<int64_t, int>> arrivals;
    for (int k = 0; k < frames; ++k) {
      arrivals.emplace_back(static_cast<int64_t>((20 * k + delay_ms(k)) * kMs), k);
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Tick> ticks;
    size_t next = 0;
    for (int64_t t = 0; t <= until_ms * kMs; t += 20 * kMs) {
      for (; next < arrivals.size() && arrivals[next].first <= t; ++next) {
        jb.Insert(MakePacket(arrivals[next].second), arrivals[next].first);
      }
      Frame out;
      if (jb.Pull(t, &out)) {
        ticks.push_back({t, jb.stats().target_delay_ms, out.concealed, out.samples[0]});
      }
    }
    return ticks;
  }

  std::unique_ptr<Codec> encoder_ = MakeCodec(CodecKind::kL16);
  std::unique_ptr<Codec> decoder_ = MakeCodec(CodecKind::kL16);
};

// Every packet takes 10 ms. Playout starts at the first tick 40 ms after the first arrival (60 ms)
// with frames waiting 50 ms. The jitter asks for nothing, so the target falls to the 20 ms minimum
// after one shrink interval (at 560 ms); the frame then due (25) is 50 ms past its arrival, 30 ms
// over the target, so it is dropped, and from frame 26 on frames wait 30 ms.
TEST_F(AdaptiveJitterBufferTest, WithoutJitterTheTargetSettlesAtTheMinimum) {
  JitterBuffer jb(*decoder_, Adaptive());
  const auto ticks = Run(jb, 200, [](int) { return 10.0; }, 3000);
  ASSERT_EQ(ticks.size(), 148u);  // 60, 80, ..., 3000 ms
  EXPECT_EQ(ticks.front().t_us, 60 * kMs);
  for (size_t i = 0; i < ticks.size(); ++i) {
    const int frame = i < 25 ? static_cast<int>(i) : static_cast<int>(i) + 1;
    EXPECT_EQ(ticks[i].value, 100 * (frame + 1)) << i;
    EXPECT_FALSE(ticks[i].concealed) << i;
    EXPECT_EQ(ticks[i].target_ms, ticks[i].t_us < 560 * kMs ? 40.0 : 20.0) << i;
  }
  const JitterBufferStats& s = jb.stats();
  EXPECT_EQ(s.played, 148u);
  EXPECT_EQ(s.concealed, 0u);
  EXPECT_EQ(s.concealed_share, 0.0);
  EXPECT_EQ(s.delay_shrink_frames, 1u);
  EXPECT_EQ(s.delay_grow_frames, 0u);
  EXPECT_EQ(s.late_dropped, 0u);
  EXPECT_DOUBLE_EQ(s.mean_buffer_delay_ms, (25 * 50.0 + 123 * 30.0) / 148);
  EXPECT_EQ(s.max_buffer_delay_ms, 50.0);
  EXPECT_EQ(s.interarrival_jitter_ms, 0.0);
}

// Transit 10 ms plus uniform 0-150 ms jitter for 12 s. The target climbs to about the 95th
// percentile of the jitter (measured 141 ms) and almost nothing comes late (measured 3 late
// packets, 7 concealed frames of 600, 4 of them inserted to grow the delay); a fixed 40 ms
// buffer loses 252 packets.
TEST_F(AdaptiveJitterBufferTest, HeavyJitterRaisesTheTargetAndAvoidsLateDrops) {
  Rng rng(11);
  std::vector<double> delay_ms;
  for (int k = 0; k < 600; ++k) delay_ms.push_back(10 + rng.Uniform(0, 150));
  auto delay = [&](int k) { return delay_ms[k]; };
  JitterBuffer jb(*decoder_, Adaptive());
  const auto ticks = Run(jb, 600, delay, 12000);
  for (const Tick& tick : ticks) {
    EXPECT_GE(tick.target_ms, 20.0);
    EXPECT_LE(tick.target_ms, 400.0);
  }
  const JitterBufferStats& s = jb.stats();
  EXPECT_GT(s.target_delay_ms, 120.0);
  EXPECT_LT(s.target_delay_ms, 150.0);
  EXPECT_LE(s.late_dropped, 6u);
  EXPECT_LT(s.concealed_share, 0.03);
  EXPECT_GT(s.interarrival_jitter_ms, 40.0);  // RFC 3550: E|X - Y| = 50 ms for U(0, 150)
  EXPECT_LT(s.interarrival_jitter_ms, 60.0);

  JitterBuffer fixed(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  Run(fixed, 600, delay, 12000);
  EXPECT_GT(fixed.stats().late_dropped, 200u);
  EXPECT_EQ(fixed.stats().target_delay_ms, 40.0);
}

TEST_F(AdaptiveJitterBufferTest, TargetIsClampedToItsBounds) {
  Rng rng(3);
  std::vector<double> wild_ms;  // up to 2 s of jitter: far more than any bound
  for (int k = 0; k < 300; ++k) wild_ms.push_back(10 + rng.Uniform(0, 2000));
  {
    JitterBuffer jb(*decoder_, Adaptive(20, 400));
    for (const Tick& tick : Run(jb, 300, [&](int k) { return wild_ms[k]; }, 8000)) {
      EXPECT_LE(tick.target_ms, 400.0);
    }
    EXPECT_EQ(jb.stats().target_delay_ms, 400.0);
  }
  {
    // 50 packets cover 49 frames of delay: a larger max_delay_ms is held to 980 ms.
    JitterBuffer jb(*decoder_, Adaptive(20, 5000));
    for (const Tick& tick : Run(jb, 300, [&](int k) { return wild_ms[k]; }, 8000)) {
      EXPECT_LE(tick.target_ms, 980.0);
    }
    EXPECT_EQ(jb.stats().target_delay_ms, 980.0);
  }
  {
    JitterBuffer jb(*decoder_, Adaptive(60, 400));  // the starting 40 ms is raised to 60
    const auto ticks = Run(jb, 100, [](int) { return 10.0; }, 2000);
    for (const Tick& tick : ticks) EXPECT_EQ(tick.target_ms, 60.0);
    EXPECT_EQ(ticks.front().t_us, 80 * kMs);  // 10 ms + 60 ms, on the next tick
  }
}

// 3 s of 0-150 ms jitter, then none. The target reaches 100 ms within half a second of the
// start; after the jitter it comes down by at most one frame (20 ms) per 500 ms (measured: from
// 3.34 s, reaching the 20 ms minimum at 7.34 s).
TEST_F(AdaptiveJitterBufferTest, TargetRisesAtOnceAndFallsOneFramePerInterval) {
  Rng rng(5);
  std::vector<double> delay_ms;
  for (int k = 0; k < 750; ++k) delay_ms.push_back(10 + (k < 150 ? rng.Uniform(0, 150) : 0));
  JitterBuffer jb(*decoder_, Adaptive());
  const auto ticks = Run(jb, 750, [&](int k) { return delay_ms[k]; }, 15000);
  const auto at = [&](int64_t t_ms) {
    return std::find_if(ticks.begin(), ticks.end(), [&](const Tick& t) { return t.t_us >= t_ms * kMs; })
        ->target_ms;
  };
  EXPECT_GE(at(500), 100.0);
  EXPECT_GE(at(4000), 100.0);  // still high: the window remembers the jitter for 2.56 s
  int64_t last_fall_us = 0;
  for (size_t i = 1; i < ticks.size(); ++i) {
    if (ticks[i].t_us < 3000 * kMs || ticks[i].target_ms >= ticks[i - 1].target_ms) continue;
    EXPECT_LE(ticks[i - 1].target_ms - ticks[i].target_ms, 20.0 + 1e-9) << ticks[i].t_us;
    EXPECT_GE(ticks[i].t_us - last_fall_us, 500 * kMs) << ticks[i].t_us;
    last_fall_us = ticks[i].t_us;
  }
  EXPECT_EQ(at(9000), 20.0);
  EXPECT_EQ(ticks.back().target_ms, 20.0);
}

// A route change: from frame 100 on every packet takes 90 ms instead of 10. The target is held in
// transit time, so it moves once:
// - frames 100-107 arrive after their slots (played at 20k + 40 ms) and are dropped as late;
// - at 2.2 s six slow packets (5% of the window) make the target 80 ms: three frames are inserted
//   (2.2, 2.22, 2.24 s) and frame 108 plays at 2.26 s, from then on 10 ms after arrival;
// - at 4.64 s the fast packets have left the window: the fastest path is now 90 ms, the target
//   reads 20 ms (the minimum above it), and one more frame is inserted to keep that margin.
TEST_F(AdaptiveJitterBufferTest, RouteChangeMovesTheTargetOnce) {
  JitterBuffer jb(*decoder_, Adaptive());
  const auto ticks = Run(jb, 400, [](int k) { return k < 100 ? 10.0 : 90.0; }, 7000);
  const auto tick_at = [&](int64_t t_ms) {
    return *std::find_if(ticks.begin(), ticks.end(), [&](const Tick& t) { return t.t_us == t_ms * kMs; });
  };
  EXPECT_EQ(tick_at(2180).target_ms, 20.0);
  EXPECT_EQ(tick_at(2200).target_ms, 80.0);
  EXPECT_EQ(tick_at(4620).target_ms, 80.0);
  EXPECT_EQ(tick_at(4640).target_ms, 20.0);
  EXPECT_EQ(tick_at(2260).value, 100 * 109);  // frame 108
  EXPECT_FALSE(tick_at(2260).concealed);
  const JitterBufferStats& s = jb.stats();
  EXPECT_EQ(s.late_dropped, 8u);
  EXPECT_EQ(s.delay_grow_frames, 4u);
  EXPECT_EQ(s.concealed, 12u);  // the 8 late frames and the 4 inserted
  EXPECT_EQ(s.delay_shrink_frames, 1u);  // at 560 ms, as without jitter
}

}  // namespace
}  // namespace callsim::agent
