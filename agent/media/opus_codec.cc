#include "agent/media/opus_codec.h"

#include <opus.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/media/soxr_resampler.h"

namespace callsim::agent {
namespace {

constexpr int kMaxRateHz = 48000;
constexpr int kMaxRateFrameSamples = kMaxRateHz * kFrameMs / 1000;  // 960

// TOC byte (RFC 6716 3.1): configurations 0-11 are SILK-only, 12-15 hybrid, 16-31 CELT-only.
// Only SILK carries LBRR (in-band FEC).
bool IsCeltOnly(uint8_t toc) { return (toc >> 3) >= 16; }

struct EncoderDeleter {
  void operator()(OpusEncoder* e) const { opus_encoder_destroy(e); }
};
struct DecoderDeleter {
  void operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }
};

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool InRange(std::string* error, const char* field, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return true;
  return Fail(error, std::string("opus.") + field + " must be in " + std::to_string(lo) + ".." +
                         std::to_string(hi) + ", got " + std::to_string(value));
}

// Frames of a run of digital silence that the encoder still runs libopus on (40 ms).
constexpr int kEncodedSilentFrames = 2;

// A fresh encoder with the settings of `config` (nullptr when libopus refuses).
std::unique_ptr<OpusEncoder, EncoderDeleter> MakeEncoder(const OpusConfig& config) {
  int status = OPUS_OK;
  std::unique_ptr<OpusEncoder, EncoderDeleter> encoder(
      opus_encoder_create(config.sample_rate_hz, 1, OPUS_APPLICATION_VOIP, &status));
  if (encoder == nullptr || status != OPUS_OK) return nullptr;
  OpusEncoder* e = encoder.get();
  opus_encoder_ctl(e, OPUS_SET_BITRATE(config.bitrate_bps));
  opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(config.complexity));
  opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(config.fec ? 1 : 0));
  opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(config.expected_loss_pct));
  // The pipeline carries speech. Saying so keeps libopus in its SILK and hybrid modes, where
  // in-band FEC exists, even when its music detector would take tonal input (the word modem's)
  // for music and switch to CELT.
  opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  return encoder;
}

// The packet a fresh encoder with these settings makes of one frame of digital silence: what an
// OpusCodec sends for digital silence without running libopus. Made once per settings in the
// process (under a lock: workers share it); empty when libopus refuses the settings.
const std::vector<uint8_t>& SilencePacket(const OpusConfig& config) {
  static std::mutex mutex;
  static std::map<std::tuple<int, bool, int, int, int>, std::vector<uint8_t>> packets;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(config.sample_rate_hz, config.fec, config.expected_loss_pct,
                                   config.bitrate_bps, config.complexity);
  auto it = packets.find(key);
  if (it != packets.end()) return it->second;
  std::vector<uint8_t> packet;
  if (auto encoder = MakeEncoder(config)) {
    const std::vector<int16_t> zeros(static_cast<size_t>(config.sample_rate_hz * kFrameMs / 1000), 0);
    packet.resize(kMaxOpusFrameBytes);
    const opus_int32 bytes =
        opus_encode(encoder.get(), zeros.data(), static_cast<int>(zeros.size()), packet.data(),
                    static_cast<opus_int32>(packet.size()));
    packet.resize(bytes > 0 ? static_cast<size_t>(bytes) : 0);
  }
  return packets.emplace(key, std::move(packet)).first->second;
}

class OpusCodec final : public Codec {
 public:
  explicit OpusCodec(const OpusConfig& config)
      : config_(config),
        rate_frame_samples_(config.sample_rate_hz * kFrameMs / 1000),
        silence_packet_(SilencePacket(config)) {}

  CodecKind kind() const override { return CodecKind::kOpus; }
  uint8_t payload_type() const override { return kOpusPayloadType; }
  uint32_t clock_rate_hz() const override { return kOpusRtpClockHz; }

