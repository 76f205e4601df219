#include "harness/caller/speech_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/harness/caller/speech_wav.h"

namespace callsim::harness {
namespace {

class SpeechFileTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    const std::string path = "/tmp/callsim_speech_" + std::to_string(getpid()) + "_" + name;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(SpeechFileTest, SixteenKilohertzMonoDecodesSampleExact) {
  const std::vector<int16_t> speech = testing::ModemSpeech("four five six seven");
  const std::string path = Path("a.wav");
  ASSERT_TRUE(testing::WriteSamples(path, speech, 16000));
  std::string error;
  const auto clip = DecodeSpeechFile(path, &error);
  ASSERT_TRUE(clip) << error;
  EXPECT_EQ(clip->samples, speech);
  EXPECT_EQ(clip->source_rate_hz, 16000);
  EXPECT_EQ(clip->source_channels, 1);
}

TEST_F(SpeechFileTest, StereoEightKilohertzIsMixedDownAndResampled) {
  // Left: a tone at full 0.5 scale; right: silence. The mono mix is half as loud.
  std::vector<int16_t> stereo;
  for (int i = 0; i < 8000; ++i) {
    stereo.push_back(
        static_cast<int16_t>(16384 * std::sin(2 * 3.14159265358979 * 500 * i / 8000.0)));
    stereo.push_back(0);
  }
  const std::string path = Path("b.flac");
  ASSERT_TRUE(testing::WriteSamples(path, stereo, 8000, 2, SF_FORMAT_FLAC));
  std::string error;
  const auto clip = DecodeSpeechFile(path, &error);
  ASSERT_TRUE(clip) << error;
  EXPECT_EQ(clip->source_channels, 2);
  EXPECT_EQ(clip->source_rate_hz, 8000);
  EXPECT_NEAR(static_cast<double>(clip->samples.size()), 16000, 2);
  int peak = 0;
  for (size_t i = 1000; i < 15000; ++i) {
    peak = std::max(peak, std::abs(static_cast<int>(clip->samples[i])));
  }
  EXPECT_NEAR(peak, 8192, 100);
}

TEST_F(SpeechFileTest, ErrorsNameTheFile) {
  std::string error;
  EXPECT_FALSE(DecodeSpeechFile("/nonexistent/x.wav", &error));
  EXPECT_EQ(error.rfind("audio file /nonexistent/x.wav: cannot open", 0), 0u) << error;
  const std::string empty = Path("empty.wav");
  ASSERT_TRUE(testing::WriteSamples(empty, {}, 16000));
  EXPECT_FALSE(DecodeSpeechFile(empty, &error));
  EXPECT_NE(error.find("no audio"), std::string::npos) << error;
  const std::string long_file = Path("long.wav");  // 301 s at 1 kHz
  ASSERT_TRUE(testing::WriteSamples(long_file, std::vector<int16_t>(301000, 0), 1000));
  EXPECT_FALSE(DecodeSpeechFile(long_file, &error));
  EXPECT_NE(error.find("longer than 300 s"), std::string::npos) << error;
}

TEST_F(SpeechFileTest, CacheSharesOneDecodedCopyWhileHeld) {
  const std::string path = Path("c.wav");
  ASSERT_TRUE(testing::WriteSamples(path, testing::ModemSpeech("hello"), 16000));
  std::string error;
  auto first = LoadSpeechFile(path, &error);
  auto second = LoadSpeechFile(path, &error);
  ASSERT_TRUE(first);
  EXPECT_EQ(first.get(), second.get());
  first.reset();
  second.reset();
  // Released: a new load decodes again (the file may have changed).
  ASSERT_TRUE(testing::WriteSamples(path, testing::ModemSpeech("hello there"), 16000));
  auto third = LoadSpeechFile(path, &error);
  ASSERT_TRUE(third);
  EXPECT_GT(third->samples.size(), testing::ModemSpeech("hello").size());
}

}  // namespace
}  // namespace callsim::harness
