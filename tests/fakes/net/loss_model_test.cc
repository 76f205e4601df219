#include "fakes/net/loss_model.h"

#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

namespace callsim::fakes {
namespace {

constexpr uint64_t kSeed = 20240611;

LossConfig GilbertElliott(double p, double r, double bad_loss, double good_loss) {
  LossConfig config;
  config.model = LossConfig::Model::kGilbertElliott;
  config.p = p;
  config.r = r;
  config.bad_loss = bad_loss;
  config.good_loss = good_loss;
  return config;
}

struct LossRun {
  uint64_t packets = 0;
  uint64_t lost = 0;
  uint64_t bursts = 0;          // maximal runs of consecutive losses
  uint64_t lost_after_lost = 0;  // losses whose previous packet was lost too
};

LossRun RunLossModel(const LossConfig& config, uint64_t packets, uint64_t seed) {
  agent::Rng rng(seed);
  LossModel model(config);
  LossRun run;
  bool previous_lost = false;
  for (uint64_t i = 0; i < packets; ++i) {
    const bool lost = model.Lose(rng);
    run.lost += lost;
    if (lost && !previous_lost) ++run.bursts;
    if (lost && previous_lost) ++run.lost_after_lost;
    previous_lost = lost;
  }
  run.packets = packets;
  return run;
}

TEST(LossConfigTest, StationaryLossRateOfEachModel) {
  LossConfig none;
  EXPECT_DOUBLE_EQ(none.StationaryLossRate(), 0);
  LossConfig bernoulli;
  bernoulli.model = LossConfig::Model::kBernoulli;
  bernoulli.loss = 0.07;
  EXPECT_DOUBLE_EQ(bernoulli.StationaryLossRate(), 0.07);
  // pi_bad = 0.01 / 0.31.
  EXPECT_NEAR(GilbertElliott(0.01, 0.3, 1, 0).StationaryLossRate(), 0.0322580645, 1e-9);
  // pi_bad = 0.2: 0.2 * 0.6 + 0.8 * 0.02.
  EXPECT_NEAR(GilbertElliott(0.05, 0.2, 0.6, 0.02).StationaryLossRate(), 0.136, 1e-12);
}

TEST(LossModelTest, GilbertElliottMatchesStationaryRateAndBurstLength) {
  const LossConfig config = GilbertElliott(0.01, 0.3, 1, 0);
  const LossRun run = RunLossModel(config, 500'000, kSeed);
  const double rate = static_cast<double>(run.lost) / run.packets;
  const double expected = config.StationaryLossRate();
  EXPECT_NEAR(rate, expected, 0.10 * expected) << "seed " << kSeed;
  // With bad_loss 1 and good_loss 0 a burst is a stay in the bad state: geometric, mean 1/r.
  ASSERT_GT(run.bursts, 1000u);
  const double mean_burst = static_cast<double>(run.lost) / run.bursts;
  EXPECT_NEAR(mean_burst, 1 / 0.3, 0.10 / 0.3) << "seed " << kSeed;
}

TEST(LossModelTest, GilbertElliottWithLossInBothStatesMatchesStationaryRate) {
  const double p = 0.05, r = 0.2, bad_loss = 0.6, good_loss = 0.02;
  const LossConfig config = GilbertElliott(p, r, bad_loss, good_loss);
  const LossRun run = RunLossModel(config, 500'000, kSeed);
  const double rate = static_cast<double>(run.lost) / run.packets;
  EXPECT_NEAR(rate, 0.136, 0.05 * 0.136) << "seed " << kSeed;

  // Losses cluster: P(lost | previous lost) follows from the chain and is far above the rate.
  const double pi_bad = p / (p + r);
  const double bad_given_lost = pi_bad * bad_loss / config.StationaryLossRate();
  const double next_bad = bad_given_lost * (1 - r) + (1 - bad_given_lost) * p;
  const double expected_conditional = next_bad * bad_loss + (1 - next_bad) * good_loss;  // ~0.433
  const double conditional = static_cast<double>(run.lost_after_lost) / run.lost;
  EXPECT_NEAR(conditional, expected_conditional, 0.05 * expected_conditional) << "seed " << kSeed;
}

TEST(LossModelTest, BernoulliExtremesAndNone) {
  agent::Rng rng(kSeed);
  LossConfig never;
  never.model = LossConfig::Model::kBernoulli;
  never.loss = 0;
  LossConfig always = never;
  always.loss = 1;
  LossModel never_model(never), always_model(always), none_model(LossConfig{});
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(never_model.Lose(rng));
    EXPECT_TRUE(always_model.Lose(rng));
    EXPECT_FALSE(none_model.Lose(rng));
  }
}

TEST(LossModelTest, EveryModelTakesExactlyTwoDraws) {
  LossConfig bernoulli;
  bernoulli.model = LossConfig::Model::kBernoulli;
  bernoulli.loss = 0.3;
  for (const LossConfig& config : {LossConfig{}, bernoulli, GilbertElliott(0.2, 0.3, 0.9, 0.1)}) {
    agent::Rng used(kSeed), reference(kSeed);
    LossModel model(config);
    for (int i = 0; i < 100; ++i) {
      model.Lose(used);
      reference.Uniform();
      reference.Uniform();
    }
    EXPECT_EQ(used.NextU64(), reference.NextU64());
  }
}

TEST(LossConfigTest, ValidateNamesTheBadField) {
  EXPECT_EQ(ValidateLossConfig(LossConfig{}), "");
  EXPECT_EQ(ValidateLossConfig(GilbertElliott(0.01, 0.3, 1, 0)), "");

  LossConfig bad;
  bad.model = LossConfig::Model::kBernoulli;
  bad.loss = 1.5;
  EXPECT_EQ(ValidateLossConfig(bad), "loss must be in [0, 1] (got 1.5)");

  EXPECT_EQ(ValidateLossConfig(GilbertElliott(0.1, 0.3, -0.2, 0)),
            "bad_loss must be in [0, 1] (got -0.2)");
  EXPECT_NE(ValidateLossConfig(GilbertElliott(0.1, 0.3, 1, std::nan(""))).find("good_loss"),
            std::string::npos);
  EXPECT_NE(ValidateLossConfig(GilbertElliott(0, 0, 1, 0)).find("p + r"), std::string::npos);
  EXPECT_EQ(ValidateLossConfig(GilbertElliott(0.1, 2, 1, 0)), "r must be in [0, 1] (got 2)");
}

}  // namespace
}  // namespace callsim::fakes
