// A scratch folder under the system temp directory for scenario tests, removed at the end of the
// test. Named after the test and the process id so parallel test processes do not collide.
#pragma once

#include <sndfile.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace callsim::harness::testing {

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("callsim_scenario_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes a short recording (0.1 s of a 440 Hz tone, 16-bit, 16 kHz mono) to `relative`: WAV,
  // or FLAC when the name ends in .flac in any case. Returns the full path.
  std::string WriteAudio(const std::string& relative) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::string ext = file.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    SF_INFO info{};
    info.samplerate = 16000;
    info.channels = 1;
    info.format = (ext == ".flac" ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | SF_FORMAT_PCM_16;
    SNDFILE* out = sf_open(file.c_str(), SFM_WRITE, &info);
    EXPECT_NE(out, nullptr) << sf_strerror(nullptr);
    if (out == nullptr) return file.string();
    std::vector<short> samples(1600);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i] = static_cast<short>(8000 * std::sin(2 * 3.14159265 * 440 * i / 16000.0));
    }
    EXPECT_EQ(sf_writef_short(out, samples.data(), 1600), 1600);
    sf_close(out);
    return file.string();
  }

  // Writes `text` to `relative` inside the folder, creating folders; returns the full path.
  std::string Write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace callsim::harness::testing
