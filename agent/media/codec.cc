#include "agent/media/codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "agent/media/g711.h"
#include "agent/media/opus_codec.h"
#include "agent/media/resampler.h"

namespace callsim::agent {
namespace {

constexpr uint8_t kPayloadTypePcmu = 0;
constexpr uint8_t kPayloadTypeL16 = 96;
constexpr size_t kL16PayloadBytes = kFrameSamples * 2;
constexpr size_t kPcmuPayloadBytes = kNarrowbandFrameSamples;

// Packet-loss concealment by fading repetition: the last good frame again at 0.7, then halving
// each frame, then silence. Repeating longer than ~60 ms sounds worse than a gap (a buzz), and the
// fade keeps the repetition from being mistaken for speech by VAD.
constexpr std::array<int32_t, 3> kConcealGainsQ15 = {22938, 11469, 5734};  // 0.7, 0.35, 0.175

// The gain for the `run`-th consecutive concealed frame (1-based); 0 once the fade is over.
int32_t ConcealGainQ15(int run) {
  return run <= static_cast<int>(kConcealGainsQ15.size()) ? kConcealGainsQ15[run - 1] : 0;
}

template <size_t N>
void Scale(const std::array<int16_t, N>& in, int32_t gain_q15, std::span<int16_t, N> out) {
  // |gain| < 1, so the result always fits in int16.
  for (size_t i = 0; i < N; ++i)
    out[i] = static_cast<int16_t>((in[i] * gain_q15 + (1 << 14)) >> 15);
}

// Linear 16-bit PCM at 16 kHz, big-endian on the wire (RFC 3551 L16): lossless.
class L16Codec final : public Codec {
 public:
  CodecKind kind() const override { return CodecKind::kL16; }
  uint8_t payload_type() const override { return kPayloadTypeL16; }
  uint32_t clock_rate_hz() const override { return kSampleRateHz; }

  // Network byte order, a 16-bit swap per sample (written so the compiler vectorizes it).
  static_assert(std::endian::native == std::endian::little, "L16 swaps bytes on little-endian hosts");
  void EncodeAppend(const Frame& frame, std::vector<uint8_t>* out) override {
    const size_t offset = out->size();
    out->resize(offset + kL16PayloadBytes);
    std::array<uint16_t, kFrameSamples> swapped;
    for (int i = 0; i < kFrameSamples; ++i) {
      const auto sample = static_cast<uint16_t>(frame.samples[i]);
      swapped[i] = static_cast<uint16_t>((sample << 8) | (sample >> 8));
    }
    std::memcpy(out->data() + offset, swapped.data(), kL16PayloadBytes);
  }

  bool Decode(std::span<const uint8_t> payload, Frame* out) override {
    if (payload.size() != kL16PayloadBytes) return false;
    std::array<uint16_t, kFrameSamples> swapped;
    std::memcpy(swapped.data(), payload.data(), kL16PayloadBytes);
    for (int i = 0; i < kFrameSamples; ++i) {
      last_[i] = static_cast<int16_t>(static_cast<uint16_t>((swapped[i] << 8) | (swapped[i] >> 8)));
    }
    out->samples = last_;
    out->concealed = false;
    conceal_run_ = 0;
    return true;
  }

  void Conceal(Frame* out) override {
    ++conceal_run_;
    Scale(last_, ConcealGainQ15(conceal_run_), std::span(out->samples));
    out->concealed = true;
  }

 private:
  std::array<int16_t, kFrameSamples> last_{};  // the last decoded frame (silence before any)
  int conceal_run_ = 0;                        // consecutive concealed frames so far
};

// G.711 mu-law at 8 kHz. Concealment works on the 8 kHz signal and goes through the interpolator,
// so the upsampling filter stays continuous across lost frames.
class PcmuCodec final : public Codec {
 public:
  CodecKind kind() const override { return CodecKind::kPcmu; }
  uint8_t payload_type() const override { return kPayloadTypePcmu; }
  uint32_t clock_rate_hz() const override { return kNarrowbandRateHz; }

  void EncodeAppend(const Frame& frame, std::vector<uint8_t>* out) override {
    std::array<int16_t, kNarrowbandFrameSamples> narrow;
    decimator_.Process(frame.samples, narrow);
    const size_t offset = out->size();
    out->resize(offset + kPcmuPayloadBytes);
    std::transform(narrow.begin(), narrow.end(), out->begin() + static_cast<ptrdiff_t>(offset),
                   LinearToMulaw);
  }

  bool Decode(std::span<const uint8_t> payload, Frame* out) override {
    if (payload.size() != kPcmuPayloadBytes) return false;
    std::transform(payload.begin(), payload.end(), last_.begin(), MulawToLinear);
    interpolator_.Process(last_, out->samples);
    out->concealed = false;
    conceal_run_ = 0;
    return true;
  }

  void Conceal(Frame* out) override {
    ++conceal_run_;
    std::array<int16_t, kNarrowbandFrameSamples> narrow;
    Scale(last_, ConcealGainQ15(conceal_run_), std::span(narrow));
    interpolator_.Process(narrow, out->samples);
    out->concealed = true;
  }

 private:
  Decimator decimator_;                                  // encoder state
  Interpolator interpolator_;                            // decoder state
  std::array<int16_t, kNarrowbandFrameSamples> last_{};  // the last decoded 8 kHz frame
  int conceal_run_ = 0;
};

}  // namespace

bool ValidateCodecOptions(CodecKind kind, const CodecOptions& options, std::string* error) {
  return kind != CodecKind::kOpus || ValidateOpusConfig(options.opus, error);
}

std::unique_ptr<Codec> MakeCodec(CodecKind kind) { return MakeCodec(kind, CodecOptions{}); }

std::unique_ptr<Codec> MakeCodec(CodecKind kind, const CodecOptions& options) {
  switch (kind) {
    case CodecKind::kL16:
      return std::make_unique<L16Codec>();
    case CodecKind::kPcmu:
      return std::make_unique<PcmuCodec>();
    case CodecKind::kOpus:
      return MakeOpusCodec(options.opus, nullptr);
  }
  return nullptr;
}

}  // namespace callsim::agent
