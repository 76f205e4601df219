// Checks the header of a recording a scenario refers to (speech a caller plays, file noise) when
// the scenario loads, so a bad file is an input error at its reference in the scenario, not a
// failed run. The caller's decoder opens files through the same function, so what the loader
// accepts is what a run can read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

typedef struct sf_private_tag SNDFILE;  // as declared by <sndfile.h>

namespace callsim::harness {

// Bounds on a recording: a short header can claim hours of 8-channel audio, and the decoder
// holds a file whole in memory.
inline constexpr int kMinAudioRateHz = 1000;
inline constexpr int kMaxAudioRateHz = 384'000;
inline constexpr int kMaxAudioChannels = 8;
inline constexpr int64_t kMaxAudioFileBytes = 256LL << 20;
inline constexpr int64_t kMaxAudioSamples = 64LL << 20;  // frames x channels, decoded
// Speech a caller plays is a turn, not a recording of a whole call; noise loops.
inline constexpr double kMaxSpeechFileSeconds = 300;
inline constexpr double kMaxNoiseFileSeconds = 600;

struct AudioFileCloser {
  void operator()(SNDFILE* file) const;
};
using AudioFile = std::unique_ptr<SNDFILE, AudioFileCloser>;

struct AudioHeader {
  int64_t frames = 0;
  int channels = 0;
  int sample_rate_hz = 0;
};

// Opens the regular file at `path` with libsndfile (a stat first: never blocks on a FIFO) and
// checks its header: a format libsndfile reads, matching the name (.wav: WAV, WAVEX or RF64;
// .flac: FLAC; other names any format), 1 to kMaxAudioChannels channels, a sample rate in
// [kMinAudioRateHz, kMaxAudioRateHz], at least one frame, at most `max_seconds`,
// kMaxAudioFileBytes on disk and kMaxAudioSamples decoded. Returns the open file, or null with
// *error saying what is wrong without the path ("cannot open: no such file", "no audio (0
// frames, ...)", "longer than 300 s").
AudioFile OpenAudioFile(const std::string& path, double max_seconds, AudioHeader* header,
                        std::string* error);

}  // namespace callsim::harness
