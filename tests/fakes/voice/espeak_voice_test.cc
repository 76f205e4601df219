// EspeakSynth and its helper against what they promise: the same samples from the cache, from a
// fresh helper process and from several threads; durations that follow the rate and the pauses;
// audible 16 kHz speech; the helper's output equal to the espeak-ng command's; and clear errors
// for a bad voice, a missing helper, a failing helper and a helper that talks too long.
#include "fakes/voice/espeak_voice.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace callsim::fakes {
namespace {

constexpr const char* kLine = "I would like to book a table for two people tomorrow evening.";

double Seconds(const std::vector<int16_t>& samples) {
  return static_cast<double>(samples.size()) / kEspeakOutputRateHz;
}

double Rms(const std::vector<int16_t>& samples) {
  double sum = 0;
  for (int16_t s : samples) sum += static_cast<double>(s) * s;
  return samples.empty() ? 0 : std::sqrt(sum / samples.size());
}

std::vector<int16_t> Speak(EspeakSynth& synth, std::string_view text,
                           const EspeakVoiceSpec& spec = {}) {
  std::vector<int16_t> out;
  std::string error;
  EXPECT_TRUE(synth.Synthesize(text, spec, &out, &error)) << error;
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// An executable shell script standing in for the helper.
std::string FakeHelper(const std::string& name, const std::string& body) {
  const std::string path = ::testing::TempDir() + "/" + name + "_" + std::to_string(::getpid());
  WriteFile(path, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(EspeakSsml, EscapesMarkupAndConvertsPauses) {
  EXPECT_EQ(EspeakSsml("a<b & c>d"), "a&lt;b &amp; c&gt;d");
  EXPECT_EQ(EspeakSsml("Hello. [pause 900] Bye."), "Hello. <break time=\"900ms\"/> Bye.");
  EXPECT_EQ(EspeakSsml("[pause 0][pause 10000]"),
            "<break time=\"0ms\"/><break time=\"10000ms\"/>");
  // Not a well-formed pause: kept as text (and escaped like any text).
  EXPECT_EQ(EspeakSsml("[pause 10001]"), "[pause 10001]");
  EXPECT_EQ(EspeakSsml("[pause]"), "[pause]");
  EXPECT_EQ(EspeakSsml("[pause 5ms]"), "[pause 5ms]");
  EXPECT_EQ(EspeakSsml("[pause -5] <x>"), "[pause -5] &lt;x&gt;");
  // A NUL would end the helper's text early: it becomes a space.
  EXPECT_EQ(EspeakSsml(std::string_view("a\0b", 3)), "a b");
  // An SSML tag in the caller's text is spoken as text, not obeyed.
  EXPECT_EQ(EspeakSsml("<break time=\"5s\"/>"), "&lt;break time=\"5s\"/&gt;");
}

TEST(EspeakVoice, ValidatesNameAndRanges) {
  std::string error;
  EXPECT_TRUE(ValidateEspeakVoice({}, &error)) << error;
  EXPECT_TRUE(ValidateEspeakVoice({"en-us+m3", 450, 99}, &error)) << error;
  EXPECT_TRUE(ValidateEspeakVoice({"en_GB", 80, 0}, &error)) << error;

  EXPECT_FALSE(ValidateEspeakVoice({"en us", 160, 50}, &error));
  EXPECT_NE(error.find("'en us'"), std::string::npos) << error;
  EXPECT_FALSE(ValidateEspeakVoice({"en-us;rm", 160, 50}, &error));
  EXPECT_FALSE(ValidateEspeakVoice({"", 160, 50}, &error));
  EXPECT_FALSE(ValidateEspeakVoice({"en-us", 79, 50}, &error));
  EXPECT_NE(error.find("80..450"), std::string::npos) << error;
  EXPECT_FALSE(ValidateEspeakVoice({"en-us", 451, 50}, &error));
  EXPECT_FALSE(ValidateEspeakVoice({"en-us", std::nan(""), 50}, &error));
  EXPECT_FALSE(ValidateEspeakVoice({"en-us", 160, 100}, &error));
  EXPECT_NE(error.find("0..99"), std::string::npos) << error;
  EXPECT_FALSE(ValidateEspeakVoice({"en-us", 160, -1}, &error));
}

TEST(EspeakSynth, CacheHitAndFreshHelperRunAreBitIdentical) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  const std::vector<int16_t> first = Speak(synth, kLine);
  ASSERT_FALSE(first.empty());
  EspeakSynth::Stats stats = synth.stats();
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.helper_runs, 1u);
  EXPECT_EQ(stats.cached_bytes, first.size() * sizeof(int16_t));

  const std::vector<int16_t> second = Speak(synth, kLine);
  EXPECT_EQ(second, first);
  stats = synth.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.helper_runs, 1u);

  // A second synthesiser has an empty cache, so this is another helper process.
  EspeakSynth other(EspeakSynth::kDefaultCacheBytes);
  EXPECT_EQ(Speak(other, kLine), first);
  EXPECT_EQ(other.stats().helper_runs, 1u);

  // The settings are part of the key: another pitch is another utterance.
  EspeakVoiceSpec low;
  low.pitch = 20;
  const std::vector<int16_t> lower = Speak(synth, kLine, low);
  EXPECT_NE(lower, first);
  EXPECT_EQ(synth.stats().helper_runs, 2u);
}

TEST(EspeakSynth, AudibleSpeechAt16kHzOfPlausibleLength) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  const std::vector<int16_t> samples = Speak(synth, kLine);
  // 11 words at 160 wpm: about 4 s of speech; espeak-ng's rate is nominal, so a wide range.
  EXPECT_GT(Seconds(samples), 2.5);
  EXPECT_LT(Seconds(samples), 6.0);
  EXPECT_GT(Rms(samples), 1000.0);

