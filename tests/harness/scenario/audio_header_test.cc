// Recordings a scenario refers to are opened and checked when it loads: a bad one is an error at
// its reference (exit 2 from validate), not a failed run.
#include "harness/scenario/audio_header.h"

#include <sndfile.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::OnlyErrorOf;
using testing::TempDir;

// Writes `frames` frames of silence with the given shape; false when libsndfile refuses.
bool WriteSilence(const std::string& path, int format, int rate_hz, int channels, int frames) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = channels;
  info.format = format | SF_FORMAT_PCM_16;
  SNDFILE* out = sf_open(path.c_str(), SFM_WRITE, &info);
  if (out == nullptr) return false;
  std::vector<short> samples(static_cast<size_t>(frames) * channels, 0);
  const bool ok = sf_writef_short(out, samples.data(), frames) == frames;
  sf_close(out);
  return ok;
}

TEST(AudioHeaderTest, AGoodRecordingOpensWithItsShape) {
  TempDir dir;
  const std::string path = (dir.path() / "a.wav").string();
  ASSERT_TRUE(WriteSilence(path, SF_FORMAT_WAV, 8000, 2, 800));
  AudioHeader header;
  std::string error;
  EXPECT_NE(OpenAudioFile(path, 10, &header, &error), nullptr) << error;
  EXPECT_EQ(header.frames, 800);
  EXPECT_EQ(header.channels, 2);
  EXPECT_EQ(header.sample_rate_hz, 8000);
}

TEST(AudioHeaderTest, EachBadHeaderSaysWhatIsWrong) {
  TempDir dir;
  AudioHeader header;
  std::string error;
  auto open = [&](const std::string& path, double max_seconds = 10) {
    error.clear();
    return OpenAudioFile(path, max_seconds, &header, &error) != nullptr;
  };
  const std::string text = dir.Write("text.wav", "this is not audio at all, just text\n");
  EXPECT_FALSE(open(text));
  EXPECT_EQ(error.rfind("cannot open: ", 0), 0u) << error;
  const std::string empty = (dir.path() / "empty.wav").string();
  ASSERT_TRUE(WriteSilence(empty, SF_FORMAT_WAV, 16000, 1, 0));
  EXPECT_FALSE(open(empty));
  EXPECT_EQ(error.rfind("no audio (0 frames, 1 channels, 16000 Hz", 0), 0u) << error;
  const std::string flac_named_wav = (dir.path() / "f.wav").string();
  ASSERT_TRUE(WriteSilence(flac_named_wav, SF_FORMAT_FLAC, 16000, 1, 160));
  EXPECT_FALSE(open(flac_named_wav));
  EXPECT_EQ(error.rfind("not a WAV file (it reads as FLAC", 0), 0u) << error;
  const std::string wide = (dir.path() / "wide.wav").string();
  ASSERT_TRUE(WriteSilence(wide, SF_FORMAT_WAV, 16000, 9, 160));
  EXPECT_FALSE(open(wide));
  EXPECT_EQ(error.rfind("no audio (160 frames, 9 channels, 16000 Hz; expected", 0), 0u) << error;
  const std::string long_file = (dir.path() / "long.wav").string();
  ASSERT_TRUE(WriteSilence(long_file, SF_FORMAT_WAV, 1000, 1, 3001));
  EXPECT_FALSE(open(long_file, 3));
  EXPECT_EQ(error, "longer than 3 s");
  EXPECT_FALSE(open((dir.path() / "missing.wav").string()));
  EXPECT_EQ(error, "cannot open: no such file");
  const std::string fifo = (dir.path() / "pipe.wav").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(open(fifo));  // at once: libsndfile never opens it
  EXPECT_EQ(error, "cannot open: is not a regular file (a FIFO)");
}

TEST(AudioHeaderTest, ABadRecordingIsAScenarioErrorAtItsReference) {
  TempDir dir;
  dir.Write("audio/hello.wav", "RIFF but nothing after");
  const std::string empty = (dir.path() / "noise/empty.flac").string();
  std::filesystem::create_directories(dir.path() / "noise");
  ASSERT_TRUE(WriteSilence(empty, SF_FORMAT_FLAC, 16000, 1, 0));
  const std::string base = (dir.path() / "s.yaml").string();
  const std::string play = OnlyErrorOf(
      "name: t\nturns:\n  - play: { file: audio/hello.wav }\n", {}, base);
  EXPECT_EQ(play.rfind(base + ":3:19: turns.0.play.file: " +
                           (dir.path() / "audio/hello.wav").string() + ": cannot open: ",
                       0),
            0u)
      << play;
  const std::string noise =
      OnlyErrorOf("name: t\nturns:\n  - user: hi\n"
                  "caller: { noise: { type: file, file: noise/empty.flac } }\n",
                  {}, base);
  EXPECT_EQ(noise.rfind(base + ":4:38: caller.noise.file: " + empty + ": ", 0), 0u) << noise;
  dir.WriteAudio("audio/ok.wav");
  EXPECT_TRUE(
      testing::LoadAs("name: t\nturns:\n  - play: { file: audio/ok.wav }\n", {}, base).ok());
}

}  // namespace
}  // namespace callsim::harness
