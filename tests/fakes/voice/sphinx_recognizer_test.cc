#include "fakes/voice/sphinx_recognizer.h"

#include "agent/media/codec.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <soxr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace callsim::fakes {
namespace {

using Clock = std::chrono::steady_clock;

const std::vector<std::string>& AgentSentences() {
  static const std::vector<std::string> sentences = {
      "Hello, thanks for calling! How can I help you today?",
      "Let me check that for you.",
      "Your order number 4567 has shipped.",
      "Is there anything else I can help you with?",
      "Have a nice day.",
      "I'm sorry, I don't have that information.",
  };
  return sentences;
}

std::string Normalised(const std::string& phrase) {
  std::string out;
  for (const std::string& w : SphinxWords(phrase)) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool EspeakInstalled() { return std::system("command -v espeak-ng >/dev/null 2>&1") == 0; }

// Resident set size of this process, for the memory a recogniser costs.
double ResidentMb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

// A temporary directory removed at exit, for espeak-ng's WAV files.
const std::filesystem::path& TempDir() {
  static const std::filesystem::path dir = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "callsim-sphinx-test-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    return std::filesystem::path(made != nullptr ? made : "/tmp");
  }();
  static const struct Remover {
    ~Remover() {
      std::error_code ec;
      if (dir != "/tmp") std::filesystem::remove_all(dir, ec);
    }
  } remover;
  return dir;
}

// `text` spoken by espeak-ng (en-us+f2 unless `voice`, 160 wpm) as 16 kHz mono, cached per text and
// voice. Empty on failure.
std::vector<int16_t> Speak(const std::string& text, const std::string& voice = "en-us+f2") {
  static std::map<std::string, std::vector<int16_t>> cache;
  std::string key = voice + "|" + text;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::string path = (TempDir() / ("utt" + std::to_string(cache.size()) + ".wav")).string();
  std::string quoted;  // single-quoted for the shell, a ' inside as '\''
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  std::string command = "espeak-ng -v " + voice + " -s 160 -w '" + path + "' '" + quoted + "'";
  if (std::system(command.c_str()) != 0) return {};

  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (file == nullptr || info.channels != 1) {
    if (file != nullptr) sf_close(file);
    return {};
  }
  std::vector<int16_t> in(static_cast<size_t>(info.frames));
  sf_count_t got = sf_readf_short(file, in.data(), info.frames);
  sf_close(file);
  in.resize(static_cast<size_t>(got));

  std::vector<int16_t> out(in.size() * 16000 / info.samplerate + 64);
  size_t done = 0;
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;  // soxr dithers 16-bit output with a random seed by default
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(info.samplerate, 16000, 1, in.data(), in.size(), nullptr,
                                  out.data(), out.size(), &done, &io, &quality, nullptr);
  if (err != nullptr) return {};
  out.resize(done);
  cache[key] = out;
  return out;
}

std::vector<int16_t> Concat(const std::vector<int16_t>& a, const std::vector<int16_t>& b) {
  std::vector<int16_t> out = a;
  out.insert(out.end(), 8000, 0);  // half a second between the sentences
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// ---- SphinxWords -----------------------------------------------------------------------------

TEST(SphinxWordsTest, LowerCasesAndDropsPunctuation) {
  EXPECT_EQ(SphinxWords("Hello, World!  How ARE you?"),
            (std::vector<std::string>{"hello", "world", "how", "are", "you"}));
  EXPECT_EQ(SphinxWords("well-known (really)... yes;no"),
            (std::vector<std::string>{"well", "known", "really", "yes", "no"}));
  EXPECT_TRUE(SphinxWords("").empty());
  EXPECT_TRUE(SphinxWords(" ?! -- ... ").empty());
}

TEST(SphinxWordsTest, SpellsDigitsOneByOne) {
  EXPECT_EQ(SphinxWords("order 4567"),
            (std::vector<std::string>{"order", "four", "five", "six", "seven"}));
  EXPECT_EQ(SphinxWords("room 10, abc1"),
            (std::vector<std::string>{"room", "one", "zero", "abc", "one"}));
  EXPECT_EQ(SphinxWords("3.5"), (std::vector<std::string>{"three", "five"}));
}

TEST(SphinxWordsTest, KeepsApostrophesInsideWords) {
  EXPECT_EQ(SphinxWords("Don't, I'm"), (std::vector<std::string>{"don't", "i'm"}));
  EXPECT_EQ(SphinxWords("don\xE2\x80\x99t"), (std::vector<std::string>{"don't"}));
  EXPECT_EQ(SphinxWords("'quoted' the dogs' bowls"),
            (std::vector<std::string>{"quoted", "the", "dogs", "bowls"}));
  EXPECT_EQ(SphinxWords("caf\xC3\xA9 ok"), (std::vector<std::string>{"caf", "ok"}));
}

// ---- Recogniser ------------------------------------------------------------------------------

class SphinxRecognizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    if (!SphinxModelInstalled({}, &missing)) {
      GTEST_SKIP() << "pocketsphinx model missing: " << missing;
    }
  }
  void RequireEspeak() {
    if (!EspeakInstalled()) GTEST_SKIP() << "the espeak-ng command is not installed";
  }
  static std::unique_ptr<SphinxRecognizer> Grammar(std::vector<std::string>* skipped = nullptr) {
    std::string error;
    auto r = SphinxRecognizer::Create(AgentSentences(), {}, &error, skipped);
    EXPECT_NE(r, nullptr) << error;
    return r;
  }
};

