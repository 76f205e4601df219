#include "harness/caller/noise_source.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "fakes/modem/word_modem.h"

namespace callsim::harness {
namespace {

constexpr uint64_t kSeed = 4242;
constexpr double kPi = 3.14159265358979323846;

std::vector<float> RenderSeconds(NoiseSource& source, double seconds) {
  std::vector<float> out(static_cast<size_t>(seconds * agent::kSampleRateHz));
  // In frames, as the mixer calls it, with a ragged last call.
  for (size_t at = 0; at < out.size(); at += agent::kFrameSamples) {
    source.Render(out.data() + at,
                  static_cast<int>(std::min<size_t>(agent::kFrameSamples, out.size() - at)));
  }
  return out;
}

double Rms(const std::vector<float>& v, size_t begin = 0, size_t end = SIZE_MAX) {
  end = std::min(end, v.size());
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(v[i]) * v[i];
  return std::sqrt(sum / static_cast<double>(end - begin));
}

// In-place radix-2 FFT (size a power of two).
void Fft(std::vector<std::complex<double>>& a) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const std::complex<double> w_len = std::polar(1.0, -2 * kPi / static_cast<double>(len));
    for (size_t i = 0; i < n; i += len) {
      std::complex<double> w = 1;
      for (size_t k = 0; k < len / 2; ++k, w *= w_len) {
        const std::complex<double> u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
    }
  }
}

// Welch power spectrum (Hann window, 4096-point segments, half overlap); bin k is k * 16000 / 4096
// Hz.
std::vector<double> WelchPsd(const std::vector<float>& x) {
  constexpr size_t kN = 4096;
  std::vector<double> psd(kN / 2, 0);
  std::vector<std::complex<double>> seg(kN);
  for (size_t start = 0; start + kN <= x.size(); start += kN / 2) {
    for (size_t i = 0; i < kN; ++i) {
      seg[i] = x[start + i] * (0.5 - 0.5 * std::cos(2 * kPi * static_cast<double>(i) / kN));
    }
    Fft(seg);
    for (size_t k = 0; k < kN / 2; ++k) psd[k] += std::norm(seg[k]);
  }
  return psd;
}

// Least-squares slope of the mean power per octave band (62.5 Hz .. 4 kHz), in dB per octave.
double OctaveSlopeDb(const std::vector<float>& x) {
  const std::vector<double> psd = WelchPsd(x);
  const double bin_hz = 16000.0 / 4096;
  std::vector<double> xs, ys;
  for (double lo = 62.5; lo < 4000; lo *= 2) {
    double sum = 0;
    int bins = 0;
    for (size_t k = static_cast<size_t>(std::ceil(lo / bin_hz)); k * bin_hz < 2 * lo; ++k, ++bins)
      sum += psd[k];
    xs.push_back(std::log2(lo));
    ys.push_back(10 * std::log10(sum / bins));
  }
  const double mx = std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size();
  const double my = std::accumulate(ys.begin(), ys.end(), 0.0) / ys.size();
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
  }
  return sxy / sxx;
}

TEST(NoiseSourceTest, WhiteIsUnitRmsZeroMeanAndFlat) {
  auto white = MakeWhiteNoise(agent::Rng(kSeed));
  const std::vector<float> x = RenderSeconds(*white, 16);
  EXPECT_NEAR(Rms(x), 1.0, 0.005) << "seed " << kSeed;
  EXPECT_NEAR(std::accumulate(x.begin(), x.end(), 0.0) / x.size(), 0, 0.005);
  EXPECT_NEAR(OctaveSlopeDb(x), 0, 0.2) << "seed " << kSeed;
}

TEST(NoiseSourceTest, PinkFallsThreeDbPerOctave) {
  auto pink = MakePinkNoise(agent::Rng(kSeed));
  const std::vector<float> x = RenderSeconds(*pink, 16);
  EXPECT_NEAR(OctaveSlopeDb(x), -3.01, 0.25) << "seed " << kSeed;
  // Normalized by the filter's exact power gain; 16 s of pink measures within a few percent.
  EXPECT_NEAR(Rms(x), 1.0, 0.05) << "seed " << kSeed;
}

