// The arrival schedule and the scenario mix: exact times for constant and ramp phases, the
// statistics of poisson arrivals, and mix shares that never change when callers are added.
#include "harness/run/load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <memory>
#include <vector>

namespace callsim::harness {
namespace {

constexpr int64_t kSecondUs = 1000000;

LoadPhase Phase(LoadPhase::Kind kind, double rate, double duration_s, double to_rate = 0) {
  LoadPhase p;
  p.kind = kind;
  p.rate_per_s = rate;
  p.to_rate_per_s = to_rate;
  p.duration_s = duration_s;
  return p;
}

LoadSpec Load(int callers, std::vector<LoadPhase> phases = {}, double rate = 0) {
  LoadSpec load;
  load.callers = callers;
  load.phases = std::move(phases);
  load.rate_per_s = rate;
  return load;
}

const agent::Rng kRunRng(42);

TEST(ArrivalTimesTest, NoRateAndNoPhasesStartsEveryCallAtZero) {
  EXPECT_EQ(ArrivalTimesUs(Load(4), kRunRng), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(ArrivalTimesTest, RateAloneSpacesCallsEvenlyUntilTheCallers) {
  const std::vector<int64_t> t = ArrivalTimesUs(Load(5, {}, 4), kRunRng);
  EXPECT_EQ(t, (std::vector<int64_t>{0, 250000, 500000, 750000, 1000000}));
}

TEST(ArrivalTimesTest, AConstantPhaseStopsAtItsEnd) {
  const std::vector<int64_t> t = ArrivalTimesUs(Load(1000, {Phase(LoadPhase::kConstant, 2, 10)}), kRunRng);
  ASSERT_EQ(t.size(), 20u);  // 0, 0.5, ..., 9.5 s; 10 s is the phase's end
  for (size_t i = 0; i < t.size(); ++i) EXPECT_EQ(t[i], static_cast<int64_t>(i) * 500000) << i;
}

TEST(ArrivalTimesTest, ARampPlacesArrivalsByItsIntegratedRate) {
  // 0 -> 10 per second over 10 s: count(t) = t^2 / 2, so arrival k is at sqrt(2k) s; 50 in all.
  const std::vector<int64_t> t =
      ArrivalTimesUs(Load(1000, {Phase(LoadPhase::kRamp, 0, 10, 10)}), kRunRng);
  ASSERT_EQ(t.size(), 50u);
  for (size_t k = 0; k < t.size(); ++k) {
    EXPECT_EQ(t[k], std::llround(std::sqrt(2.0 * static_cast<double>(k)) * 1e6)) << k;
  }
}

TEST(ArrivalTimesTest, ADownwardRampIsDenseFirst) {
  // 10 -> 0 per second over 10 s: count(t) = 10 t - t^2 / 2, arrival k at 10 - sqrt(100 - 2k).
  const std::vector<int64_t> t =
      ArrivalTimesUs(Load(1000, {Phase(LoadPhase::kRamp, 10, 10, 0)}), kRunRng);
  ASSERT_EQ(t.size(), 50u);
  for (size_t k = 0; k < t.size(); ++k) {
    const double expected_s = 10.0 - std::sqrt(100.0 - 2.0 * static_cast<double>(k));
    EXPECT_NEAR(static_cast<double>(t[k]), expected_s * 1e6, 1.0) << k;
  }
}

TEST(ArrivalTimesTest, RampThenConstantContinuesWithoutAGap) {
  const std::vector<int64_t> t = ArrivalTimesUs(
      Load(1000, {Phase(LoadPhase::kRamp, 0, 10, 10), Phase(LoadPhase::kConstant, 10, 5)}), kRunRng);
  ASSERT_EQ(t.size(), 100u);  // 50 in the ramp, 50 in the constant phase
  for (size_t k = 50; k < 100; ++k) {
    EXPECT_EQ(t[k], 10 * kSecondUs + static_cast<int64_t>(k - 50) * 100000) << k;
  }
}

TEST(ArrivalTimesTest, AStepThatCrossesAPhaseEndCarriesOver) {
  // 3/s for 1.5 s: arrivals at 0, 1/3, 2/3, 1, 4/3 s (count 4.5); the next is half an arrival
  // into the 1/s phase: 0.5 s after it starts.
  const std::vector<int64_t> t = ArrivalTimesUs(
      Load(7, {Phase(LoadPhase::kConstant, 3, 1.5), Phase(LoadPhase::kConstant, 1, 10)}), kRunRng);
  EXPECT_EQ(t, (std::vector<int64_t>{0, 333333, 666667, 1000000, 1333333, 2000000, 3000000}));
}

TEST(ArrivalTimesTest, AZeroRatePhaseIsAPause) {
  const std::vector<int64_t> t = ArrivalTimesUs(
      Load(100, {Phase(LoadPhase::kConstant, 2, 1), Phase(LoadPhase::kConstant, 0, 5),
                 Phase(LoadPhase::kConstant, 2, 1)}),
      kRunRng);
  EXPECT_EQ(t, (std::vector<int64_t>{0, 500000, 6000000, 6500000}));
}

TEST(ArrivalTimesTest, CallersBoundTheArrivals) {
  EXPECT_EQ(ArrivalTimesUs(Load(7, {Phase(LoadPhase::kConstant, 10, 100)}), kRunRng).size(), 7u);
}

TEST(ArrivalTimesTest, TheRunDurationCutsArrivals) {
  LoadSpec load = Load(100, {}, 1);
  load.duration_s = 10;
  const std::vector<int64_t> t = ArrivalTimesUs(load, kRunRng);
  ASSERT_EQ(t.size(), 10u);  // 0..9 s; a call arriving at 10 s would never run
  EXPECT_EQ(t.back(), 9 * kSecondUs);
}

TEST(ArrivalTimesTest, PoissonGapsAreExponentialWithTheRatesMean) {
  const LoadSpec load = Load(10001, {Phase(LoadPhase::kPoisson, 50, 0)});  // open-ended
  const std::vector<int64_t> t = ArrivalTimesUs(load, kRunRng);
  ASSERT_EQ(t.size(), 10001u);
  EXPECT_EQ(t.front(), 0);
  const double mean_gap_us = static_cast<double>(t.back() - t.front()) / 10000.0;
  EXPECT_NEAR(mean_gap_us, 20000.0, 0.05 * 20000.0);  // 1 / 50 per second, within 5%
  // Exponential shape: P(gap < mean) = 1 - 1/e = 0.632.
  int below = 0;
  for (size_t i = 1; i < t.size(); ++i) below += (t[i] - t[i - 1]) < 20000 ? 1 : 0;
  EXPECT_NEAR(below / 10000.0, 0.632, 0.02);
  // Seeded: the same seed replays, another differs.
  EXPECT_EQ(ArrivalTimesUs(load, agent::Rng(42)), t);
  EXPECT_NE(ArrivalTimesUs(load, agent::Rng(43)), t);
}

TEST(ArrivalTimesTest, PoissonPhaseEndsOnTime) {
  const std::vector<int64_t> t =
      ArrivalTimesUs(Load(100000, {Phase(LoadPhase::kPoisson, 20, 100)}), kRunRng);
  EXPECT_NEAR(static_cast<double>(t.size()), 2000.0, 4 * std::sqrt(2000.0));
  EXPECT_LT(t.back(), 100 * kSecondUs);
}

std::vector<MixEntry> Mix(std::vector<double> weights) {
  std::vector<MixEntry> mix;
  for (double w : weights) {
    MixEntry e;
    e.weight = w;
    mix.push_back(e);
  }
  return mix;
}

TEST(MixPickTest, SharesFollowTheWeights) {
  const std::vector<MixEntry> mix = Mix({3, 1, 0});
  int counts[3] = {0, 0, 0};
  for (int id = 0; id < 20000; ++id) {
    const int pick = PickMixEntry(mix, kRunRng, id);
    ASSERT_GE(pick, 0);
    ASSERT_LT(pick, 3);
    ++counts[pick];
  }
  EXPECT_NEAR(counts[0] / 20000.0, 0.75, 0.015);
  EXPECT_NEAR(counts[1] / 20000.0, 0.25, 0.015);
  EXPECT_EQ(counts[2], 0) << "a zero weight is never picked";
}

TEST(MixPickTest, PicksDependOnTheCallAloneSoAddingCallersChangesNoEarlierPick) {
  const std::vector<MixEntry> mix = Mix({1, 1});
  std::vector<int> small, large;
  for (int id = 0; id < 100; ++id) small.push_back(PickMixEntry(mix, kRunRng, id));
  for (int id = 999; id >= 0; --id) large.push_back(PickMixEntry(mix, kRunRng, id));
  for (int id = 0; id < 100; ++id) EXPECT_EQ(small[id], large[999 - id]) << id;
  // Another seed picks differently.
  int differ = 0;
  for (int id = 0; id < 100; ++id) differ += PickMixEntry(mix, agent::Rng(7), id) != small[id];
  EXPECT_GT(differ, 20);
}

TEST(MixPickTest, NoMixRunsTheMainScenario) {
  EXPECT_EQ(PickMixEntry({}, kRunRng, 0), -1);
  EXPECT_EQ(PickMixEntry(Mix({0, 0}), kRunRng, 0), -1);
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

TEST(ShardTest, ShardsTileTheCallersExactlyAndEvenly) {
  for (int total = 0; total <= 40; ++total) {
    for (int count = 1; count <= 7; ++count) {
      std::vector<int> owners(static_cast<size_t>(total), 0);
      int smallest = total, largest = 0;
      for (int index = 1; index <= count; ++index) {
        const Shard shard{index, count};
        int held = 0;
        for (int id = 0; id < total; ++id) {
          if (shard.Holds(id)) {
            ++owners[static_cast<size_t>(id)];
            ++held;
          }
        }
        smallest = std::min(smallest, held);
        largest = std::max(largest, held);
      }
      for (int id = 0; id < total; ++id) {
        EXPECT_EQ(owners[static_cast<size_t>(id)], 1) << "call " << id << " of " << total << ", N " << count;
      }
      EXPECT_LE(largest - smallest, 1) << total << " callers in " << count << " shards";
    }
  }
}

TEST(ShardTest, ParsesIOverNAndSaysWhatIsWrong) {
  Shard shard;
  std::string error;
  ASSERT_TRUE(ParseShard("3/4", &shard, &error)) << error;
  EXPECT_EQ(shard.index, 3);
  EXPECT_EQ(shard.count, 4);
  EXPECT_FALSE(shard.whole());
  ASSERT_TRUE(ParseShard("1/1", &shard, &error));
  EXPECT_TRUE(shard.whole());
  for (const char* bad : {"0/4", "5/4", "1/0", "a/b", "3", "/4", "3/", "-1/4", "1/10001", "1/4x",
                          "999999/1000000", ""}) {
    shard = Shard{2, 7};
    EXPECT_FALSE(ParseShard(bad, &shard, &error)) << bad;
    EXPECT_NE(error.find("I/N"), std::string::npos) << error;
    EXPECT_EQ(shard.index, 2) << "left alone on an error";
  }
}

}  // namespace
}  // namespace callsim::harness
