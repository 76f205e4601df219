#include "harness/caller/mic_mixer.h"

#include <gtest/gtest.h>

#include <ostream>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "fakes/modem/word_modem.h"

namespace callsim::harness {
namespace {

constexpr uint64_t kSeed = 9090;
constexpr double kPi = 3.14159265358979323846;
constexpr int kN = agent::kFrameSamples;

double Dbfs(double energy, double samples) {
  return 10 * std::log10(energy / samples / (32768.0 * 32768.0));
}

double Energy(const agent::Frame& f) {
  double sum = 0;
  for (int16_t s : f.samples) sum += static_cast<double>(s) * s;
  return sum;
}

// A call-like voice track: utterances of modem speech at `level_dbfs` separated by a second of
// silence, `utterances` times. speaking[f] marks the frames of each utterance.
struct VoiceTrack {
  std::vector<agent::Frame> frames;
  std::vector<bool> speaking;
};

VoiceTrack MakeVoice(double level_dbfs, int utterances) {
  const char* kText =
      "i want to check on my order, the number is four five six seven and it was placed last "
      "week. can you tell me when it will arrive";
  fakes::VoiceProfile voice;
  voice.level_dbfs = level_dbfs;
  agent::Rng variation(kSeed);
  VoiceTrack track;
  for (int u = 0; u < utterances; ++u) {
    for (int f = 0; f < 50; ++f) {  // 1 s of silence
      track.frames.emplace_back();
      track.speaking.push_back(false);
    }
    const std::vector<int16_t> samples = fakes::EncodeSpeech(kText, voice, &variation).samples;
    for (size_t at = 0; at < samples.size(); at += kN) {
      agent::Frame frame;
      std::copy_n(samples.begin() + at, std::min<size_t>(kN, samples.size() - at),
                  frame.samples.begin());
      track.frames.push_back(frame);
      track.speaking.push_back(true);
    }
  }
  return track;
}

// Runs `track` through a mixer; returns the SNR measured here, independently of the mixer: voice
// power over (output - voice) power, over the speaking frames at least -60 dBFS.
double RunAndMeasureSnrDb(MicMixer& mixer, const VoiceTrack& track) {
  double voice = 0, noise = 0;
  for (size_t f = 0; f < track.frames.size(); ++f) {
    agent::Frame out = track.frames[f];
    mixer.Mix(&out, track.speaking[f]);
    const double e = Energy(track.frames[f]);
    if (!track.speaking[f] || Dbfs(e, kN) < -60) continue;
    voice += e;
    for (int i = 0; i < kN; ++i) {
      const double d = out.samples[i] - track.frames[f].samples[i];
      noise += d * d;
    }
  }
  return 10 * std::log10(voice / noise);
}

struct SnrCase {
  NoiseType type;
  double snr_db;
};

// gtest would print the parameter as raw bytes in test names; name the case instead.
void PrintTo(const SnrCase& c, std::ostream* os) {
  *os << kNoiseTypeNames.Name(c.type) << " at " << c.snr_db << " dB";
}

class MicMixerSnrTest : public ::testing::TestWithParam<SnrCase> {};

TEST_P(MicMixerSnrTest, HitsTheTargetOnTheActualSignals) {
  NoiseSpec noise;
  noise.type = GetParam().type;
  noise.snr_db = GetParam().snr_db;
  MicMixer mixer(noise, EchoSpec{}, -20, agent::Rng(kSeed));
  ASSERT_TRUE(mixer.ok()) << mixer.error();
  EXPECT_TRUE(std::isnan(mixer.measured_snr_db()));
  const VoiceTrack track = MakeVoice(-20, 6);  // six utterances of about 10 s
  const double snr_db = RunAndMeasureSnrDb(mixer, track);
  const std::string_view type = kNoiseTypeNames.Name(noise.type);
  EXPECT_NEAR(snr_db, noise.snr_db, 0.5) << type << ", seed " << kSeed;
  EXPECT_NEAR(mixer.measured_snr_db(), noise.snr_db, 0.5) << type << ", seed " << kSeed;
  EXPECT_NEAR(mixer.measured_snr_db(), snr_db, 0.05) << "the mixer's own report";
}

INSTANTIATE_TEST_SUITE_P(Types, MicMixerSnrTest,
                         ::testing::Values(SnrCase{NoiseType::kWhite, 10},
                                           SnrCase{NoiseType::kWhite, 20},
                                           SnrCase{NoiseType::kPink, 10},
                                           SnrCase{NoiseType::kPink, 20},
                                           SnrCase{NoiseType::kBabble, 10},
                                           SnrCase{NoiseType::kBabble, 20}),
                         [](const auto& info) {
                           return std::string(kNoiseTypeNames.Name(info.param.type)) + "_" +
                                  std::to_string(static_cast<int>(info.param.snr_db)) + "dB";
                         });

TEST(MicMixerTest, QuieterVoiceGetsTheTargetSnrBecauseItIsMeasured) {
  NoiseSpec noise;
  noise.type = NoiseType::kWhite;
  noise.snr_db = 15;
  // The nominal level says -20 dBFS, the voice is actually at -30.
  MicMixer mixer(noise, EchoSpec{}, -20, agent::Rng(kSeed));
  const double snr_db = RunAndMeasureSnrDb(mixer, MakeVoice(-30, 4));
  EXPECT_NEAR(snr_db, 15, 0.5) << "seed " << kSeed;
  // The speech frames' mean level (edges and the envelope included) is a little under -30.
  EXPECT_NEAR(20 * std::log10(mixer.noise_gain() / 32768), -30 - 15, 1.5);
}

TEST(MicMixerTest, BeforeSpeechTheNominalLevelSetsTheNoiseAndNoiseNeverStops) {
  NoiseSpec noise;
  noise.type = NoiseType::kWhite;
  noise.snr_db = 12;
  MicMixer mixer(noise, EchoSpec{}, -20, agent::Rng(kSeed));
  double before = 0;
  for (int f = 0; f < 100; ++f) {
    agent::Frame frame;
    mixer.Mix(&frame, false);
    before += Energy(frame);
  }
  EXPECT_NEAR(Dbfs(before, 100 * kN), -32, 0.1);
  EXPECT_TRUE(std::isnan(mixer.measured_snr_db()));

  // Speech at -26 dBFS, then silence: the noise follows the measured level and keeps playing.
  const VoiceTrack track = MakeVoice(-26, 2);
  RunAndMeasureSnrDb(mixer, track);
  const double gain_db = 20 * std::log10(mixer.noise_gain() / 32768);
  double after = 0;
  for (int f = 0; f < 100; ++f) {
    agent::Frame frame;
    mixer.Mix(&frame, false);
    after += Energy(frame);
  }
  EXPECT_NEAR(Dbfs(after, 100 * kN), gain_db, 0.15);
  EXPECT_LT(Dbfs(after, 100 * kN), -37);  // about 6 dB down from before: it tracks the voice
  EXPECT_GT(Dbfs(after, 100 * kN), -40);
}

TEST(MicMixerTest, EchoReturnsDelayedAndAttenuated) {
  EchoSpec echo;
  echo.enabled = true;
  echo.delay_ms = 60;
  echo.return_loss_db = 20;
  MicMixer mixer(NoiseSpec{}, echo, -20, agent::Rng(kSeed));
  ASSERT_TRUE(mixer.ok()) << mixer.error();
  // A 1 kHz tone at -10 dBFS heard in frames 10..29, silence otherwise.
  const double amplitude = 32768 * std::pow(10.0, -10 / 20.0) * std::sqrt(2.0);
  std::vector<int16_t> heard, mouth;
  for (int f = 0; f < 50; ++f) {
    agent::Frame ear;
    if (f >= 10 && f < 30) {
      for (int i = 0; i < kN; ++i) {
        ear.samples[i] = static_cast<int16_t>(
            std::lround(amplitude * std::sin(2 * kPi * 1000 * (f * kN + i) / 16000)));
      }
    }
    mixer.OnEar(ear);
    agent::Frame out;
    mixer.Mix(&out, false);
    heard.insert(heard.end(), ear.samples.begin(), ear.samples.end());
    mouth.insert(mouth.end(), out.samples.begin(), out.samples.end());
  }
  const int delay = 60 * 16;
  const auto first = std::find_if(mouth.begin(), mouth.end(), [](int16_t s) { return s != 0; });
  const auto first_heard =
      std::find_if(heard.begin(), heard.end(), [](int16_t s) { return s != 0; });
  EXPECT_EQ(first - mouth.begin(), first_heard - heard.begin() + delay);
  double heard_energy = 0, echo_energy = 0;
  for (size_t n = 10 * kN; n < 30 * kN; ++n) {
    heard_energy += static_cast<double>(heard[n]) * heard[n];
    echo_energy += static_cast<double>(mouth[n + delay]) * mouth[n + delay];
    ASSERT_NEAR(mouth[n + delay], heard[n] * 0.1, 0.51) << n;
  }
  EXPECT_NEAR(10 * std::log10(echo_energy / heard_energy), -20, 0.5);
  EXPECT_EQ(std::count(mouth.begin() + 30 * kN + delay, mouth.end(), 0), 20 * kN - delay);
  EXPECT_TRUE(std::isnan(mixer.measured_snr_db()));
}

// With a whole-frame delay and no return loss, the echo is the ear frame exactly.
MicMixer LosslessEcho40Ms() {
  EchoSpec echo;
  echo.enabled = true;
  echo.delay_ms = 40;
  echo.return_loss_db = 0;
  return MicMixer(NoiseSpec{}, echo, -20, agent::Rng(kSeed));
}

agent::Frame Filled(int value) {
  agent::Frame frame;
  frame.samples.fill(static_cast<int16_t>(value));
  return frame;
}

TEST(MicMixerTest, EarFrameKPairsWithMouthFrameKWhicheverComesFirst) {
  MicMixer mixer = LosslessEcho40Ms();
  std::vector<int16_t> mouth;
  for (int f = 0; f < 10; ++f) {
    agent::Frame out;
    mixer.Mix(&out, false);  // the mouth frame first, then the ear frame of the same tick
    mouth.push_back(out.samples[0]);
    EXPECT_EQ(out.samples[kN - 1], out.samples[0]);
    mixer.OnEar(Filled(f == 2 ? 500 : 0));
  }
  EXPECT_EQ(mouth, (std::vector<int16_t>{0, 0, 0, 0, 500, 0, 0, 0, 0, 0}));
}

TEST(MicMixerTest, EarAudioTooFarAheadIsDroppedNotReplayed) {
  MicMixer mixer = LosslessEcho40Ms();                     // the ring holds 4 frames
  for (int f = 0; f < 6; ++f) mixer.OnEar(Filled(1 + f));  // ear frames 0..5 before any mouth
  std::vector<int16_t> mouth;
  for (int f = 0; f < 9; ++f) {
    agent::Frame out;
    mixer.Mix(&out, false);
    mouth.push_back(out.samples[0]);
  }
  // Mouth frame f echoes ear frame f - 2; ear frames 0 and 1 were overwritten.
  EXPECT_EQ(mouth, (std::vector<int16_t>{0, 0, 0, 0, 3, 4, 5, 6, 0}));
}

TEST(MicMixerTest, ShortEchoDelayAndVoiceAndNoiseTogether) {
  EchoSpec echo;
  echo.enabled = true;
  echo.delay_ms = 5;
  echo.return_loss_db = 6;
  MicMixer mixer(NoiseSpec{}, echo, -20, agent::Rng(kSeed));
  agent::Frame ear, out;
  ear.samples.fill(20000);  // echo: 20000 * 0.501 = 10024
  for (int f = 0; f < 3; ++f) {
    mixer.OnEar(ear);          // OnEar first: a delay under one frame still works
    out.samples.fill(-10000);  // the voice
    mixer.Mix(&out, true);
    // The first 80 mouth samples precede anything heard.
    EXPECT_EQ(out.samples[79], f == 0 ? -10000 : 24);
    EXPECT_EQ(out.samples[80], 24);
    EXPECT_EQ(out.samples[kN - 1], 24);
  }
  ear.samples.fill(-32768);
  mixer.OnEar(ear);
  out.samples.fill(-32768);
  mixer.Mix(&out, true);
  EXPECT_EQ(out.samples[0], -22744) << "the echo of the previous frame's tail: -32768 + 10024";
  EXPECT_EQ(out.samples[kN - 1], -32768) << "saturates";
  EXPECT_TRUE(std::isinf(mixer.measured_snr_db()));  // speech, but no noise
}

TEST(MicMixerTest, SameSeedSameSamples) {
  NoiseSpec noise;
  noise.type = NoiseType::kBabble;
  noise.snr_db = 10;
  EchoSpec echo;
  echo.enabled = true;
  const VoiceTrack track = MakeVoice(-20, 1);
  auto run = [&](uint64_t seed) {
    MicMixer mixer(noise, echo, -20, agent::Rng(seed));
    std::vector<int16_t> out;
    for (size_t f = 0; f < track.frames.size(); ++f) {
      mixer.OnEar(track.frames[(f + 100) % track.frames.size()]);
      agent::Frame frame = track.frames[f];
      mixer.Mix(&frame, track.speaking[f]);
      out.insert(out.end(), frame.samples.begin(), frame.samples.end());
    }
    return out;
  };
  EXPECT_EQ(run(kSeed), run(kSeed));
  EXPECT_NE(run(kSeed), run(kSeed + 1));
}

TEST(MicMixerTest, BadSettingsAreReportedAndMixAddsNothing) {
  NoiseSpec noise;
  noise.type = NoiseType::kFile;
  noise.file = "/nonexistent/callsim/noise.wav";
  MicMixer missing(noise, EchoSpec{}, -20, agent::Rng(kSeed));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("noise file /nonexistent/callsim/noise.wav: cannot open"),
            std::string::npos)
      << missing.error();
  agent::Frame frame;
  frame.samples[3] = 1234;
  missing.Mix(&frame, true);
  EXPECT_EQ(frame.samples[3], 1234);
  EXPECT_EQ(frame.samples[4], 0);