  void EncodeAppend(const Frame& frame, std::vector<uint8_t>* out) override {
    const size_t offset = out->size();
    if (!EnsureEncoder()) return;  // an empty payload: the receiver rejects it and conceals
    const int16_t* pcm = frame.samples.data();
    if (upsampler_ != nullptr) {
      upsampler_->Process(frame.samples, std::span(pcm_.data(), rate_frame_samples_));
      pcm = pcm_.data();
    }
    // The first silent frames are encoded: the first carries the tail of the speech before it
    // (libopus looks ahead, so each packet ends a few milliseconds into the next frame's input),
    // and over the next the encoder settles into silence, so that the speech after it starts
    // much as it would after a long silence (with only the first, the word modem's error rate
    // over Opus rose fourfold).
    silent_frames_ = IsDigitalSilence(frame) ? silent_frames_ + 1 : 0;
    if (silent_frames_ > kEncodedSilentFrames && !silence_packet_.empty()) {
      out->insert(out->end(), silence_packet_.begin(), silence_packet_.end());
      return;
    }
    out->resize(offset + kMaxOpusFrameBytes);  // no allocation after the first frame
    const opus_int32 bytes = opus_encode(encoder_.get(), pcm, rate_frame_samples_,
                                         out->data() + offset,
                                         static_cast<opus_int32>(kMaxOpusFrameBytes));
    out->resize(offset + (bytes > 0 ? static_cast<size_t>(bytes) : 0));
  }

  bool Decode(std::span<const uint8_t> payload, Frame* out) override {
    if (!IsOneFrame(payload) || !EnsureDecoder()) return false;
    silent_ = IsSilencePacket(payload);
    if (silent_) {
      std::fill_n(pcm_.begin(), rate_frame_samples_, int16_t{0});
    } else if (!RunDecoder(payload.data(), static_cast<opus_int32>(payload.size()), 0)) {
      return false;
    }
    last_was_celt_ = IsCeltOnly(payload[0]);
    Emit(out, /*concealed=*/false);
    return true;
  }

  void Conceal(Frame* out) override {
    if (silent_ && EnsureDecoder()) {  // a gap in silence is silence
      std::fill_n(pcm_.begin(), rate_frame_samples_, int16_t{0});
      Emit(out, /*concealed=*/true);
      return;
    }
    if (!EnsureDecoder() || !RunDecoder(nullptr, 0, 0)) {
      out->samples.fill(0);
      out->concealed = true;
      return;
    }
    Emit(out, /*concealed=*/true);
  }

  bool RecoverFromNext(std::span<const uint8_t> next_payload, Frame* out) override {
    // libopus would quietly conceal instead when the packet has no LBRR or the last frame was
    // CELT: refuse, so that a recovered frame always means real FEC audio.
    if (!config_.fec || !IsOneFrame(next_payload) || !OpusPacketHasFec(next_payload) ||
        last_was_celt_ || !EnsureDecoder()) {
      return false;
    }
    if (!RunDecoder(next_payload.data(), static_cast<opus_int32>(next_payload.size()), 1)) {
      return false;
    }
    Emit(out, /*concealed=*/false);
    return true;
  }

 private:
  bool IsOneFrame(std::span<const uint8_t> payload) const {
    if (payload.empty() || payload.size() > 2 * kMaxOpusFrameBytes + 4) return false;
    return opus_packet_get_nb_samples(payload.data(), static_cast<opus_int32>(payload.size()),
                                      config_.sample_rate_hz) == rate_frame_samples_;
  }

  bool EnsureEncoder() {
    if (encoder_ != nullptr) return true;
    encoder_ = MakeEncoder(config_);
    if (encoder_ == nullptr) return false;
    if (config_.sample_rate_hz != kSampleRateHz) {
      upsampler_ = SoxrResampler::Create(kSampleRateHz, config_.sample_rate_hz, kFrameSamples,
                                         SoxrQuality::kLowLatency, nullptr);
      if (upsampler_ == nullptr) {
        encoder_.reset();
        return false;
      }
    }
    return true;
  }

  bool EnsureDecoder() {
    if (decoder_ != nullptr) return true;
    int status = OPUS_OK;
    decoder_.reset(opus_decoder_create(config_.sample_rate_hz, 1, &status));
    if (decoder_ == nullptr || status != OPUS_OK) {
      decoder_.reset();
      return false;
    }
    if (config_.sample_rate_hz != kSampleRateHz) {
      downsampler_ = SoxrResampler::Create(config_.sample_rate_hz, kSampleRateHz,
                                           rate_frame_samples_, SoxrQuality::kLowLatency, nullptr);
      if (downsampler_ == nullptr) {
        decoder_.reset();
        return false;
      }
    }
    return true;
  }

