// caller: noise types (file, babble talkers), echo, variation, repeat phrase, and their errors.
#include "harness/scenario/caller_parser.h"

#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::MustLoad;
using testing::OnlyErrorOf;
using testing::TempDir;

constexpr const char* kMinimal = "name: t\nturns:\n  - user: hello there\n";

TEST(CallerParserTest, EveryFieldParses) {
  const Scenario s = MustLoad(std::string(kMinimal) +
                              "caller:\n"
                              "  noise: { type: babble, snr_db: 12, talkers: 6 }\n"
                              "  echo: { return_loss_db: 35, delay_ms: 120 }\n"
                              "  words_per_minute: 180\n"
                              "  variation: { rate: 0.1, pauses: 0.2 }\n"
                              "  repeat_phrase: \"pardon?\"\n"
                              "  reply_timeout_ms: 8000\n"
                              "  reply_end_silence_ms: 700\n");
  EXPECT_EQ(s.caller.noise.type, NoiseType::kBabble);
  EXPECT_EQ(s.caller.noise.snr_db, 12);
  EXPECT_EQ(s.caller.noise.talkers, 6);
  EXPECT_TRUE(s.caller.echo.enabled);
  EXPECT_EQ(s.caller.echo.return_loss_db, 35);
  EXPECT_EQ(s.caller.echo.delay_ms, 120);
  EXPECT_EQ(s.caller.words_per_minute, 180);
  EXPECT_DOUBLE_EQ(s.caller.variation.rate, 0.1);
  EXPECT_DOUBLE_EQ(s.caller.variation.pauses, 0.2);
  EXPECT_EQ(s.caller.repeat_phrase, "pardon?");
  EXPECT_EQ(s.caller.reply_timeout_ms, 8000);
  EXPECT_EQ(s.caller.reply_end_silence_ms, 700);
}

TEST(CallerParserTest, DefaultsAndEmptyEcho) {
  Scenario s = MustLoad(kMinimal);
  EXPECT_FALSE(s.caller.echo.enabled);
  EXPECT_EQ(s.caller.noise.talkers, 4);
  EXPECT_EQ(s.caller.variation.rate, 0);
  EXPECT_EQ(s.caller.repeat_phrase, "sorry, could you say that again");
  s = MustLoad(std::string(kMinimal) + "caller: { echo: {}, noise: { type: pink } }\n");
  EXPECT_TRUE(s.caller.echo.enabled);  // present means enabled, with the defaults
  EXPECT_EQ(s.caller.echo.return_loss_db, 20);
  EXPECT_EQ(s.caller.echo.delay_ms, 40);
  EXPECT_EQ(s.caller.noise.type, NoiseType::kPink);
}

TEST(CallerParserTest, NoiseFileResolvesAgainstTheScenarioFolder) {
  TempDir dir;
  const std::string noise = dir.WriteAudio("noise/cafe.wav");
  const std::string path = dir.Write(
      "s.yaml", std::string(kMinimal) +
                    "caller: { noise: { type: file, file: noise/cafe.wav, snr_db: 5 } }\n");
  const LoadResult r = LoadScenarioFile(path);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_EQ(r.scenario->caller.noise.type, NoiseType::kFile);
  EXPECT_EQ(r.scenario->caller.noise.file, noise);
}

TEST(CallerParserErrorTest, NoiseRules) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: file } }\n"),
            "s.yaml:4:18: caller.noise.file: missing required key file (type file plays a WAV or "
            "FLAC recording)");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: white, file: a.wav } }\n"),
      "s.yaml:4:33: caller.noise.file: file applies only to type file");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: pink, talkers: 3 } }\n"),
            "s.yaml:4:32: caller.noise.talkers: talkers applies only to type babble");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: babble, talkers: 17 } }\n"),
      "s.yaml:4:43: caller.noise.talkers: expected a whole number in [1, 16], got 17");
  EXPECT_EQ(
      OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: brown } }\n"),
      "s.yaml:4:26: caller.noise.type: expected none | white | pink | babble | file, got brown");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: file, file: x.mp3 } }\n"),
            "s.yaml:4:38: caller.noise.file: expected a .wav or .flac file, got x.mp3");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { noise: { type: file, file: x.wav } }\n"),
            "s.yaml:4:32: caller.noise.file: no such file: x.wav (relative paths start at the "
            "scenario's folder)");
}

TEST(CallerParserErrorTest, EchoAndVariationRanges) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  echo: { return_loss_db: 81 }\n"),
            "s.yaml:5:27: caller.echo.return_loss_db: expected a number in [0, 80], got 81");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  echo: { delay_ms: 1001 }\n"),
            "s.yaml:5:21: caller.echo.delay_ms: expected a number in [0, 1000], got 1001");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  echo:\n"),
            "s.yaml:5:3: caller.echo: expected a map, got null");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  variation: { rate: 0.6 }\n"),
            "s.yaml:5:22: caller.variation.rate: expected a number in [0, 0.5], got 0.6");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  variation: { pause: 0.1 }\n"),
            "s.yaml:5:16: caller.variation.pause: unknown key pause (did you mean pauses?)");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller:\n  repeat_phrase: \"...\"\n"),
            "s.yaml:5:18: caller.repeat_phrase: expected some words, got \"...\"");
}

TEST(CallerParserTest, AnEspeakVoiceParses) {
  Scenario s = MustLoad(std::string(kMinimal) +
                        "caller:\n"
                        "  voice: { engine: espeak, voice: en-us+m3, words_per_minute: 170, "
                        "pitch: 40 }\n");
  EXPECT_EQ(s.caller.voice.engine, VoiceEngine::kEspeak);
  EXPECT_EQ(s.caller.voice.voice, "en-us+m3");
  EXPECT_EQ(s.caller.voice.pitch, 40);
  EXPECT_EQ(s.caller.words_per_minute, 170) << "the voice's rate is the caller's";
  s = MustLoad(kMinimal);
  EXPECT_EQ(s.caller.voice.engine, VoiceEngine::kModem);
  EXPECT_EQ(s.caller.voice.voice, "en-us+f2");
  s = MustLoad(std::string(kMinimal) + "caller: { voice: { engine: espeak } }\n");
  EXPECT_EQ(s.caller.voice.voice, "en-us+f2");
  EXPECT_EQ(s.caller.voice.pitch, 50);
}

TEST(CallerParserErrorTest, VoiceRules) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { voice: { engine: festival } }\n"),
            "s.yaml:4:28: caller.voice.engine: expected modem | espeak, got festival");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { voice: { voice: en-us } }\n"),
            "s.yaml:4:20: caller.voice.voice: voice applies only to engine espeak");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "caller: { voice: { engine: espeak, pitch: 100 } }\n"),
            "s.yaml:4:43: caller.voice.pitch: expected a whole number in [0, 99], got 100");
  const std::string bad_name =
      OnlyErrorOf(std::string(kMinimal) + "caller: { voice: { engine: espeak, voice: \"en us\" } }\n");
  EXPECT_NE(bad_name.find("caller.voice.voice"), std::string::npos) << bad_name;
  EXPECT_NE(bad_name.find("en us"), std::string::npos) << bad_name;
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) +
                        "caller:\n  words_per_minute: 150\n  voice: { words_per_minute: 170 }\n"),
            "s.yaml:6:10: caller.voice: words_per_minute is given twice "
            "(caller.words_per_minute and caller.voice.words_per_minute): keep one");
}

}  // namespace
}  // namespace callsim::harness
