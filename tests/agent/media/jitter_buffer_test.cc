#include "agent/media/jitter_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace callsim::agent {
namespace {

constexpr int64_t kMs = 1000;
constexpr uint32_t kStep = 320;  // L16: 20 ms at 16 kHz

struct Arrival {
  int index;  // frame number k: sequence base + k, timestamp base + k * step, samples = 100 * (k +
              // 1)
  int64_t arrival_us;
};

struct Pulled {
  int64_t t_us;
  bool concealed;
  int value;  // samples[0]
};

class JitterBufferTest : public testing::Test {
 protected:
  RtpPacket MakePacket(int index) {
    Frame frame;
    frame.samples.fill(static_cast<int16_t>(100 * (index + 1)));
    RtpPacket p;
    p.payload_type = 96;
    p.sequence = static_cast<uint16_t>(sequence_base_ + index);
    p.timestamp = timestamp_base_ + static_cast<uint32_t>(index) * kStep;
    encoder_->Encode(frame, &p.payload);
    return p;
  }

  // Sends frame k at k * 20 ms; it arrives `delay_ms` later unless `arrivals` say otherwise.
  static std::vector<Arrival> Steady(int frames, int delay_ms) {
    std::vector<Arrival> arrivals;
    for (int k = 0; k < frames; ++k) arrivals.push_back({k, (20 * k + delay_ms) * kMs});
    return arrivals;
  }

  // Pulls every 20 ms from t = 0 through `until_ms`, inserting each packet first when it has
  // arrived by then. Returns the frames that came out.
  std::vector<Pulled> Run(JitterBuffer& jb, std::vector<Arrival> arrivals, int until_ms) {
    std::stable_sort(arrivals.begin(), arrivals.end(), [](const Arrival& a, const Arrival& b) {
      return a.arrival_us < b.arrival_us;
    });
    std::vector<Pulled> pulled;
    size_t next = 0;
    for (int64_t t = 0; t <= until_ms * kMs; t += 20 * kMs) {
      for (; next < arrivals.size() && arrivals[next].arrival_us <= t; ++next) {
        jb.Insert(MakePacket(arrivals[next].index), arrivals[next].arrival_us);
      }
      Frame out;
      if (jb.Pull(t, &out)) pulled.push_back({t, out.concealed, out.samples[0]});
    }
    return pulled;
  }

  static std::vector<int> Values(const std::vector<Pulled>& pulled, size_t count) {
    std::vector<int> values;
    for (size_t i = 0; i < count && i < pulled.size(); ++i) {
      values.push_back(pulled[i].concealed ? -1 : pulled[i].value);
    }
    return values;
  }

  std::unique_ptr<Codec> encoder_ = MakeCodec(CodecKind::kL16);
  std::unique_ptr<Codec> decoder_ = MakeCodec(CodecKind::kL16);
  uint16_t sequence_base_ = 1000;
  uint32_t timestamp_base_ = 50000;
};

TEST_F(JitterBufferTest, WaitsForTheTargetDelayAfterTheFirstArrival) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  Frame out;
  out.samples[0] = 77;
  EXPECT_FALSE(jb.Pull(0, &out));  // nothing yet
  jb.Insert(MakePacket(0), 10 * kMs);
  EXPECT_FALSE(jb.Pull(49 * kMs, &out));
  EXPECT_EQ(out.samples[0], 77);  // untouched
  ASSERT_TRUE(jb.Pull(50 * kMs, &out));
  EXPECT_EQ(out.samples[0], 100);
  EXPECT_FALSE(out.concealed);
  ASSERT_TRUE(jb.Pull(70 * kMs, &out));  // from now on always a frame
  EXPECT_TRUE(out.concealed);
}

TEST_F(JitterBufferTest, InOrderStreamPlaysEveryFrame) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  const auto pulled = Run(jb, Steady(10, 10), 240);
  ASSERT_GE(pulled.size(), 10u);
  EXPECT_EQ(pulled[0].t_us, 60 * kMs);  // first arrival 10 ms + 40 ms, on the next 20 ms tick
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(jb.stats().received, 10u);
  EXPECT_EQ(jb.stats().played, 10u);
  EXPECT_EQ(jb.stats().concealed, 0u);
  EXPECT_EQ(jb.stats().reordered, 0u);
  EXPECT_EQ(jb.size(), 0u);
}