  // The helper's own output, at 22050 Hz, is the same audio: 16000/22050 as many samples.
  const std::string text_path = ::testing::TempDir() + "/espeak_text_" + std::to_string(::getpid());
  const std::string raw_path = text_path + ".raw";
  WriteFile(text_path, EspeakSsml(kLine));
  const std::string command = "'" + EspeakHelperPath() + "' --voice en-us+f2 --wpm 160 --pitch 50 < '" +
                              text_path + "' > '" + raw_path + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const size_t native = ReadFile(raw_path).size() / 2;
  const double expected = native * 16000.0 / 22050.0;
  EXPECT_NEAR(static_cast<double>(samples.size()), expected, 2.0);
  std::remove(text_path.c_str());
  std::remove(raw_path.c_str());
}

TEST(EspeakSynth, HelperMatchesTheEspeakNgCommand) {
  if (std::system("command -v espeak-ng >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "the espeak-ng command is not installed";
  }
  const std::string base = ::testing::TempDir() + "/espeak_cli_" + std::to_string(::getpid());
  WriteFile(base + ".txt", EspeakSsml("Hello, I would like to book a table. [pause 900] For two."));
  const std::string helper = "'" + EspeakHelperPath() + "' --voice en-us+m3 --wpm 180 --pitch 40 < '" +
                             base + ".txt' > '" + base + ".raw'";
  const std::string cli = "espeak-ng -v en-us+m3 -s 180 -p 40 -m --stdout -f '" + base +
                          ".txt' > '" + base + ".wav'";
  ASSERT_EQ(std::system(helper.c_str()), 0) << helper;
  ASSERT_EQ(std::system(cli.c_str()), 0) << cli;
  const std::string raw = ReadFile(base + ".raw");
  const std::string wav = ReadFile(base + ".wav");
  // espeak-ng writes a 44-byte RIFF header: "RIFF", "WAVE", "fmt " and "data" at fixed places.
  ASSERT_GT(wav.size(), 44u);
  ASSERT_EQ(wav.substr(0, 4), "RIFF");
  ASSERT_EQ(wav.substr(36, 4), "data");
  EXPECT_GT(raw.size(), 22050u * 2);  // more than a second
  EXPECT_TRUE(raw == wav.substr(44)) << "helper " << raw.size() << " bytes, espeak-ng "
                                     << wav.size() - 44 << " bytes";
  for (const char* ext : {".txt", ".raw", ".wav"}) std::remove((base + ext).c_str());
}

TEST(EspeakSynth, LengthFollowsWordsPerMinute) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  EspeakVoiceSpec slow;
  slow.words_per_minute = 120;
  EspeakVoiceSpec fast;
  fast.words_per_minute = 240;
  const double slow_s = Seconds(Speak(synth, kLine, slow));
  const double fast_s = Seconds(Speak(synth, kLine, fast));
  ASSERT_GT(fast_s, 0);
  const double ratio = slow_s / fast_s;
  EXPECT_GT(ratio, 1.6) << slow_s << " s vs " << fast_s << " s";
  EXPECT_LT(ratio, 2.4) << slow_s << " s vs " << fast_s << " s";
}

