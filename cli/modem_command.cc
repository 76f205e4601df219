#include "cli/modem_command.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/g711.h"
#include "agent/media/soxr_resampler.h"
#include "fakes/modem/word_modem.h"
#include "harness/caller/audio_file.h"

namespace callsim::cli {
namespace {

constexpr int kExitInvalid = 2;
constexpr double kMaxSeconds = 600;

std::string FormatOf(const ModemFlags& f) {
  if (!f.format.empty()) return f.format;
  const auto ends = [&](const char* ext) {
    const std::string e = ext;
    return f.path.size() >= e.size() && f.path.compare(f.path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".raw") || ends(".pcm") || ends(".s16le")) return "s16le";
  if (ends(".ulaw") || ends(".mulaw") || ends(".mu")) return "mulaw";
  return "wav";
}

bool CheckFlags(const ModemFlags& f, const std::string& format) {
  if (format != "wav" && format != "s16le" && format != "mulaw") {
    std::cerr << "callsim modem: --format must be wav, s16le or mulaw\n";
    return false;
  }
  if (f.rate_hz < 8000 || f.rate_hz > 48000 || f.rate_hz % 50 != 0) {
    std::cerr << "callsim modem: --rate must be 8000 to 48000 Hz, a whole number of samples in "
                 "20 ms\n";
    return false;
  }
  return true;
}

// `in` (at `from` Hz) at `to` Hz, through the same fixed-block resampler the pipeline uses; the
// resampler's start-up delay is dropped and its tail flushed, so the output lines up with the input.
bool Resample(const std::vector<int16_t>& in, int from, int to, std::vector<int16_t>* out) {
  if (from == to) {
    *out = in;
    return true;
  }
  std::string error;
  auto resampler =
      agent::SoxrResampler::Create(from, to, from / 50, agent::SoxrQuality::kHigh, &error);
  if (!resampler) {
    std::cerr << "callsim modem: cannot resample " << from << " Hz to " << to << " Hz: " << error
              << "\n";
    return false;
  }
  const size_t in_block = resampler->in_block_samples();
  const size_t out_block = resampler->out_block_samples();
  const size_t latency = resampler->latency_samples();
  const size_t wanted = in.size() * static_cast<size_t>(to) / static_cast<size_t>(from);
  std::vector<int16_t> block(in_block);
  std::vector<int16_t> produced(out_block);
  out->clear();
  for (size_t at = 0; out->size() < wanted + latency; at += in_block) {
    std::fill(block.begin(), block.end(), 0);
    if (at < in.size()) {
      std::copy(in.begin() + at, in.begin() + std::min(in.size(), at + in_block), block.begin());
    }
    resampler->Process(block, produced);
    out->insert(out->end(), produced.begin(), produced.end());
  }
  out->erase(out->begin(), out->begin() + latency);
  out->resize(wanted);
  return true;
}

void PutLe(std::string* out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

int ModemSay(const ModemFlags& f) {
  const std::string format = FormatOf(f);
  if (!CheckFlags(f, format)) return kExitInvalid;
  const fakes::ModemAudio audio = fakes::EncodeSpeech(f.text, fakes::VoiceProfile{}, nullptr);
  if (audio.words.empty()) {
    std::cerr << "callsim modem say: no words in the text\n";
    return kExitInvalid;
  }
  std::vector<int16_t> samples;
  if (!Resample(audio.samples, agent::kSampleRateHz, f.rate_hz, &samples)) return kExitInvalid;
  std::string bytes;
  if (format == "mulaw") {
    for (int16_t s : samples) bytes.push_back(static_cast<char>(agent::LinearToMulaw(s)));
  } else {
    for (int16_t s : samples) PutLe(&bytes, static_cast<uint16_t>(s), 2);
  }
  std::string out;
  if (format == "wav") {
    out = "RIFF";
    PutLe(&out, static_cast<uint32_t>(36 + bytes.size()), 4);
    out += "WAVEfmt ";
    PutLe(&out, 16, 4);
    PutLe(&out, 1, 2);
    PutLe(&out, 1, 2);
    PutLe(&out, static_cast<uint32_t>(f.rate_hz), 4);
    PutLe(&out, static_cast<uint32_t>(f.rate_hz * 2), 4);
    PutLe(&out, 2, 2);
    PutLe(&out, 16, 2);
    out += "data";
    PutLe(&out, static_cast<uint32_t>(bytes.size()), 4);
  }
  out += bytes;
  std::ofstream file(f.path, std::ios::binary | std::ios::trunc);
  if (!file || !file.write(out.data(), static_cast<std::streamsize>(out.size()))) {
    std::cerr << "callsim modem say: cannot write " << f.path << "\n";
    return kExitInvalid;
  }
  std::cerr << "callsim modem say: " << audio.words.size() << " words, "
            << samples.size() * 1000 / static_cast<size_t>(f.rate_hz) << " ms at " << f.rate_hz
            << " Hz " << format << " to " << f.path << "\n";
  return 0;
}

int ModemHear(const ModemFlags& f) {
  const std::string format = FormatOf(f);
  if (!CheckFlags(f, format)) return kExitInvalid;
  std::vector<int16_t> samples;
  if (format == "wav") {
    harness::DecodedAudio decoded;
    std::string error;
    if (!harness::DecodeAudioFile(f.path, kMaxSeconds, &decoded, &error)) {
      std::cerr << "callsim modem hear: " << f.path << ": " << error << "\n";
      return kExitInvalid;
    }
    for (float v : decoded.samples) {
      samples.push_back(static_cast<int16_t>(std::lround(std::clamp(v, -1.0f, 1.0f) * 32767.0f)));
    }
  } else {
    std::ifstream file(f.path, std::ios::binary);
    std::istream& in = f.path == "-" ? std::cin : file;
    if (f.path != "-" && !file) {
      std::cerr << "callsim modem hear: cannot read " << f.path << "\n";
      return kExitInvalid;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() > static_cast<size_t>(kMaxSeconds * f.rate_hz * 2)) {
      std::cerr << "callsim modem hear: longer than " << kMaxSeconds << " s\n";
      return kExitInvalid;
    }
    std::vector<int16_t> raw;
    if (format == "mulaw") {
      for (char c : bytes) raw.push_back(agent::MulawToLinear(static_cast<uint8_t>(c)));
    } else {
      for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
        raw.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[i]) |
                                           (static_cast<uint8_t>(bytes[i + 1]) << 8)));
      }
    }
    if (!Resample(raw, f.rate_hz, agent::kSampleRateHz, &samples)) return kExitInvalid;
  }
  fakes::ModemDecoder decoder;
  samples.resize((samples.size() + agent::kFrameSamples - 1) / agent::kFrameSamples *
                     agent::kFrameSamples + agent::kFrameSamples * 10);  // a trailing pause
  agent::Frame frame;
  for (size_t at = 0; at < samples.size(); at += agent::kFrameSamples) {
    std::copy(samples.begin() + at, samples.begin() + at + agent::kFrameSamples,
              frame.samples.begin());
    decoder.Push(frame);
  }
  decoder.Flush();
  std::string line;
  int failed = 0;
  const std::vector<fakes::DecodedWord> words = decoder.TakeWords();
  for (const fakes::DecodedWord& w : words) {
    if (!line.empty()) line.push_back(' ');
    line += w.word;
    failed += w.checksum_ok ? 0 : 1;
  }
  std::cout << line << "\n";
  std::cerr << "callsim modem hear: " << words.size() << " bursts, " << failed
            << " failed their checksum\n";
  return 0;
}

}  // namespace callsim::cli