// Given the bytes a view points into, the buffer takes them instead of copying: the caller gets
// back a buffer no packet uses (none at first, then the one an earlier packet came in), and what
// plays is what was sent.
TEST_F(JitterBufferTest, TakesThePacketsBufferAndHandsBackAFreeOne) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 20, .max_packets = 50});
  std::vector<uint8_t> first = SerializeRtp(MakePacket(0));
  const uint8_t* first_data = first.data();
  RtpView view;
  ASSERT_TRUE(ParseRtpView(first, &view, nullptr));
  jb.Insert(view, 0, &first);
  EXPECT_TRUE(first.empty());  // taken; no free buffer yet
  EXPECT_EQ(first.capacity(), 0u);
  Frame out;
  ASSERT_TRUE(jb.Pull(20 * kMs, &out));
  EXPECT_EQ(out.samples[0], 100);
  EXPECT_FALSE(out.concealed);

  std::vector<uint8_t> second = SerializeRtp(MakePacket(1));
  ASSERT_TRUE(ParseRtpView(second, &view, nullptr));
  jb.Insert(view, 20 * kMs, &second);
  EXPECT_EQ(second.data(), first_data);  // the first packet's buffer, played and free again
  ASSERT_TRUE(jb.Pull(40 * kMs, &out));
  EXPECT_EQ(out.samples[0], 200);

  // A view into other bytes is copied and the storage left alone.
  std::vector<uint8_t> third = SerializeRtp(MakePacket(2));
  std::vector<uint8_t> unrelated(8, 1);
  ASSERT_TRUE(ParseRtpView(third, &view, nullptr));
  jb.Insert(view, 40 * kMs, &unrelated);
  EXPECT_EQ(unrelated, std::vector<uint8_t>(8, 1));
  ASSERT_TRUE(jb.Pull(60 * kMs, &out));
  EXPECT_EQ(out.samples[0], 300);
  EXPECT_EQ(jb.stats().played, 3u);
}

TEST_F(JitterBufferTest, MissingPacketGivesExactlyOneConcealedFrame) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(10, 10);
  arrivals.erase(arrivals.begin() + 4);
  const auto pulled = Run(jb, arrivals, 240);
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, 400, -1, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(pulled[4].value, 280);  // the fade: 400 * 0.7
  EXPECT_EQ(jb.stats().played, 9u);
  EXPECT_EQ(jb.stats().concealed, 1u);
  EXPECT_EQ(jb.stats().late_dropped, 0u);
}

TEST_F(JitterBufferTest, LatePacketIsDroppedAndCounted) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(10, 10);
  arrivals[3].arrival_us = 150 * kMs;  // its slot played at 60 + 3 * 20 = 120 ms
  const auto pulled = Run(jb, arrivals, 240);
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, -1, 500, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(jb.stats().late_dropped, 1u);
  EXPECT_EQ(jb.stats().concealed, 1u);
  EXPECT_EQ(jb.stats().duplicates, 0u);
  EXPECT_EQ(jb.stats().reordered, 1u);  // it also arrived after later packets
  EXPECT_EQ(jb.size(), 0u);
}

TEST_F(JitterBufferTest, SwappedPairIsPlayedInOrder) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(10, 10);
  arrivals[2].arrival_us = 71 * kMs;  // 3 arrives at 70 ms, then 2; both before 2's slot (100 ms)
  arrivals[3].arrival_us = 70 * kMs;
  const auto pulled = Run(jb, arrivals, 240);
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(jb.stats().reordered, 1u);
  EXPECT_EQ(jb.stats().concealed, 0u);
  EXPECT_EQ(jb.stats().late_dropped, 0u);
}

TEST_F(JitterBufferTest, FirstTwoSwappedBeforePlayoutAreBothPlayed) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(5, 10);
  arrivals[0].arrival_us = 31 * kMs;  // 1 arrives first (30 ms), then 0
  const auto pulled = Run(jb, arrivals, 160);
  EXPECT_EQ(pulled[0].t_us, 80 * kMs);  // 30 ms + 40 ms, on the next tick
  EXPECT_EQ(Values(pulled, 5), (std::vector<int>{100, 200, 300, 400, 500}));
  EXPECT_EQ(jb.stats().reordered, 1u);
  EXPECT_EQ(jb.stats().late_dropped, 0u);
}

TEST_F(JitterBufferTest, DuplicatesAreCountedWhetherBufferedOrPlayed) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(10, 10);
  arrivals.push_back({2, 52 * kMs});   // 2 is still buffered (plays at 100 ms)
  arrivals.push_back({1, 150 * kMs});  // 1 was played at 80 ms: a duplicate, not a late packet
  const auto pulled = Run(jb, arrivals, 240);
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}));
  EXPECT_EQ(jb.stats().duplicates, 2u);
  EXPECT_EQ(jb.stats().late_dropped, 0u);
  EXPECT_EQ(jb.stats().reordered, 0u);
  EXPECT_EQ(jb.stats().played, 10u);
}

TEST_F(JitterBufferTest, OverflowDropsNewPacketsAtMaxPackets) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 5});
  for (int k = 0; k < 7; ++k) jb.Insert(MakePacket(k), 0);
  EXPECT_EQ(jb.size(), 5u);
  EXPECT_EQ(jb.stats().overflow_dropped, 2u);
  EXPECT_EQ(jb.stats().received, 7u);
  std::vector<int> values;
  Frame out;
  for (int64_t t = 40 * kMs; t <= 160 * kMs; t += 20 * kMs) {
    ASSERT_TRUE(jb.Pull(t, &out));
    values.push_back(out.concealed ? -1 : out.samples[0]);
  }
  EXPECT_EQ(values, (std::vector<int>{100, 200, 300, 400, 500, -1, -1}));
}