TEST(NoiseSourceTest, SameSeedSameSamplesOtherSeedOther) {
  for (NoiseType type : {NoiseType::kWhite, NoiseType::kPink, NoiseType::kBabble}) {
    NoiseSpec spec;
    spec.type = type;
    std::string error;
    auto a = MakeNoiseSource(spec, agent::Rng(kSeed), &error);
    auto b = MakeNoiseSource(spec, agent::Rng(kSeed), &error);
    auto c = MakeNoiseSource(spec, agent::Rng(kSeed + 1), &error);
    const std::string_view name = kNoiseTypeNames.Name(type);
    ASSERT_TRUE(a && b && c) << name << ": " << error;
    const std::vector<float> xa = RenderSeconds(*a, 3), xb = RenderSeconds(*b, 3),
                             xc = RenderSeconds(*c, 3);
    EXPECT_EQ(xa, xb) << name;
    EXPECT_NE(xa, xc) << name;
  }
}

TEST(NoiseSourceTest, BabbleIsNormalizedAndAlwaysSomebodyTalking) {
  auto babble = MakeBabbleNoise(4, agent::Rng(kSeed));
  const std::vector<float> x = RenderSeconds(*babble, 60);
  EXPECT_NEAR(Rms(x, 0, 5 * 16000), 1.0, 0.01);  // the normalization window
  // Over a minute, four talkers keep the level within 1.5 dB of the first five seconds'.
  EXPECT_NEAR(20 * std::log10(Rms(x)), 0, 1.5) << "seed " << kSeed;
  // Babble fluctuates, but the level of 1 s windows stays within 10 dB of the whole (not gated).
  for (size_t s = 0; s < 60; ++s) {
    const double db = 20 * std::log10(Rms(x, s * 16000, (s + 1) * 16000));
    EXPECT_GT(db, -10) << "second " << s << ", seed " << kSeed;
    EXPECT_LT(db, 6) << "second " << s << ", seed " << kSeed;
  }
}

// Real-voice babble: espeak-ng talkers, normalized like the modem's, the same for the same seed,
// and understood as words by the pocketsphinx recogniser the real-voice STT uses.
TEST(NoiseSourceTest, RealVoiceBabbleIsSpeech) {
  std::string error;
  auto a = MakeBabbleNoise(4, agent::Rng(kSeed), VoiceEngine::kEspeak, &error);
  ASSERT_NE(a, nullptr) << error;
  auto b = MakeBabbleNoise(4, agent::Rng(kSeed), VoiceEngine::kEspeak, &error);
  auto c = MakeBabbleNoise(4, agent::Rng(kSeed + 1), VoiceEngine::kEspeak, &error);
  const std::vector<float> x = RenderSeconds(*a, 30);
  EXPECT_EQ(x, RenderSeconds(*b, 30));
  EXPECT_NE(x, RenderSeconds(*c, 30));
  EXPECT_NEAR(Rms(x, 0, 5 * 16000), 1.0, 0.01);
  EXPECT_NEAR(20 * std::log10(Rms(x)), 0, 3) << "seed " << kSeed;
  // Not the word modem's tones: a modem talker gives its decoder about 50 words in 20 s; real
  // speech, a few chance ones.
  auto one = MakeBabbleNoise(1, agent::Rng(kSeed), VoiceEngine::kEspeak, &error);
  const std::vector<float> y = RenderSeconds(*one, 20);
  fakes::ModemDecoder decoder;
  agent::Frame frame;
  for (size_t at = 0; at + agent::kFrameSamples <= y.size(); at += agent::kFrameSamples) {
    for (int i = 0; i < agent::kFrameSamples; ++i) {
      frame.samples[i] = static_cast<int16_t>(std::clamp(y[at + i] * 2000, -32768.0f, 32767.0f));
    }
    decoder.Push(frame);
  }
  decoder.Flush();
  int clean = 0;
  for (const fakes::DecodedWord& w : decoder.TakeWords()) clean += w.checksum_ok && w.vocab_index != 0;
  EXPECT_LT(clean, 15);
}

