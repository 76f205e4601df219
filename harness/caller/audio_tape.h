// One call's recording while the call runs: what the caller's microphone sent (left) and what its
// ear heard (right), both on the caller's clock. A frame that starts at caller time t lands at
// sample (t - origin) x 16 kHz of its channel, so the two channels are sample-aligned; a sample no
// frame landed on is silence. Storage grows one second at a time as frames arrive and stops at
// `max_samples`: later samples are dropped and the tape says it was truncated.
//
// Made, filled and closed on the call's thread, then handed over whole (never shared while filled).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "agent/media/frame.h"

namespace callsim::harness {

// The longest recording kept of one call: 10 minutes (38.4 MB of stereo 16-bit at 16 kHz).
inline constexpr double kMaxRecordingSeconds = 600;

class AudioTape {
 public:
  static constexpr int kChannels = 2;                    // 0: microphone, 1: ear
  static constexpr int kRateHz = agent::kSampleRateHz;   // the caller's audio rate
  static constexpr int64_t kChunkSamples = kRateHz;       // storage grows a second at a time

  // Sample 0 is caller time `origin_us` (the call's start); at most `max_samples` per channel.
  AudioTape(int64_t origin_us, int64_t max_samples);

  // The frame the microphone sent, starting at caller time `frame_start_us`.
  void Mic(const agent::Frame& frame, int64_t frame_start_us) { Put(0, frame, frame_start_us); }
  // The frame the ear was given, starting at caller time `frame_start_us`.
  void Ear(const agent::Frame& frame, int64_t frame_start_us) { Put(1, frame, frame_start_us); }

  // The call ended at `end_us`: the tape is the call's length, (end - origin) in samples, or
  // max_samples if that is shorter (then truncated() is true). Frames after it are ignored.
  void Close(int64_t end_us);

  // Samples per channel: after Close the call's length (capped), before it the furthest written.
  int64_t length_samples() const { return length_samples_; }
  bool truncated() const { return truncated_; }
  int64_t max_samples() const { return max_samples_; }
  // Memory the samples hold (whole chunks).
  int64_t bytes_held() const;

  // Copies `count` stereo frames from sample `first` into `out` (2 x count values, interleaved
  // left, right), silence where nothing was written. [first, first + count) must lie within
  // length_samples().
  void Read(int64_t first, int64_t count, int16_t* out) const;

 private:
  void Put(int channel, const agent::Frame& frame, int64_t frame_start_us);
  int16_t* Chunk(int64_t index);

  struct FreeChunk {
    void operator()(int16_t* p) const { std::free(p); }
  };

  int64_t origin_us_;
  int64_t max_samples_;
  int64_t length_samples_ = 0;
  bool truncated_ = false;
  bool closed_ = false;
  // Chunk i holds samples [i x kChunkSamples, (i + 1) x kChunkSamples): the left channel's, then
  // the right's (so a frame is one contiguous copy); null: silence. calloc'd: memory fresh from
  // the system is not cleared twice.
  std::vector<std::unique_ptr<int16_t, FreeChunk>> chunks_;
};

// The sample of a tape whose sample 0 is at `origin_us` that time `t_us` falls on (floor; negative
// before the origin).
int64_t TapeSampleIndex(int64_t origin_us, int64_t t_us);

}  // namespace callsim::harness
