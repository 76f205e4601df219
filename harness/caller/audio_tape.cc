#include "harness/caller/audio_tape.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "agent/runtime/check.h"
#include "agent/runtime/scheduler.h"

namespace callsim::harness {
namespace {

constexpr int64_t kChunkValues = AudioTape::kChunkSamples * AudioTape::kChannels;

}  // namespace

int64_t TapeSampleIndex(int64_t origin_us, int64_t t_us) {
  const int64_t scaled = (t_us - origin_us) * AudioTape::kRateHz;
  const int64_t q = scaled / agent::kMicrosPerSecond;
  return (scaled % agent::kMicrosPerSecond < 0) ? q - 1 : q;
}

AudioTape::AudioTape(int64_t origin_us, int64_t max_samples)
    : origin_us_(origin_us), max_samples_(std::max<int64_t>(0, max_samples)) {}

int64_t AudioTape::bytes_held() const {
  const auto held = std::count_if(chunks_.begin(), chunks_.end(),
                                  [](const auto& c) { return c != nullptr; });
  return static_cast<int64_t>(held) * kChunkValues * static_cast<int64_t>(sizeof(int16_t));
}

int16_t* AudioTape::Chunk(int64_t index) {
  if (static_cast<size_t>(index) >= chunks_.size()) chunks_.resize(static_cast<size_t>(index) + 1);
  auto& chunk = chunks_[static_cast<size_t>(index)];
  if (!chunk) {
    chunk.reset(static_cast<int16_t*>(std::calloc(kChunkValues, sizeof(int16_t))));  // silence
    if (!chunk) throw std::bad_alloc();
  }
  return chunk.get();
}

void AudioTape::Put(int channel, const agent::Frame& frame, int64_t frame_start_us) {
  if (closed_ || truncated_) return;
  const int64_t first = TapeSampleIndex(origin_us_, frame_start_us);
  int64_t begin = std::max<int64_t>(first, 0);
  int64_t end = first + agent::kFrameSamples;
  if (end > max_samples_) {
    truncated_ = true;  // the bound: this frame's head is kept, nothing after it
    end = max_samples_;
  }
  while (begin < end) {
    const int64_t offset = begin % kChunkSamples;
    const int64_t n = std::min(end - begin, kChunkSamples - offset);
    int16_t* out = Chunk(begin / kChunkSamples) + channel * kChunkSamples + offset;
    std::memcpy(out, frame.samples.data() + (begin - first), static_cast<size_t>(n) * sizeof(int16_t));
    begin += n;
  }
  length_samples_ = std::max(length_samples_, end);
}

void AudioTape::Close(int64_t end_us) {
  if (closed_) return;
  closed_ = true;
  const int64_t length = std::max<int64_t>(0, TapeSampleIndex(origin_us_, end_us));
  if (length > max_samples_) truncated_ = true;
  length_samples_ = std::min(length, max_samples_);
}

void AudioTape::Read(int64_t first, int64_t count, int16_t* out) const {
  CALLSIM_CHECK(first >= 0 && count >= 0 && first + count <= length_samples_);
  while (count > 0) {
    const int64_t index = first / kChunkSamples;
    const int64_t offset = first % kChunkSamples;
    const int64_t n = std::min(count, kChunkSamples - offset);
    const bool held = static_cast<size_t>(index) < chunks_.size() &&
                      chunks_[static_cast<size_t>(index)] != nullptr;
    if (held) {
      const int16_t* left = chunks_[static_cast<size_t>(index)].get() + offset;
      const int16_t* right = left + kChunkSamples;
      for (int64_t i = 0; i < n; ++i) {
        out[i * kChannels] = left[i];
        out[i * kChannels + 1] = right[i];
      }
    } else {
      std::memset(out, 0, static_cast<size_t>(n * kChannels) * sizeof(int16_t));
    }
    out += n * kChannels;
    first += n;
    count -= n;
  }
}

}  // namespace callsim::harness