TEST(EspeakSynth, PauseAddsItsLength) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  const double plain = Seconds(Speak(synth, "Hello there how are you today?"));
  const double paused = Seconds(Speak(synth, "Hello there [pause 900] how are you today?"));
  const double longer = Seconds(Speak(synth, "Hello there [pause 1800] how are you today?"));
  // Between two words the break comes with a short phrase boundary of its own (about 0.14 s).
  EXPECT_GT(paused - plain, 0.85) << plain << " s vs " << paused << " s";
  EXPECT_LT(paused - plain, 1.2) << plain << " s vs " << paused << " s";
  // Another 900 ms of break is exactly that much more audio.
  EXPECT_NEAR(longer - paused, 0.9, 0.03) << paused << " s vs " << longer << " s";

  // After a comma the break replaces the comma's own pause rather than adding to it.
  const double comma = Seconds(Speak(synth, "Hello there, how are you today?"));
  const double comma_paused = Seconds(Speak(synth, "Hello there, [pause 900] how are you today?"));
  EXPECT_GT(comma_paused - comma, 0.5) << comma << " s vs " << comma_paused << " s";
  EXPECT_LT(comma_paused - comma, 0.9) << comma << " s vs " << comma_paused << " s";
}

TEST(EspeakSynth, UnknownVoiceFailsNamingIt) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  EspeakVoiceSpec spec;
  spec.voice = "xx-novoice";
  std::vector<int16_t> out = {1, 2, 3};
  std::string error;
  EXPECT_FALSE(synth.Synthesize(kLine, spec, &out, &error));
  EXPECT_NE(error.find("xx-novoice"), std::string::npos) << error;
  EXPECT_NE(error.find("helper failed"), std::string::npos) << error;
  EXPECT_EQ(out, (std::vector<int16_t>{1, 2, 3}));  // untouched
  EXPECT_EQ(synth.stats().cached_bytes, 0u);

  // An invalid name never reaches a helper.
  spec.voice = "en us";
  EXPECT_FALSE(synth.Synthesize(kLine, spec, &out, &error));
  EXPECT_NE(error.find("'en us'"), std::string::npos) << error;
  EXPECT_EQ(synth.stats().helper_runs, 1u);
}

TEST(EspeakSynth, MissingHelperIsAClearError) {
  const std::string missing = ::testing::TempDir() + "/no-such-dir/callsim-espeak";
  ScopedEnv env("CALLSIM_ESPEAK", missing);
  EXPECT_EQ(EspeakHelperPath(), missing);
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  std::vector<int16_t> out;
  std::string error;
  EXPECT_FALSE(synth.Synthesize(kLine, {}, &out, &error));
  EXPECT_NE(error.find(missing), std::string::npos) << error;
  EXPECT_NE(error.find("missing or not executable"), std::string::npos) << error;
  EXPECT_NE(error.find("CALLSIM_ESPEAK"), std::string::npos) << error;
  EXPECT_EQ(synth.stats().misses, 1u);
  EXPECT_EQ(synth.stats().helper_runs, 0u);  // nothing was started
}

