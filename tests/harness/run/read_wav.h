// Reads a WAV file back with libsndfile, independently of the code that wrote it, for the tests of
// `--record`.
#pragma once

#include <sndfile.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace callsim::harness::testing {

struct WavContents {
  bool opened = false;
  int channels = 0;
  int rate_hz = 0;
  int format = 0;
  int64_t frames = 0;
  std::vector<int16_t> samples;  // interleaved
  std::string comment;

  int16_t At(int64_t frame, int channel) const {
    return samples[static_cast<size_t>(frame * channels + channel)];
  }
};

inline WavContents ReadWav(const std::string& path) {
  WavContents w;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return w;
  w.opened = true;
  w.channels = info.channels;
  w.rate_hz = info.samplerate;
  w.format = info.format;
  w.frames = info.frames;
  w.samples.resize(static_cast<size_t>(info.frames * info.channels));
  sf_readf_short(f, w.samples.data(), info.frames);
  if (const char* c = sf_get_string(f, SF_STR_COMMENT)) w.comment = c;
  sf_close(f);
  return w;
}

inline std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace callsim::harness::testing