  bool IsSilencePacket(std::span<const uint8_t> payload) const {
    return !silence_packet_.empty() && payload.size() == silence_packet_.size() &&
           std::memcmp(payload.data(), silence_packet_.data(), payload.size()) == 0;
  }

  // One 20 ms frame into pcm_ (data null: concealment). True when libopus made the whole frame.
  bool RunDecoder(const uint8_t* data, opus_int32 bytes, int decode_fec) {
    return opus_decode(decoder_.get(), data, bytes, pcm_.data(), rate_frame_samples_,
                       decode_fec) == rate_frame_samples_;
  }

  // Hands the frame in pcm_ out at 16 kHz. Every decoded, recovered and concealed frame passes
  // through here in order, so the downsampler sees one continuous signal.
  void Emit(Frame* out, bool concealed) {
    if (downsampler_ != nullptr) {
      downsampler_->Process(std::span(pcm_.data(), rate_frame_samples_), out->samples);
    } else {
      std::copy_n(pcm_.begin(), kFrameSamples, out->samples.begin());
    }
    out->concealed = concealed;
  }

  OpusConfig config_;
  int rate_frame_samples_;  // one 20 ms frame at the internal rate: 320 or 960
  std::unique_ptr<OpusEncoder, EncoderDeleter> encoder_;
  std::unique_ptr<OpusDecoder, DecoderDeleter> decoder_;
  std::unique_ptr<SoxrResampler> upsampler_;    // 16 kHz -> internal rate, before encoding
  std::unique_ptr<SoxrResampler> downsampler_;  // internal rate -> 16 kHz, after decoding
  std::array<int16_t, kMaxRateFrameSamples> pcm_{};  // one frame at the internal rate
  bool last_was_celt_ = false;  // the last frame decoded was CELT-only (no FEC can follow)
  const std::vector<uint8_t>& silence_packet_;  // SilencePacket(config_)
  bool silent_ = false;  // the last packet decoded was the silence packet
  int silent_frames_ = 0;  // consecutive frames of digital silence given to Encode
};

}  // namespace

bool ValidateOpusConfig(const OpusConfig& config, std::string* error) {
  if (config.sample_rate_hz != 16000 && config.sample_rate_hz != 48000) {
    return Fail(error, "opus.sample_rate_hz must be 16000 or 48000, got " +
                           std::to_string(config.sample_rate_hz));
  }
  return InRange(error, "expected_loss_pct", config.expected_loss_pct, 0, 100) &&
         InRange(error, "bitrate_bps", config.bitrate_bps, 6000, 510000) &&
         InRange(error, "complexity", config.complexity, 0, 10);
}

std::unique_ptr<Codec> MakeOpusCodec(const OpusConfig& config, std::string* error) {
  if (!ValidateOpusConfig(config, error)) return nullptr;
  return std::make_unique<OpusCodec>(config);
}

bool OpusPacketHasFec(std::span<const uint8_t> payload) {
  if (payload.empty() || IsCeltOnly(payload[0])) return false;
  const auto bytes = static_cast<opus_int32>(payload.size());
  if (opus_packet_get_nb_samples(payload.data(), bytes, kMaxRateHz) != kMaxRateFrameSamples) {
    return false;
  }
  const unsigned char* frames[48];
  opus_int16 sizes[48];
  if (opus_packet_parse(payload.data(), bytes, nullptr, frames, sizes, nullptr) <= 0 ||
      sizes[0] <= 0) {
    return false;
  }
  // The SILK layer opens with range-coded flags of probability 1/2, which are the first byte's top
  // bits: one VAD flag per 20 ms SILK frame (here one), then the LBRR flag; in stereo the side
  // channel's VAD and LBRR flags follow (RFC 6716 4.2.3).
  const bool mid = ((frames[0][0] >> 6) & 1) != 0;
  const bool side = opus_packet_get_nb_channels(payload.data()) == 2 && ((frames[0][0] >> 4) & 1);
  return mid || side;
}

}  // namespace callsim::agent
