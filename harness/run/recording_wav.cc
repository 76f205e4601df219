#include "harness/run/recording_wav.h"

#include <sndfile.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

namespace callsim::harness {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

std::string TruncationNote(const AudioTape& tape) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "callsim: recording stopped at %g s (the bound per call)",
                static_cast<double>(tape.max_samples()) / AudioTape::kRateHz);
  return buf;
}

}  // namespace

bool WriteRecordingWav(const AudioTape& tape, const std::string& path, std::string* error) {
  SF_INFO info{};
  info.samplerate = AudioTape::kRateHz;
  info.channels = AudioTape::kChannels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) {
    *error = sf_strerror(nullptr);
    return false;
  }
  if (tape.truncated()) {
    const std::string note = TruncationNote(tape);
    sf_set_string(file.get(), SF_STR_COMMENT, note.c_str());
  }
  std::vector<int16_t> block(static_cast<size_t>(AudioTape::kChunkSamples * AudioTape::kChannels));
  for (int64_t at = 0; at < tape.length_samples(); at += AudioTape::kChunkSamples) {
    const int64_t n = std::min(AudioTape::kChunkSamples, tape.length_samples() - at);
    tape.Read(at, n, block.data());
    if (sf_writef_short(file.get(), block.data(), n) != n) {
      *error = std::string("short write: ") + sf_strerror(file.get());
      return false;
    }
  }
  if (sf_close(file.release()) != 0) {
    *error = "cannot close the file";
    return false;
  }
  return true;
}

}  // namespace callsim::harness
