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

const double kSpeechFloorPower = DbfsToPower(kSpeechFloorDbfs);
const double kNoisePriorSamples = kNoisePriorSeconds * agent::kSampleRateHz;

int16_t Saturate(float v) {
  v = std::clamp(v, -32768.0f, 32767.0f);
  return static_cast<int16_t>(v < 0 ? v - 0.5f : v + 0.5f);  // round half away from zero
}

std::string ValidateEcho(const EchoSpec& echo) {
  if (!echo.enabled) return "";
  if (!(echo.delay_ms >= 0 && echo.delay_ms <= kMaxEchoDelayMs)) {
    return "echo.delay_ms must be in [0, " + std::to_string(static_cast<int>(kMaxEchoDelayMs)) +
           "] (got " + std::to_string(echo.delay_ms) + ")";
  }
  if (!(echo.return_loss_db >= 0 && echo.return_loss_db <= kMaxReturnLossDb)) {
    return "echo.return_loss_db must be in [0, 200] (got " + std::to_string(echo.return_loss_db) + ")";
  }
  return "";
}

}  // namespace

MicMixer::MicMixer(const NoiseSpec& noise, const EchoSpec& echo, double voice_level_dbfs,
                   agent::Rng rng)
    : nominal_speech_power_(DbfsToPower(voice_level_dbfs)) {
  if (!std::isfinite(noise.snr_db) || !std::isfinite(voice_level_dbfs)) {
    error_ = "noise.snr_db and the voice level must be finite numbers";
    return;
  }
  snr_power_ratio_ = std::pow(10.0, noise.snr_db / 10.0);
  noise_ = MakeNoiseSource(noise, rng.Fork("noise"), &error_);
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
  const size_t size = ear_ring_.size();
  size_t at = static_cast<size_t>(ear_samples_ % static_cast<int64_t>(size));
  for (int16_t sample : heard.samples) {
    ear_ring_[at] = sample;
    if (++at == size) at = 0;
  }
  ear_samples_ += agent::kFrameSamples;
}

void MicMixer::Mix(agent::Frame* mouth, bool speaking) {
  if (!ok()) return;
  std::array<float, agent::kFrameSamples> mix;
  double voice_energy = 0;
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    mix[i] = mouth->samples[i];
    voice_energy += static_cast<double>(mouth->samples[i]) * mouth->samples[i];
  }
  const bool speech = speaking && voice_energy >= kSpeechFloorPower * agent::kFrameSamples;
  if (speech) {
    speech_energy_ += voice_energy;
    speech_samples_ += agent::kFrameSamples;
  }
  if (noise_) {
    noise_->Render(noise_frame_.data(), agent::kFrameSamples);
    double noise_energy = 0;
    for (float v : noise_frame_) noise_energy += static_cast<double>(v) * v;
    if (speech) noise_source_energy_ += noise_energy;
    const float gain = static_cast<float>(noise_gain());
    if (speech) added_noise_energy_ += static_cast<double>(gain) * gain * noise_energy;
    for (int i = 0; i < agent::kFrameSamples; ++i) mix[i] += gain * noise_frame_[i];
  }
  if (echo_on_) AddEcho(mix);
  for (int i = 0; i < agent::kFrameSamples; ++i) mouth->samples[i] = Saturate(mix[i]);
  mouth_samples_ += agent::kFrameSamples;
}

void MicMixer::AddEcho(std::array<float, agent::kFrameSamples>& mix) const {
  const int64_t size = static_cast<int64_t>(ear_ring_.size());
  const int64_t first = mouth_samples_ - echo_delay_samples_;  // ear sample for mix[0]
  // Only ear samples already heard and not yet overwritten.
  const int64_t lo = std::max({first, int64_t{0}, ear_samples_ - size});
  const int64_t hi = std::min(first + agent::kFrameSamples, ear_samples_);
  size_t at = lo < hi ? static_cast<size_t>(lo % size) : 0;
  for (int64_t k = lo; k < hi; ++k) {
    mix[static_cast<size_t>(k - first)] += echo_gain_ * ear_ring_[at];
    if (++at == ear_ring_.size()) at = 0;
  }
}

double MicMixer::noise_gain() const {
  if (!noise_) return 0;
  const double speech_power =
      speech_samples_ > 0 ? speech_energy_ / static_cast<double>(speech_samples_) : nominal_speech_power_;
  const double source_power = (noise_source_energy_ + kNoisePriorSamples) /
                              (static_cast<double>(speech_samples_) + kNoisePriorSamples);
  return std::sqrt(speech_power / (snr_power_ratio_ * source_power));
}

double MicMixer::measured_snr_db() const {
  if (speech_samples_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (added_noise_energy_ <= 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(speech_energy_ / added_noise_energy_);
}

}  // namespace callsim::harness
