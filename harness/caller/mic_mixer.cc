#include "harness/caller/mic_mixer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace callsim::harness {
namespace {

constexpr double kFullScale = 32768.0;
constexpr double kSamplesPerMs = agent::kSampleRateHz / 1000.0;
constexpr double kMaxReturnLossDb = 200;

double DbfsToPower(double dbfs) {
  const double rms = kFullScale * std::pow(10.0, dbfs / 20.0);
  return rms * rms;
}

const double kSpeechFloorEnergy = DbfsToPower(kSpeechFloorDbfs) * agent::kFrameSamples;
const double kNoisePriorSamples = kNoisePriorSeconds * agent::kSampleRateHz;

// Written so that the compiler vectorizes the loops (fixed trip count, lanes, no branches).
int64_t VoiceEnergy(const agent::Frame& frame) {
  int64_t sum = 0;
  for (int16_t s : frame.samples) sum += static_cast<int32_t>(s) * s;
  return sum;
}

double NoiseEnergy(const std::array<float, agent::kFrameSamples>& x) {
  constexpr int kLanes = 8;
  static_assert(agent::kFrameSamples % kLanes == 0);
  std::array<float, kLanes> lanes{};
  for (int i = 0; i < agent::kFrameSamples; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] += x[i + k] * x[i + k];
  }
  double sum = 0;
  for (float lane : lanes) sum += lane;
  return sum;
}

// Rounds half up and clamps to int16, in integers (which the compiler vectorizes, unlike a float
// clamp). |mix| < 2^31 holds: voice and echo are int16, the gain is at most kMaxNoiseGain and
// unit-RMS noise samples stay within +-1000 (see NoiseSource).
void Saturate(const std::array<float, agent::kFrameSamples>& mix, agent::Frame* out) {
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    // Truncation rounds half up wherever the sum is positive, i.e. wherever no clamp follows.
    int32_t v = static_cast<int32_t>(mix[i] + 32768.5f) - 32768;
    v = v < -32768 ? -32768 : v;
    v = v > 32767 ? 32767 : v;
    out->samples[i] = static_cast<int16_t>(v);
  }
}

std::string ValidateEcho(const EchoSpec& echo) {
  if (!echo.enabled) return "";
  if (!(echo.delay_ms >= 0 && echo.delay_ms <= kMaxEchoDelayMs)) {
    return "echo.delay_ms must be in [0, " + std::to_string(static_cast<int>(kMaxEchoDelayMs)) +
           "] (got " + std::to_string(echo.delay_ms) + ")";
  }
  if (!(echo.return_loss_db >= 0 && echo.return_loss_db <= kMaxReturnLossDb)) {
    return "echo.return_loss_db must be in [0, 200] (got " + std::to_string(echo.return_loss_db) +
           ")";
  }
  return "";
}

}  // namespace

MicMixer::MicMixer(const NoiseSpec& noise, const EchoSpec& echo, double voice_level_dbfs,
                   agent::Rng rng, VoiceEngine babble_voices)
    : nominal_speech_power_(DbfsToPower(voice_level_dbfs)) {
  if (!std::isfinite(noise.snr_db) || !std::isfinite(voice_level_dbfs)) {
    error_ = "noise.snr_db and the voice level must be finite numbers";
    return;
  }
  snr_power_ratio_ = std::pow(10.0, noise.snr_db / 10.0);
  noise_ = MakeNoiseSource(noise, rng.Fork("noise"), &error_, babble_voices);
  if (!error_.empty()) return;
  error_ = ValidateEcho(echo);
  if (!error_.empty() || !echo.enabled) return;
  echo_on_ = true;
  echo_gain_ = static_cast<float>(std::pow(10.0, -echo.return_loss_db / 20.0));
  echo_delay_samples_ = std::llround(echo.delay_ms * kSamplesPerMs);
  ear_ring_.assign(static_cast<size_t>(echo_delay_samples_ + 2 * agent::kFrameSamples), 0);
}