TEST_F(SphinxRecognizerTest, GrammarRecognisesEachSentenceExactly) {
  RequireEspeak();
  double rss_before = ResidentMb();
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  EXPECT_TRUE(recognizer->grammar_mode());
  EXPECT_EQ(recognizer->phrases().size(), AgentSentences().size());
  double audio_s = 0, decode_s = 0;
  for (const char* voice : {"en-us+f2", "en-us+m3"}) {
    for (const std::string& sentence : AgentSentences()) {
      std::vector<int16_t> audio = Speak(sentence, voice);
      ASSERT_FALSE(audio.empty()) << "espeak-ng failed for: " << sentence;
      auto t0 = Clock::now();
      std::string heard = recognizer->Recognize(audio);
      decode_s += std::chrono::duration<double>(Clock::now() - t0).count();
      audio_s += static_cast<double>(audio.size()) / 16000.0;
      EXPECT_EQ(heard, Normalised(sentence)) << voice;
    }
  }
  double rtf = decode_s / audio_s;
  std::printf("[ grammar  ] %.1f s of audio decoded in %.3f s: real-time factor %.4f; "
              "resident memory +%.0f MB for the recogniser\n",
              audio_s, decode_s, rtf, ResidentMb() - rss_before);
  EXPECT_LT(rtf, 0.5);  // measured ~0.02 on one core; generous for a loaded machine
}

TEST_F(SphinxRecognizerTest, GrammarCoversTwoSentencesInARow) {
  RequireEspeak();
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  auto a = Speak(AgentSentences()[1]);
  auto b = Speak(AgentSentences()[2]);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(recognizer->Recognize(Concat(a, b)),
            Normalised(AgentSentences()[1]) + " " + Normalised(AgentSentences()[2]));
  // Spoken as one text, with only espeak-ng's own sentence pause between.
  auto joined = Speak(AgentSentences()[4] + " " + AgentSentences()[3]);
  EXPECT_EQ(recognizer->Recognize(joined),
            Normalised(AgentSentences()[4]) + " " + Normalised(AgentSentences()[3]));
}

TEST_F(SphinxRecognizerTest, StreamingInSmallPiecesMatchesOneShot) {
  RequireEspeak();
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  auto audio = Concat(Speak(AgentSentences()[0]), Speak(AgentSentences()[3]));
  std::string one_shot = recognizer->Recognize(audio);
  EXPECT_EQ(one_shot, Normalised(AgentSentences()[0]) + " " + Normalised(AgentSentences()[3]));

  recognizer->Start();
  std::string partial_midway;
  for (size_t i = 0; i < audio.size(); i += 320) {
    recognizer->Feed(audio.data() + i, std::min<size_t>(320, audio.size() - i));
    if (i == (audio.size() / 2 / 320) * 320) partial_midway = recognizer->Partial();
  }
  EXPECT_FALSE(partial_midway.empty());
  EXPECT_EQ(recognizer->Finish(), one_shot);
  EXPECT_EQ(recognizer->Finish(), "");  // the utterance has ended

  // Feed without Start starts an utterance.
  recognizer->Feed(audio.data(), audio.size());
  EXPECT_EQ(recognizer->Finish(), one_shot);
}

