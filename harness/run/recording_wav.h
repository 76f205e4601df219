// Writes a closed AudioTape as a WAV file: two channels (left: the caller's microphone, right: its
// ear), 16-bit PCM at the tape's rate, exactly length_samples() frames. The bytes depend only on
// the tape: the same call gives the same file. A truncated tape says so in the file's comment
// (a LIST/INFO chunk). libsndfile does the writing.
#pragma once

#include <string>

#include "harness/caller/audio_tape.h"

namespace callsim::harness {

// Writes `tape` to `path` (replacing a file there). False with *error (libsndfile's words, or
// "short write") when it cannot; the file may then be partial, and is the caller's to remove.
bool WriteRecordingWav(const AudioTape& tape, const std::string& path, std::string* error);

}  // namespace callsim::harness
