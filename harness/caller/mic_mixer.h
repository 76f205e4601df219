// The caller's microphone: what the agent receives is the caller's own voice, plus background
// noise mixed at the scenario's SNR as measured on the actual signals, plus an echo of the agent's
// voice as the caller heard it. Deterministic from its Rng; no allocation per frame (babble noise
// encodes each talker's next word as it starts, a few times a second).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/runtime/rng.h"
#include "harness/caller/noise_source.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

inline constexpr double kMaxEchoDelayMs = 2000;  // bounds the echo ring buffer (64 KB)
inline constexpr double kSpeechFloorDbfs = -60;  // quieter frames inside speech are not speech
inline constexpr double kNoisePriorSeconds = 1;  // weight of the source's nominal unit power
// Noise RMS at most 20 dB over full scale (already all clipping): keeps the mix far from overflow.
inline constexpr double kMaxNoiseGain = 327680;

// Noise level. The gain for each frame makes speech power / noise power = noise.snr_db, where
//   speech power = mean square of the voice over the frames passed with `speaking` true whose RMS
//                  is at least kSpeechFloorDbfs (gaps between words are not speech), so far;
//                  voice_level_dbfs until the first such frame;
//   noise power  = the source's mean square so far over those same frames (so babble that happens
//                  to be loud while the caller talks counts as loud), starting from its nominal 1
//                  with the weight of kNoisePriorSeconds.
// Both are running means over the whole call, so the gain settles within the first utterances and
// then barely moves: the noise does not pump with the voice. Noise keeps playing while the caller
// is silent.
//
// Echo: ear frame k (counting OnEar calls from the first) plays at the same time as mouth frame k
// (counting Mix calls from the first), and comes back in the mouth delay_ms later, return_loss_db
// down. So if the ear starts later than the mouth or misses a tick, pass silent frames for it to
// keep the counts aligned. Either call may come first within a tick; with delay_ms under 20, the
// part of an ear frame not yet passed when its echo is due is dropped. Ear audio more than 40 ms
// ahead of what the mouth needs is overwritten and dropped (a ring of delay + 40 ms).
class MicMixer {
 public:
  // `noise.file` is an already resolved path. Draws only from `rng` (and streams forked from it).
  // On bad settings (an unreadable noise file, a babble talker count out of range, an echo delay
  // outside [0, kMaxEchoDelayMs]) ok() is false and Mix adds nothing.
  // Babble talkers speak with `babble_voices` (the caller's own engine: MakeBabbleNoise).
  MicMixer(const NoiseSpec& noise, const EchoSpec& echo, double voice_level_dbfs, agent::Rng rng,
           VoiceEngine babble_voices = VoiceEngine::kModem);
  ~MicMixer();
  MicMixer(MicMixer&&) noexcept;
  MicMixer& operator=(MicMixer&&) noexcept;

  // Every 20 ms, the frame the caller hears (for the echo path), in order.
  void OnEar(const agent::Frame& heard);
  // Every 20 ms: `mouth` holds the caller's own voice (zeros when silent); `speaking` says whether
  // the caller is producing speech in this frame. Adds noise and echo in place (saturating).
  void Mix(agent::Frame* mouth, bool speaking);

  // For reports and tests: the SNR achieved so far (speech power over the power of the noise
  // actually added, both over the speech frames defined above), in dB; NaN before any speech,
  // +infinity without noise.
  double measured_snr_db() const;
  // The noise gain the next frame gets if it is not speech (unit-RMS source -> int16 units); 0
  // without noise.
  double noise_gain() const;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // "" when ok()

 private:
  void AddEcho(std::array<float, agent::kFrameSamples>& mix) const;
  // Writes `count` ear samples at ear position `from` onwards.
  void WriteRing(int64_t from, const int16_t* samples, int64_t count);

  std::string error_;
  std::unique_ptr<NoiseSource> noise_;
  double snr_power_ratio_ = 1;       // 10^(snr_db / 10)
  double nominal_speech_power_ = 0;  // from voice_level_dbfs, in int16 units squared
  // Running sums over the speech frames, in int16 units squared (noise_source_energy_: unit).
  double speech_energy_ = 0;
  double added_noise_energy_ = 0;
  double noise_source_energy_ = 0;
  int64_t speech_samples_ = 0;

  bool echo_on_ = false;
  float echo_gain_ = 0;
  int64_t echo_delay_samples_ = 0;
  // Ear sample k (which plays with mouth sample k) is at k % size.
  std::vector<int16_t> ear_ring_;
  int64_t ear_end_ = 0;        // ear samples passed so far
  int64_t mouth_samples_ = 0;  // mouth samples mixed so far

  std::array<float, agent::kFrameSamples> noise_frame_{};
};

}  // namespace callsim::harness
