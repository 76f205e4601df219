// The ASR STT under noise: WER rises as SNR falls, for white noise and for real-voice babble,
// through a telephone line (PCMU); the same spec gives the same counts.
#include "harness/run/asr_noise_table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fakes/voice/sphinx_recognizer.h"

namespace callsim::harness {
namespace {

AsrNoiseSpec Spec(NoiseType noise, double snr_db) {
  AsrNoiseSpec spec;
  spec.lines = {"hi, i want to check on my order, number four five six seven",
                "great, thank you. bye", "can you tell me when it will arrive"};
  spec.draws = 2;
  spec.noise = noise;
  spec.snr_db = snr_db;
  spec.codec = agent::CodecKind::kPcmu;
  return spec;
}

class AsrNoiseTableTest : public ::testing::TestWithParam<NoiseType> {
 protected:
  void SetUp() override {
    if (!fakes::SphinxModelInstalled()) GTEST_SKIP() << "pocketsphinx model missing";
  }
};

TEST_P(AsrNoiseTableTest, WerRisesAsSnrFalls) {
  std::vector<double> wer;
  for (double snr : {20.0, 10.0, 5.0, 0.0}) {
    AsrNoiseResult r;
    std::string error;
    ASSERT_TRUE(MeasureAsrUnderNoise(Spec(GetParam(), snr), &r, &error)) << error;
    EXPECT_EQ(r.utterances, 6);
    EXPECT_NEAR(r.measured_snr_db, snr, 0.5) << "the mixer hit its target";
    wer.push_back(r.wer.Rate());
    std::printf("[ %s %4.0f dB ] WER %.1f%% (S %d D %d I %d N %d)\n",
                std::string(kNoiseTypeNames.Name(GetParam())).c_str(), snr, 100 * r.wer.Rate(),
                r.wer.substitutions, r.wer.deletions, r.wer.insertions, r.wer.ref_words);
  }
  // 20 dB: white noise leaves the words alone; other talkers 20 dB down are heard now and then
  // (their words inserted, as real recognisers do with background speech).
  EXPECT_LE(wer[0], GetParam() == NoiseType::kWhite ? 0.05 : 0.25);
  for (size_t i = 1; i < wer.size(); ++i) {
    EXPECT_GE(wer[i], wer[i - 1]) << "WER fell from step " << i - 1 << " to " << i;
  }
  EXPECT_GE(wer[3], wer[0] + 0.4) << "0 dB: most words lost";
}

TEST_P(AsrNoiseTableTest, TheSameSpecGivesTheSameCounts) {
  AsrNoiseResult a, b;
  std::string error;
  ASSERT_TRUE(MeasureAsrUnderNoise(Spec(GetParam(), 10), &a, &error)) << error;
  ASSERT_TRUE(MeasureAsrUnderNoise(Spec(GetParam(), 10), &b, &error)) << error;
  EXPECT_EQ(a.wer, b.wer);
  EXPECT_EQ(a.measured_snr_db, b.measured_snr_db);
}

INSTANTIATE_TEST_SUITE_P(Noise, AsrNoiseTableTest,
                         ::testing::Values(NoiseType::kWhite, NoiseType::kBabble),
                         [](const auto& info) {
                           return std::string(kNoiseTypeNames.Name(info.param));
                         });

}  // namespace
}  // namespace callsim::harness