  EchoSpec echo;
  echo.enabled = true;
  echo.delay_ms = 5000;
  MicMixer too_long(NoiseSpec{}, echo, -20, agent::Rng(kSeed));
  EXPECT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().find("echo.delay_ms must be in [0, 2000]"), std::string::npos)
      << too_long.error();

  NoiseSpec crowd;
  crowd.type = NoiseType::kBabble;
  crowd.talkers = 0;
  MicMixer no_talkers(crowd, EchoSpec{}, -20, agent::Rng(kSeed));
  EXPECT_FALSE(no_talkers.ok());
  EXPECT_NE(no_talkers.error().find("noise.talkers must be in [1, 16] (got 0)"), std::string::npos)
      << no_talkers.error();
}

TEST(MicMixerTest, FileNoiseFromAnEightKilohertzStereoWav) {
  const std::string path = "/tmp/mic_mixer_test_" + std::to_string(getpid()) + ".wav";
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(file, nullptr) << sf_strerror(nullptr);
  agent::Rng rng(kSeed);
  std::vector<float> data(2 * 4000);
  for (float& v : data) v = static_cast<float>(rng.Uniform(-0.3, 0.3));
  sf_writef_float(file, data.data(), 4000);
  sf_close(file);

  NoiseSpec noise;
  noise.type = NoiseType::kFile;
  noise.file = path;
  noise.snr_db = 10;
  MicMixer mixer(noise, EchoSpec{}, -20, agent::Rng(kSeed));
  ASSERT_TRUE(mixer.ok()) << mixer.error();
  const double snr_db = RunAndMeasureSnrDb(mixer, MakeVoice(-20, 3));
  std::remove(path.c_str());
  EXPECT_NEAR(snr_db, 10, 0.5) << "seed " << kSeed;
}

}  // namespace
}  // namespace callsim::harness
