// Recorded speech and noise files (WAV, FLAC, anything libsndfile opens): any bytes decode to
// bounded 16 kHz mono audio or to an error. The bytes reach the decoder as a file, as in a run.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "harness/caller/audio_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("callsim-fuzz-audio", 0);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  constexpr double kMaxSeconds = 5;
  callsim::harness::DecodedAudio audio;
  std::string error;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (callsim::harness::DecodeAudioFile(path, kMaxSeconds, &audio, &error)) {
    if (audio.samples.size() > static_cast<size_t>(kMaxSeconds * 16000) + 16000) __builtin_trap();
    for (float s : audio.samples) {
      if (!std::isfinite(s)) __builtin_trap();
    }
  } else if (error.empty()) {
    __builtin_trap();
  }
  close(fd);
  return 0;
}