TEST_F(SphinxRecognizerTest, SameAudioGivesTheSameTranscript) {
  RequireEspeak();
  auto used = Grammar();
  ASSERT_NE(used, nullptr);
  // A sentence the grammar does not hold: whatever it gives, it gives every time.
  auto off_grammar = Speak("the weather is lovely in the mountains this week");
  auto in_grammar = Speak(AgentSentences()[2]);
  auto other = Speak(AgentSentences()[0], "en-us+m3");
  ASSERT_FALSE(off_grammar.empty());
  ASSERT_FALSE(in_grammar.empty());
  ASSERT_FALSE(other.empty());
  for (const auto* audio : {&off_grammar, &in_grammar}) {
    // One recogniser has heard other speech (and this audio) before, the other nothing: what
    // came earlier does not change the transcript.
    used->Recognize(other);
    std::string a = used->Recognize(*audio);
    used->Recognize(Concat(other, other));
    EXPECT_EQ(used->Recognize(*audio), a);
    auto fresh = Grammar();
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(fresh->Recognize(*audio), a);
    // Fed in uneven pieces: the same again.
    const size_t pieces[] = {1, 7, 333, 1000, 4096};
    fresh->Start();
    for (size_t i = 0, k = 0; i < audio->size(); ++k) {
      size_t n = std::min(pieces[k % 5], audio->size() - i);
      fresh->Feed(audio->data() + i, n);
      i += n;
    }
    EXPECT_EQ(fresh->Finish(), a);
  }
  EXPECT_EQ(used->Recognize(in_grammar), Normalised(AgentSentences()[2]));
  std::printf("[ grammar  ] off-grammar speech heard as \"%s\"\n",
              used->Recognize(off_grammar).c_str());
}

// The starting cepstral mean suits espeak-ng's own level; louder or quieter speech (a codec, a
// gain stage) shifts it. Measured: every sentence exact from -20 dB to +3 dB.
TEST_F(SphinxRecognizerTest, LevelChanges) {
  RequireEspeak();
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  for (double gain_db : {-20.0, -12.0, -6.0, 0.0, 3.0}) {
    double gain = std::pow(10.0, gain_db / 20.0);
    int exact = 0, total = 0;
    for (const std::string& sentence : AgentSentences()) {
      std::vector<int16_t> audio = Speak(sentence);
      for (int16_t& s : audio) {
        s = static_cast<int16_t>(std::clamp(std::lround(s * gain), -32768L, 32767L));
      }
      exact += recognizer->Recognize(audio) == Normalised(sentence);
      ++total;
    }
    std::printf("[ level    ] %+.0f dB: %d of %d sentences exact\n", gain_db, exact, total);
    EXPECT_EQ(exact, total) << gain_db << " dB";
  }
}

// `audio` through one direction of `kind` (encoder, then decoder), 20 ms at a time.
std::vector<int16_t> ThroughCodec(const std::vector<int16_t>& audio, agent::CodecKind kind) {
  auto encoder = agent::MakeCodec(kind);
  auto decoder = agent::MakeCodec(kind);
  std::vector<int16_t> out;
  std::vector<uint8_t> payload;
  for (size_t i = 0; i < audio.size(); i += agent::kFrameSamples) {
    agent::Frame frame;
    for (int k = 0; k < agent::kFrameSamples && i + k < audio.size(); ++k) {
      frame.samples[k] = audio[i + k];
    }
    encoder->Encode(frame, &payload);
    agent::Frame decoded;
    EXPECT_TRUE(decoder->Decode(payload, &decoded));
    out.insert(out.end(), decoded.samples.begin(), decoded.samples.end());
  }
  return out;
}

// A telephone line (PCMU at 8 kHz: nothing above 4 kHz) or Opus changes the spectrum the model
// hears; the per-stretch speech mean takes the channel out.
TEST_F(SphinxRecognizerTest, CodecsKeepEverySentence) {
  RequireEspeak();
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  for (agent::CodecKind kind : {agent::CodecKind::kPcmu, agent::CodecKind::kOpus}) {
    for (const char* voice : {"en-us+f2", "en-us+m3"}) {
      for (const std::string& sentence : AgentSentences()) {
        // As spoken, and with the half second of silence a stretch of speech ends on.
        std::vector<int16_t> audio = Speak(sentence, voice);
        EXPECT_EQ(recognizer->Recognize(ThroughCodec(audio, kind)), Normalised(sentence))
            << agent::kCodecNames.Name(kind) << " " << voice;
        audio.insert(audio.end(), 8000, 0);
        EXPECT_EQ(recognizer->Recognize(ThroughCodec(audio, kind)), Normalised(sentence))
            << agent::kCodecNames.Name(kind) << " " << voice << ", silence after";
      }
      auto two = ThroughCodec(Concat(Speak(AgentSentences()[1], voice),
                                     Speak(AgentSentences()[2], voice)), kind);
      EXPECT_EQ(recognizer->Recognize(two),
                Normalised(AgentSentences()[1]) + " " + Normalised(AgentSentences()[2]))
          << agent::kCodecNames.Name(kind) << " " << voice;
    }
  }
}