// Decodes babble scaled to int16 `rms` with a fresh modem decoder.
std::vector<fakes::DecodedWord> DecodeBabble(int talkers, double seconds, double rms) {
  auto babble = MakeBabbleNoise(talkers, agent::Rng(kSeed));
  const std::vector<float> x = RenderSeconds(*babble, seconds);
  fakes::ModemDecoder decoder;
  agent::Frame frame;
  for (size_t at = 0; at + agent::kFrameSamples <= x.size(); at += agent::kFrameSamples) {
    for (int i = 0; i < agent::kFrameSamples; ++i) {
      frame.samples[i] = static_cast<int16_t>(std::clamp(x[at + i] * rms, -32768.0, 32767.0));
    }
    decoder.Push(frame);
  }
  decoder.Flush();
  return decoder.TakeWords();
}

TEST(NoiseSourceTest, OneBabbleTalkerIsPlainModemSpeech) {
  // One talker: every word it says decodes: about 2.5 words a second while talking.
  const std::vector<fakes::DecodedWord> words = DecodeBabble(1, 30, 2000);
  ASSERT_GE(words.size(), 30u) << "seed " << kSeed;
  int clean = 0;
  for (const fakes::DecodedWord& w : words) clean += w.checksum_ok && w.vocab_index != 0;
  EXPECT_GE(clean, static_cast<int>(words.size()) - 1) << "seed " << kSeed;
}

TEST(NoiseSourceTest, FourTalkerBabbleStillCarriesSomeWords) {
  // Overlapping talkers corrupt most bursts, but a recognizer still hears some words.
  const std::vector<fakes::DecodedWord> words = DecodeBabble(4, 30, 2000);
  int clean = 0;
  for (const fakes::DecodedWord& w : words) clean += w.checksum_ok && w.vocab_index != 0;
  EXPECT_GE(clean, 10) << "seed " << kSeed;
}

class NoiseFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (std::filesystem::temp_directory_path() / ("noise_source_test_" + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // 8 kHz stereo, 16-bit: left a 1 kHz sine, right a 300 Hz sine, both at amplitude 0.4.
  std::string WriteStereoWav(double seconds) {
    const std::string path = dir_ + "/stereo.wav";
    SF_INFO info{};
    info.samplerate = 8000;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    EXPECT_NE(file, nullptr) << sf_strerror(nullptr);
    const int frames = static_cast<int>(seconds * 8000);
    std::vector<float> data(2 * static_cast<size_t>(frames));
    for (int n = 0; n < frames; ++n) {
      data[2 * n] = static_cast<float>(0.4 * std::sin(2 * kPi * 1000 * n / 8000));
      data[2 * n + 1] = static_cast<float>(0.4 * std::sin(2 * kPi * 300 * n / 8000));
    }
    EXPECT_EQ(sf_writef_float(file, data.data(), frames), frames);
    sf_close(file);
    return path;
  }

  std::string dir_;
};

// Power of `x` at `hz` (16 kHz), by correlation with a complex tone over a whole number of periods.
double TonePower(const std::vector<float>& x, size_t begin, size_t n, double hz) {
  std::complex<double> sum = 0;
  for (size_t i = 0; i < n; ++i)
    sum += static_cast<double>(x[begin + i]) * std::polar(1.0, -2 * kPi * hz * i / 16000);
  return std::norm(sum) * 4 / (static_cast<double>(n) * n);  // squared amplitude
}

TEST_F(NoiseFileTest, WavIsMixedDownResampledNormalizedAndLooped) {
  const std::string path = WriteStereoWav(1.0);
  std::string error;
  std::shared_ptr<const NoiseClip> clip = LoadNoiseClip(path, &error);
  ASSERT_NE(clip, nullptr) << error;
  EXPECT_EQ(clip->source_rate_hz, 8000);
  EXPECT_EQ(clip->source_channels, 2);
  EXPECT_NEAR(static_cast<double>(clip->samples.size()), 16000, 2);  // 1 s at 16 kHz
  EXPECT_NEAR(Rms(clip->samples), 1.0, 1e-4);
  // Mixed down: both channels' tones, equally loud (each half the power of the unit-RMS mix).
  const double p1000 = TonePower(clip->samples, 2000, 8000, 1000);
  const double p300 = TonePower(clip->samples, 2000, 8000, 300);
  EXPECT_NEAR(10 * std::log10(p1000 / p300), 0, 0.2);
  EXPECT_NEAR(p1000 / 2 + p300 / 2, 1.0, 0.02);                 // sine power is amplitude^2 / 2
  EXPECT_LT(TonePower(clip->samples, 2000, 8000, 2000), 1e-4);  // resampled, no imaging at 2 kHz

  // Looped from a seeded random offset: period = the clip.
  auto a = MakeFileNoise(clip, agent::Rng(kSeed));
  const std::vector<float> x = RenderSeconds(*a, 3.5);
  const size_t period = clip->samples.size();
  for (size_t i = 0; i + period < x.size(); i += 97) ASSERT_EQ(x[i], x[i + period]) << i;
  const auto offset =
      std::search(clip->samples.begin(), clip->samples.end(), x.begin(), x.begin() + 64);
  ASSERT_NE(offset, clip->samples.end());
  auto b = MakeFileNoise(clip, agent::Rng(kSeed + 1));
  const std::vector<float> y = RenderSeconds(*b, 0.1);
  EXPECT_NE(std::vector<float>(x.begin(), x.begin() + 1600), y);
  auto again = MakeFileNoise(clip, agent::Rng(kSeed));
  EXPECT_EQ(RenderSeconds(*again, 3.5), x);
}

TEST_F(NoiseFileTest, NoiseSpecFileTypeLoadsThroughTheCache) {
  NoiseSpec spec;
  spec.type = NoiseType::kFile;
  spec.file = WriteStereoWav(0.5);
  std::string error;
  auto a = MakeNoiseSource(spec, agent::Rng(kSeed), &error);
  ASSERT_NE(a, nullptr) << error;
  auto b = MakeNoiseSource(spec, agent::Rng(kSeed), &error);
  ASSERT_NE(b, nullptr) << error;
  EXPECT_EQ(RenderSeconds(*a, 1), RenderSeconds(*b, 1));
  EXPECT_NEAR(Rms(RenderSeconds(*a, 1)), 1.0, 0.01);
}

TEST_F(NoiseFileTest, UnreadableFilesGiveAnErrorNamingThem) {
  std::string error;
  EXPECT_EQ(LoadNoiseClip(dir_ + "/missing.wav", &error), nullptr);
  EXPECT_NE(error.find("noise file " + dir_ + "/missing.wav: cannot open"), std::string::npos)
      << error;

  const std::string text = dir_ + "/not_audio.wav";
  FILE* f = fopen(text.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not a wav file\n", f);
  fclose(f);
  error.clear();
  EXPECT_EQ(LoadNoiseClip(text, &error), nullptr);
  EXPECT_NE(error.find(text), std::string::npos) << error;

  // Silence cannot be normalized.
  const std::string silent = dir_ + "/silent.wav";
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open(silent.c_str(), SFM_WRITE, &info);
  ASSERT_NE(file, nullptr);
  std::vector<float> zeros(1600, 0.0f);
  sf_writef_float(file, zeros.data(), 1600);
  sf_close(file);
  error.clear();
  EXPECT_EQ(LoadNoiseClip(silent, &error), nullptr);
  EXPECT_EQ(error, "noise file " + silent + ": silent");

  NoiseSpec spec;
  spec.type = NoiseType::kFile;
  spec.file = dir_ + "/missing.flac";
  error.clear();
  EXPECT_EQ(MakeNoiseSource(spec, agent::Rng(kSeed), &error), nullptr);
  EXPECT_NE(error.find("missing.flac"), std::string::npos);
}

TEST(NoiseSourceTest, SpecErrorsAndNone) {
  NoiseSpec spec;
  std::string error = "stale";
  EXPECT_EQ(MakeNoiseSource(spec, agent::Rng(kSeed), &error), nullptr);  // none
  EXPECT_EQ(error, "");
  spec.type = NoiseType::kBabble;
  spec.talkers = 0;
  EXPECT_EQ(MakeNoiseSource(spec, agent::Rng(kSeed), &error), nullptr);
  EXPECT_EQ(error, "noise.talkers must be in [1, 16] (got 0)");
}

}  // namespace
}  // namespace callsim::harness