TEST_F(JitterBufferTest, UndecodablePayloadIsConcealedAndCounted) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 0, .max_packets = 50});
  RtpPacket bad = MakePacket(1);
  bad.payload.resize(10);
  jb.Insert(MakePacket(0), 0);
  jb.Insert(bad, 0);
  jb.Insert(MakePacket(2), 0);
  Frame out;
  std::vector<int> values;
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(jb.Pull(k * 20 * kMs, &out));
    values.push_back(out.concealed ? -1 : out.samples[0]);
  }
  EXPECT_EQ(values, (std::vector<int>{100, -1, 300}));
  EXPECT_EQ(jb.stats().decode_errors, 1u);
  EXPECT_EQ(jb.stats().concealed, 1u);
  EXPECT_EQ(jb.stats().played, 2u);
}

TEST_F(JitterBufferTest, WrongPayloadTypeIsDroppedAndCounted) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 0, .max_packets = 50});
  RtpPacket pcmu = MakePacket(0);
  pcmu.payload_type = 0;
  jb.Insert(pcmu, 0);
  EXPECT_EQ(jb.stats().wrong_payload_type, 1u);
  EXPECT_EQ(jb.size(), 0u);
  Frame out;
  EXPECT_FALSE(jb.Pull(0, &out));  // it did not start playout either
}

TEST_F(JitterBufferTest, SequenceAndTimestampWrapAround) {
  sequence_base_ = 65533;                     // 65533, 65534, 65535, 0, 1, ...
  timestamp_base_ = 0xFFFFFFFFu - 2 * kStep;  // wraps between frames 2 and 3
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(8, 10);
  arrivals[3].arrival_us = 71 * kMs;  // frames 3 (seq 0) and 4 (seq 1) swapped across the wrap
  arrivals[4].arrival_us = 70 * kMs;
  const auto pulled = Run(jb, arrivals, 200);
  EXPECT_EQ(Values(pulled, 8), (std::vector<int>{100, 200, 300, 400, 500, 600, 700, 800}));
  EXPECT_EQ(jb.stats().reordered, 1u);
  EXPECT_EQ(jb.stats().late_dropped, 0u);
  EXPECT_EQ(jb.stats().duplicates, 0u);
  EXPECT_EQ(jb.stats().concealed, 0u);
}

// Fixed mode, 10 packets sent every 20 ms and arriving 10 ms later, playout from 60 ms: packet 5
// is lost, packet 3 arrives at 115 ms (5 ms before its slot), packet 7 at 230 ms (its slot was at
// 200 ms). Frames 0-2, 4, 6, 8 and 9 waited 50 ms, frame 3 5 ms.
TEST_F(JitterBufferTest, StatisticsForAKnownPattern) {
  JitterBuffer jb(*decoder_, {.target_delay_ms = 40, .max_packets = 50});
  auto arrivals = Steady(10, 10);
  arrivals[3].arrival_us = 115 * kMs;
  arrivals[7].arrival_us = 230 * kMs;
  arrivals.erase(arrivals.begin() + 5);
  const auto pulled = Run(jb, arrivals, 240);
  EXPECT_EQ(Values(pulled, 10),
            (std::vector<int>{100, 200, 300, 400, 500, -1, 700, -1, 900, 1000}));
  const JitterBufferStats& s = jb.stats();
  EXPECT_EQ(s.received, 9u);
  EXPECT_EQ(s.played, 8u);
  EXPECT_EQ(s.concealed, 2u);
  EXPECT_EQ(s.fec_recovered, 0u);  // L16 has no FEC
  EXPECT_EQ(s.late_dropped, 1u);
  EXPECT_EQ(s.reordered, 2u);  // 3 came after 4, 7 after 8 and 9
  EXPECT_DOUBLE_EQ(s.concealed_share, 0.2);
  EXPECT_DOUBLE_EQ(s.mean_buffer_delay_ms, (7 * 50.0 + 5.0) / 8);
  EXPECT_EQ(s.max_buffer_delay_ms, 50.0);
  EXPECT_EQ(s.target_delay_ms, 40.0);
  EXPECT_EQ(s.delay_grow_frames + s.delay_shrink_frames, 0u);  // fixed mode never adapts
  // RFC 3550 jitter over the arrival order 0 1 2 4 3 6 8 9 7, transits 10 10 10 10 55 10 10 10
  // 90 ms: |D| = 0 0 0 45 45 0 0 80, each step J += (|D| - J) / 16.
  double j = 0;
  for (double d : {0.0, 0.0, 0.0, 45.0, 45.0, 0.0, 0.0, 80.0}) j += (d - j) / 16;
  EXPECT_NEAR(s.interarrival_jitter_ms, j, 1e-9);
}

}  // namespace
}  // namespace callsim::agent