TEST_F(SphinxRecognizerTest, PhraseWithUnknownWordIsSkippedAndReported) {
  std::vector<std::string> skipped;
  std::string error;
  auto recognizer = SphinxRecognizer::Create(
      {"have a nice day", "the zorblax is ready", "?!", "have a nice day"}, {}, &error, &skipped);
  ASSERT_NE(recognizer, nullptr) << error;
  EXPECT_EQ(recognizer->phrases(), (std::vector<std::string>{"have a nice day"}));
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0], "the zorblax is ready: not in the dictionary: zorblax");
  EXPECT_EQ(skipped[1], "?!: no words");

  // Nothing usable: no recogniser, and the error says why.
  skipped.clear();
  EXPECT_EQ(SphinxRecognizer::Create({"zorblax"}, {}, &error, &skipped), nullptr);
  EXPECT_NE(error.find("no usable phrase"), std::string::npos) << error;
  EXPECT_EQ(skipped.size(), 1u);
}

TEST_F(SphinxRecognizerTest, SilenceGivesEmptyTranscript) {
  auto recognizer = Grammar();
  ASSERT_NE(recognizer, nullptr);
  EXPECT_EQ(recognizer->Recognize(std::vector<int16_t>(3 * 16000, 0)), "");
  // Faint noise (a fixed generator, so the test is repeatable) is silence too.
  std::vector<int16_t> hiss(3 * 16000);
  uint32_t state = 12345;
  for (int16_t& s : hiss) {
    state = state * 1664525u + 1013904223u;
    s = static_cast<int16_t>(static_cast<int>(state >> 24) % 41 - 20);
  }
  EXPECT_EQ(recognizer->Recognize(hiss), "");
  EXPECT_EQ(recognizer->Recognize({}), "");
  EXPECT_EQ(recognizer->Partial(), "");
  EXPECT_EQ(recognizer->Finish(), "");
}

TEST_F(SphinxRecognizerTest, GeneralModelRunsWithinBound) {
  RequireEspeak();
  double rss_before = ResidentMb();
  std::string error;
  auto t0 = Clock::now();
  auto recognizer = SphinxRecognizer::Create({}, {}, &error);
  double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_NE(recognizer, nullptr) << error;
  EXPECT_FALSE(recognizer->grammar_mode());
  auto audio = Speak(AgentSentences()[3]);
  ASSERT_FALSE(audio.empty());
  t0 = Clock::now();
  std::string heard = recognizer->Recognize(audio);
  double decode_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double audio_s = static_cast<double>(audio.size()) / 16000.0;
  std::printf("[ general  ] heard \"%s\"; load %.2f s, %.1f s of audio in %.2f s: real-time factor "
              "%.3f; resident memory +%.0f MB\n",
              heard.c_str(), load_s, audio_s, decode_s, decode_s / audio_s,
              ResidentMb() - rss_before);
  // Accuracy is not asserted (synthesised speech defeats the general model); the output's form
  // and the time are.
  EXPECT_EQ(heard.find("  "), std::string::npos);
  EXPECT_EQ(heard.find('<'), std::string::npos);
  EXPECT_LT(decode_s, 5 * audio_s + 2);  // measured ~0.3 of real time
}

TEST_F(SphinxRecognizerTest, BadModelPathNamesThePath) {
  SphinxModelPaths paths;
  paths.hmm = "/nonexistent/callsim/hmm";
  std::string error;
  EXPECT_EQ(SphinxRecognizer::Create({"have a nice day"}, paths, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/callsim/hmm"), std::string::npos) << error;

  paths = {};
  paths.dict = "/nonexistent/callsim/words.dict";
  EXPECT_EQ(SphinxRecognizer::Create({"have a nice day"}, paths, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/callsim/words.dict"), std::string::npos) << error;

  paths = {};
  paths.lm = "/nonexistent/callsim/general.lm.bin";
  EXPECT_EQ(SphinxRecognizer::Create({}, paths, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent/callsim/general.lm.bin"), std::string::npos) << error;

  std::string missing;
  EXPECT_FALSE(SphinxModelInstalled(paths, &missing));
  EXPECT_EQ(missing, "/nonexistent/callsim/general.lm.bin");
}

}  // namespace
}  // namespace callsim::fakes