MicMixer::~MicMixer() = default;
MicMixer::MicMixer(MicMixer&&) noexcept = default;
MicMixer& MicMixer::operator=(MicMixer&&) noexcept = default;

void MicMixer::OnEar(const agent::Frame& heard) {
  if (!echo_on_) return;
  WriteRing(ear_end_, heard.samples.data(), agent::kFrameSamples);
  ear_end_ += agent::kFrameSamples;
}

void MicMixer::WriteRing(int64_t from, const int16_t* samples, int64_t count) {
  const int64_t size = static_cast<int64_t>(ear_ring_.size());
  while (count > 0) {  // at most two runs: up to the ring's end, then from its start
    const int64_t at = from % size;
    const int64_t run = std::min(count, size - at);
    std::copy_n(samples, run, ear_ring_.data() + at);
    samples += run;
    from += run;
    count -= run;
  }
}

void MicMixer::Mix(agent::Frame* mouth, bool speaking) {
  if (!ok()) return;
  const double voice_energy = speaking ? static_cast<double>(VoiceEnergy(*mouth)) : 0.0;
  const bool speech = speaking && voice_energy >= kSpeechFloorEnergy;
  if (speech) {
    speech_energy_ += voice_energy;
    speech_samples_ += agent::kFrameSamples;
  }
  if (!noise_ && !echo_on_) {  // nothing to add: the voice alone, exactly as it is
    mouth_samples_ += agent::kFrameSamples;
    return;
  }
  std::array<float, agent::kFrameSamples> mix;
  for (int i = 0; i < agent::kFrameSamples; ++i) mix[i] = mouth->samples[i];
  if (noise_) {
    noise_->Render(noise_frame_.data(), agent::kFrameSamples);
    const double noise_energy = NoiseEnergy(noise_frame_);
    if (speech) noise_source_energy_ += noise_energy;
    const float gain = static_cast<float>(noise_gain());
    if (speech) added_noise_energy_ += static_cast<double>(gain) * gain * noise_energy;
    for (int i = 0; i < agent::kFrameSamples; ++i) mix[i] += gain * noise_frame_[i];
  }
  if (echo_on_) AddEcho(mix);
  Saturate(mix, mouth);
  mouth_samples_ += agent::kFrameSamples;
}

void MicMixer::AddEcho(std::array<float, agent::kFrameSamples>& mix) const {
  const int64_t size = static_cast<int64_t>(ear_ring_.size());
  const int64_t first = mouth_samples_ - echo_delay_samples_;  // ear sample for mix[0]
  // Only ear samples already written and not yet overwritten: [lo, hi).
  int64_t lo = std::max({first, int64_t{0}, ear_end_ - size});
  const int64_t hi = std::min(first + agent::kFrameSamples, ear_end_);
  while (lo < hi) {  // at most two runs: up to the ring's end, then from its start
    const int64_t at = lo % size;
    const int64_t run = std::min(hi - lo, size - at);
    float* dst = mix.data() + (lo - first);
    const int16_t* src = ear_ring_.data() + at;
    for (int64_t i = 0; i < run; ++i) dst[i] += echo_gain_ * src[i];
    lo += run;
  }
}

double MicMixer::noise_gain() const {
  if (!noise_) return 0;
  const double speech_power = speech_samples_ > 0
                                  ? speech_energy_ / static_cast<double>(speech_samples_)
                                  : nominal_speech_power_;
  const double source_power = (noise_source_energy_ + kNoisePriorSamples) /
                              (static_cast<double>(speech_samples_) + kNoisePriorSamples);
  return std::min(kMaxNoiseGain, std::sqrt(speech_power / (snr_power_ratio_ * source_power)));
}

double MicMixer::measured_snr_db() const {
  if (speech_samples_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (added_noise_energy_ <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(speech_energy_ / added_noise_energy_);
}

}  // namespace callsim::harness