TEST(EspeakSynth, FailingHelperIsQuotedAndTooMuchAudioIsRefused) {
  EspeakSynth synth(EspeakSynth::kDefaultCacheBytes);
  std::vector<int16_t> out;
  std::string error;
  {
    // Exits without reading its stdin: its message, not a broken pipe, is what is reported.
    ScopedEnv env("CALLSIM_ESPEAK",
                  FakeHelper("espeak_fails", "echo 'callsim-espeak: the voice is hoarse' >&2\nexit 3"));
    EXPECT_FALSE(synth.Synthesize(kLine, {}, &out, &error));
    EXPECT_NE(error.find("exit status 3"), std::string::npos) << error;
    EXPECT_NE(error.find("the voice is hoarse"), std::string::npos) << error;
  }
  {
    // 6,000,000 bytes is 136 s at 22050 Hz, over the 120 s bound.
    ScopedEnv env("CALLSIM_ESPEAK",
                  FakeHelper("espeak_talks", "cat >/dev/null\nexec head -c 6000000 /dev/zero"));
    EXPECT_FALSE(synth.Synthesize(kLine, {}, &out, &error));
    EXPECT_NE(error.find("more than 120 s of audio"), std::string::npos) << error;
  }
  {
    ScopedEnv env("CALLSIM_ESPEAK", FakeHelper("espeak_odd", "cat >/dev/null\nprintf abc"));
    EXPECT_FALSE(synth.Synthesize(kLine, {}, &out, &error));
    EXPECT_NE(error.find("odd number of bytes"), std::string::npos) << error;
  }
  EXPECT_EQ(synth.stats().cached_bytes, 0u);
  EXPECT_EQ(synth.stats().helper_runs, 3u);
}

TEST(EspeakSynth, ConcurrentCallsGetTheSameSamples) {
  EspeakSynth reference(EspeakSynth::kDefaultCacheBytes);
  const std::vector<int16_t> a = Speak(reference, kLine);
  const std::vector<int16_t> b = Speak(reference, "Can you hear me? [pause 300] Hello?");

  EspeakSynth shared(EspeakSynth::kDefaultCacheBytes);
  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  std::vector<std::vector<std::vector<int16_t>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::vector<int16_t> out;
        std::string error;
        const std::string_view text = (t + r) % 2 == 0 ? kLine : "Can you hear me? [pause 300] Hello?";
        if (!shared.Synthesize(text, {}, &out, &error)) out.clear();
        results[t].push_back(std::move(out));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int r = 0; r < kRounds; ++r) {
      EXPECT_EQ(results[t][r], (t + r) % 2 == 0 ? a : b) << "thread " << t << " round " << r;
    }
  }
  const EspeakSynth::Stats stats = shared.stats();
  EXPECT_EQ(stats.hits + stats.misses, static_cast<uint64_t>(kThreads * kRounds));
  EXPECT_GE(stats.helper_runs, 2u);
  EXPECT_EQ(stats.cached_bytes, (a.size() + b.size()) * sizeof(int16_t));
}

TEST(EspeakSynth, EvictionUnderATinyCacheKeepsResultsRight) {
  EspeakSynth reference(EspeakSynth::kDefaultCacheBytes);
  const std::string_view texts[] = {"One.", "Two, please.", "Three, thank you."};
  std::vector<std::vector<int16_t>> expected;
  size_t largest = 0;
  for (std::string_view text : texts) {
    expected.push_back(Speak(reference, text));
    largest = std::max(largest, expected.back().size() * sizeof(int16_t));
  }

  // Room for any one utterance, never for two of them.
  const size_t smallest =
      std::min({expected[0].size(), expected[1].size(), expected[2].size()}) * sizeof(int16_t);
  ASSERT_LT(largest, 2 * smallest);
  EspeakSynth tiny(largest);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(Speak(tiny, texts[i]), expected[i]) << "round " << round << " text " << i;
      EXPECT_LE(tiny.stats().cached_bytes, largest);
    }
  }
  // Every call evicted the one before it: all six were misses.
  EXPECT_EQ(tiny.stats().hits, 0u);
  EXPECT_EQ(tiny.stats().helper_runs, 6u);
  // The last one is still there.
  EXPECT_EQ(Speak(tiny, texts[2]), expected[2]);
  EXPECT_EQ(tiny.stats().hits, 1u);
  EXPECT_EQ(tiny.stats().cached_bytes, expected[2].size() * sizeof(int16_t));

  // A cache of no bytes caches nothing and still answers.
  EspeakSynth none(0);
  EXPECT_EQ(Speak(none, texts[0]), expected[0]);
  EXPECT_EQ(Speak(none, texts[0]), expected[0]);
  EXPECT_EQ(none.stats().helper_runs, 2u);
  EXPECT_EQ(none.stats().cached_bytes, 0u);
}

}  // namespace
}  // namespace callsim::fakes
