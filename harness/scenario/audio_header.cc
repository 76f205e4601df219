#include "harness/scenario/audio_header.h"

#include <sndfile.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "agent/runtime/input_file.h"

namespace callsim::harness {
namespace {

std::string LowercaseExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

// "" when libsndfile's major format fits the file name's extension.
std::string FormatProblem(const std::string& path, int format) {
  const std::string ext = LowercaseExtension(path);
  const int major = format & SF_FORMAT_TYPEMASK;
  SF_FORMAT_INFO info{};
  info.format = major;
  const std::string name = sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) == 0 &&
                                   info.name != nullptr
                               ? info.name
                               : "another format";
  if (ext == ".wav" && major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX &&
      major != SF_FORMAT_RF64) {
    return "not a WAV file (it reads as " + name + ")";
  }
  if (ext == ".flac" && major != SF_FORMAT_FLAC) {
    return "not a FLAC file (it reads as " + name + ")";
  }
  return "";
}

std::string HeaderProblem(const SF_INFO& info, double max_seconds) {
  if (info.channels < 1 || info.channels > kMaxAudioChannels || info.samplerate < kMinAudioRateHz ||
      info.samplerate > kMaxAudioRateHz || info.frames < 1) {
    return "no audio (" + std::to_string(info.frames) + " frames, " +
           std::to_string(info.channels) + " channels, " + std::to_string(info.samplerate) +
           " Hz; expected at least 1 frame, 1 to " + std::to_string(kMaxAudioChannels) +
           " channels, " + std::to_string(kMinAudioRateHz) + " to " +
           std::to_string(kMaxAudioRateHz) + " Hz)";
  }
  if (static_cast<double>(info.frames) / info.samplerate > max_seconds) {
    return "longer than " + std::to_string(static_cast<int>(max_seconds)) + " s";
  }
  if (info.frames > kMaxAudioSamples / info.channels) {
    return "more than " + std::to_string(kMaxAudioSamples) + " samples (frames x channels)";
  }
  return "";
}

}  // namespace

void AudioFileCloser::operator()(SNDFILE* file) const { sf_close(file); }

AudioFile OpenAudioFile(const std::string& path, double max_seconds, AudioHeader* header,
                        std::string* error) {
  // stat before opening: libsndfile would wait forever on a FIFO with no writer.
  const std::string problem = agent::RegularFileProblem(path);
  if (!problem.empty()) {
    *error = "cannot open: " + problem;
    return nullptr;
  }
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > static_cast<uintmax_t>(kMaxAudioFileBytes)) {
    *error = "larger than " + std::to_string(kMaxAudioFileBytes) + " bytes";
    return nullptr;
  }
  SF_INFO info{};
  AudioFile file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    *error = std::string("cannot open: ") + sf_strerror(nullptr);
    return nullptr;
  }
  std::string wrong = FormatProblem(path, info.format);
  if (wrong.empty()) wrong = HeaderProblem(info, max_seconds);
  if (!wrong.empty()) {
    *error = std::move(wrong);
    return nullptr;
  }
  *header = AudioHeader{info.frames, info.channels, info.samplerate};
  return file;
}

}  // namespace callsim::harness
