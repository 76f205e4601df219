// Recorded caller speech for `play_file` turns: a WAV, FLAC or any other file libsndfile reads,
// decoded once, mixed down to mono and resampled to the pipeline's 16 kHz, kept at its own level.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/scenario/audio_header.h"  // kMaxSpeechFileSeconds

namespace callsim::harness {

struct SpeechClip {
  std::vector<int16_t> samples;  // 16 kHz mono, at least one sample
  int source_rate_hz = 0;
  int source_channels = 0;
};

// Decodes `path`: channels averaged, resampled with libsoxr, clipped to 16 bits. nullptr with
// *error set (naming the file) when it cannot be opened or decoded, is empty, or is longer than
// kMaxSpeechFileSeconds.
std::shared_ptr<const SpeechClip> DecodeSpeechFile(const std::string& path, std::string* error);

// DecodeSpeechFile through a process-wide cache: a path is decoded once while any caller still
// holds its clip, so a thousand callers playing one file share one copy. Errors are not cached.
std::shared_ptr<const SpeechClip> LoadSpeechFile(const std::string& path, std::string* error);

}  // namespace callsim::harness
