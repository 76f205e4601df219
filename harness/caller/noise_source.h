// Background noise for the caller's microphone: white, pink, babble (other word-modem talkers) and
// recorded files. Every source renders 16 kHz audio with a long-run RMS of about 1 (the MicMixer
// applies the gain), is deterministic from the Rng it is given, and renders without allocating,
// except babble, which encodes each talker's next word when the last one ends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/rng.h"
#include "harness/scenario/audio_header.h"  // kMaxNoiseFileSeconds
#include "harness/scenario/scenario.h"

namespace callsim::harness {

// A bound on unit-RMS samples (a 60 dB crest factor): file clips are clamped to it at load.
inline constexpr float kMaxNoiseSample = 1000;

class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  // Writes the next `count` samples (count >= 0) to `out`, continuing where the last call ended.
  // Every sample is within +-kMaxNoiseSample.
  virtual void Render(float* out, int count) = 0;
};

// Sum of four uniforms per sample (close to Gaussian, no logarithms), exactly unit variance.
// Two samples per Rng draw.
std::unique_ptr<NoiseSource> MakeWhiteNoise(agent::Rng rng);

// White noise through Paul Kellet's economy pink filter: -3 dB/octave (+-0.5 dB) from about 3 Hz
// to 8 kHz. Normalized by the filter's exact power gain, not a measurement, because a second of
// pink noise is dominated by its lowest frequencies and measures a different RMS every time.
std::unique_ptr<NoiseSource> MakePinkNoise(agent::Rng rng);

inline constexpr int kMaxBabbleTalkers = 16;
inline constexpr int kMaxBabbleUtteranceWords = 12;
// How much of the start a babble measures to normalize itself (a second varies by several dB).
inline constexpr double kBabbleNormalizeSeconds = 5;

// "Other people talking": `talkers` (1..kMaxBabbleTalkers) independent word-modem voices, each
// at its own pace (130-190 words a minute) and level (0 to -6 dB), saying utterances of
// 2..kMaxBabbleUtteranceWords random vocabulary words (each word encoded with fakes::EncodeSpeech
// as it starts; word gaps and comma pauses paced like the modem's own) with a pause of 0.3-2 s
// between utterances; each joins at a random point. A speech recognizer hears some of these words,
// which is the point. Normalized by the RMS of its first kBabbleNormalizeSeconds. Memory: one
// word burst (7 KB) per talker.
//
// With `voices` espeak, the talkers are real voices instead (for callers and recognisers of real
// speech): talker i speaks with kEspeakBabbleVoices[i % 4] at a level of 0 to -6 dB, saying
// sentences drawn from a fixed list of kEspeakBabbleSentences, with 0.3-2 s between them. The
// sentences are synthesised once per process (48 clips, about 10 MB, a second or two of espeak-ng
// on first use) and shared; when that fails the result is null, with *error (if non-null) saying
// why.
inline constexpr int kEspeakBabbleVoices = 4;
inline constexpr int kEspeakBabbleSentences = 12;
std::unique_ptr<NoiseSource> MakeBabbleNoise(int talkers, agent::Rng rng,
                                             VoiceEngine voices = VoiceEngine::kModem,
                                             std::string* error = nullptr);

// A noise recording decoded (libsndfile), mixed down to mono (channel mean), resampled to 16 kHz
// (libsoxr), scaled to unit RMS over the whole file and clamped to +-kMaxNoiseSample. Immutable,
// so callers share one copy.
struct NoiseClip {
  std::vector<float> samples;  // 16 kHz mono, RMS 1, at least one sample
  int source_rate_hz = 0;
  int source_channels = 0;
};

// Reads a WAV, FLAC or any other format libsndfile knows. nullptr with *error set, naming the
// file, when it cannot be opened or decoded, is empty or silent, or is longer than
// kMaxNoiseFileSeconds.
std::shared_ptr<const NoiseClip> LoadNoiseClip(const std::string& path, std::string* error);

// Loops `clip` (not null), starting at a random sample.
std::unique_ptr<NoiseSource> MakeFileNoise(std::shared_ptr<const NoiseClip> clip, agent::Rng rng);

// The source `spec` describes (type white, pink, babble or file; snr_db is the mixer's business).
// kNone gives nullptr with *error empty; a talker count out of range or an unreadable file gives
// nullptr with *error set. Files are loaded once per path while any source
// still plays them (a process-wide cache), so a thousand callers share one decoded copy.
std::unique_ptr<NoiseSource> MakeNoiseSource(const NoiseSpec& spec, agent::Rng rng,
                                             std::string* error,
                                             VoiceEngine babble_voices = VoiceEngine::kModem);

}  // namespace callsim::harness
