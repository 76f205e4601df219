// Reads a recording (WAV, FLAC, anything libsndfile opens) as 16 kHz mono floats in [-1, 1]:
// channels averaged, resampled with libsoxr. Shared by recorded caller speech and file noise.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace callsim::harness {

struct DecodedAudio {
  std::vector<float> samples;  // 16 kHz mono
  int source_rate_hz = 0;
  int source_channels = 0;
};

// Returns false with `error` saying what is wrong ("cannot open: ...", "no audio (...)",
// "longer than N s", "cannot decode: ...", "cannot resample: ..."), without the path: callers
// prefix it with what the file was for.
bool DecodeAudioFile(const std::string& path, double max_seconds, DecodedAudio* out,
                     std::string* error);

// A process-wide cache of decoded clips by path: thousands of callers share one copy, and a clip
// is held only while some caller uses it. `load` decodes on a miss.
template <typename Clip>
std::shared_ptr<const Clip> CachedClip(
    const std::string& path, std::string* error,
    std::shared_ptr<const Clip> (*load)(const std::string& path, std::string* error)) {
  static std::mutex mutex;
  static auto* cache = new std::map<std::string, std::weak_ptr<const Clip>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache->find(path); it != cache->end()) {
    if (std::shared_ptr<const Clip> clip = it->second.lock()) return clip;
  }
  std::shared_ptr<const Clip> clip = load(path, error);
  if (!clip) return nullptr;
  std::erase_if(*cache, [](const auto& entry) { return entry.second.expired(); });
  (*cache)[path] = clip;
  return clip;
}

}  // namespace callsim::harness
