#include "harness/caller/speech_file.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "agent/media/frame.h"

namespace callsim::harness {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};

// Reads every frame, averaging the channels. "" on success.
std::string ReadMono(SNDFILE* file, const SF_INFO& info, std::vector<float>* mono) {
  const size_t channels = static_cast<size_t>(info.channels);
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * channels);
  const sf_count_t read = sf_readf_float(file, interleaved.data(), info.frames);
  if (read < 1) return std::string("cannot decode: ") + sf_strerror(file);
  mono->resize(static_cast<size_t>(read));
  for (size_t i = 0; i < mono->size(); ++i) {
    float sum = 0;
    for (size_t c = 0; c < channels; ++c) sum += interleaved[i * channels + c];
    (*mono)[i] = sum / static_cast<float>(channels);
  }
  return "";
}

// "" on success; `mono` becomes 16 kHz.
std::string ResampleTo16k(int rate_hz, std::vector<float>* mono) {
  if (rate_hz == agent::kSampleRateHz) return "";
  const double ratio = static_cast<double>(agent::kSampleRateHz) / rate_hz;
  std::vector<float> out(static_cast<size_t>(std::ceil(static_cast<double>(mono->size()) * ratio)) +
                         64);
  size_t produced = 0;
  const soxr_error_t error =
      soxr_oneshot(rate_hz, agent::kSampleRateHz, 1, mono->data(), mono->size(), nullptr,
                   out.data(), out.size(), &produced, nullptr, nullptr, nullptr);
  if (error) return std::string("cannot resample: ") + error;
  out.resize(produced);
  *mono = std::move(out);
  return "";
}

}  // namespace

std::shared_ptr<const SpeechClip> DecodeSpeechFile(const std::string& path, std::string* error) {
  const std::string where = "audio file " + path + ": ";
  SF_INFO info{};
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    *error = where + "cannot open: " + sf_strerror(nullptr);
    return nullptr;
  }
  if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000 || info.frames < 1) {
    *error = where + "no audio (" + std::to_string(info.frames) + " frames, " +
             std::to_string(info.channels) + " channels, " + std::to_string(info.samplerate) +
             " Hz)";
    return nullptr;
  }
  if (static_cast<double>(info.frames) / info.samplerate > kMaxSpeechFileSeconds) {
    *error =
        where + "longer than " + std::to_string(static_cast<int>(kMaxSpeechFileSeconds)) + " s";
    return nullptr;
  }
  std::vector<float> mono;
  std::string message = ReadMono(file.get(), info, &mono);
  if (message.empty()) message = ResampleTo16k(info.samplerate, &mono);
  if (!message.empty() || mono.empty()) {
    *error = where + (message.empty() ? std::string("no audio after resampling") : message);
    return nullptr;
  }
  auto clip = std::make_shared<SpeechClip>();
  clip->source_rate_hz = info.samplerate;
  clip->source_channels = info.channels;
  clip->samples.resize(mono.size());
  for (size_t i = 0; i < mono.size(); ++i) {
    const float v = std::clamp(mono[i] * 32768.0f, -32768.0f, 32767.0f);
    clip->samples[i] = static_cast<int16_t>(std::lround(v));
  }
  return clip;
}

std::shared_ptr<const SpeechClip> LoadSpeechFile(const std::string& path, std::string* error) {
  static std::mutex mutex;
  static auto* cache = new std::map<std::string, std::weak_ptr<const SpeechClip>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache->find(path); it != cache->end()) {
    if (std::shared_ptr<const SpeechClip> clip = it->second.lock()) return clip;
  }
  std::shared_ptr<const SpeechClip> clip = DecodeSpeechFile(path, error);
  if (!clip) return nullptr;
  // Forget clips nobody plays any more, so the cache holds at most the files in use.
  std::erase_if(*cache, [](const auto& entry) { return entry.second.expired(); });
  (*cache)[path] = clip;
  return clip;
}

}  // namespace callsim::harness
