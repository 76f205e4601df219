#include "agent/providers/wire/openai_tts.h"

#include <algorithm>
#include <vector>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "agent/media/frame.h"
#include "agent/media/soxr_resampler.h"
#include "agent/providers/wire/http_error.h"

namespace callsim::agent::wire {
namespace {

// 10 minutes of 24 kHz 16-bit audio.
constexpr size_t kMaxAudioBytes = size_t{kOpenAiPcmRateHz} * 2 * 600;
constexpr int kInBlock = kOpenAiPcmRateHz * kFrameMs / 1000;  // 480 samples: 20 ms at 24 kHz

bool IsBlank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
}

class TtsStreamState : public std::enable_shared_from_this<TtsStreamState> {
 public:
  friend HttpHandlers WeakHandlers<TtsStreamState>(const std::shared_ptr<TtsStreamState>& target);

  TtsStreamState(TtsListener listener, std::shared_ptr<OpenAiTtsStats> stats)
      : listener_(std::move(listener)), stats_(std::move(stats)) {}

  void SetCall(std::unique_ptr<HttpCall> call) { call_ = std::move(call); }

  HttpHandlers Handlers() { return WeakHandlers(shared_from_this()); }

  void Cancel() {
    if (closed_) return;
    closed_ = true;
    if (call_ && !ended_) call_->Cancel();
  }

  void Fail(const std::string& error) {
    if (!Live()) return;
    ended_ = true;
    if (call_) call_->Cancel();
    ++stats_->errors;
    if (listener_.on_error) listener_.on_error(error);
  }

  void Done() {
    if (!Live()) return;
    ended_ = true;
    if (listener_.on_done) listener_.on_done();
  }

 private:
  bool Live() const { return !ended_ && !closed_; }

  void OnHead(const HttpHead& head) {
    head_ = head;
    failed_status_ = head.status < 200 || head.status >= 300;
    const std::string type = head.Find("content-type");
    json_instead_of_audio_ = !failed_status_ && type.rfind("application/json", 0) == 0;
    if (failed_status_ || json_instead_of_audio_) return;
    std::string error;
    resampler_ = SoxrResampler::Create(kOpenAiPcmRateHz, kSampleRateHz, kInBlock,
                                       SoxrQuality::kLowLatency, &error);
    if (!resampler_) {
      Fail(error);
      return;
    }
    skip_ = resampler_->latency_samples();
    block_.reserve(kInBlock);
  }

  void OnBody(std::string_view piece) {
    if (!Live()) return;
    if (failed_status_ || json_instead_of_audio_) {
      const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
      error_body_.append(piece.substr(0, room));
      return;
    }
    for (const char byte : piece) {
      if (!has_low_byte_) {
        low_byte_ = static_cast<unsigned char>(byte);
        has_low_byte_ = true;
        continue;
      }
      has_low_byte_ = false;
      const auto sample = static_cast<int16_t>(
          static_cast<uint16_t>(low_byte_ | (static_cast<unsigned char>(byte) << 8)));
      block_.push_back(sample);
      ++input_samples_;
      if (block_.size() == static_cast<size_t>(kInBlock)) {
        Resample();
        if (!Emit(false)) return;
      }
    }
  }

  void OnEnd() {
    if (!Live()) return;
    if (failed_status_) {
      Fail(HttpErrorMessage(head_.status, head_.reason, head_.headers, error_body_));
      return;
    }
    if (json_instead_of_audio_) {
      Fail("HTTP " + std::to_string(head_.status) + " with a JSON body instead of audio: " +
           ErrorMessageFromBody(error_body_));
      return;
    }
    Flush();
  }

  void OnError(const std::string& error) {
    if (!Live()) return;
    if (head_.status == 0) {
      Fail(error);
    } else if (failed_status_) {
      Fail(HttpErrorMessage(head_.status, head_.reason, head_.headers, error_body_));
    } else {
      Fail("audio ended early: " + error);
    }
  }

  // One block of 24 kHz input through the resampler; its output (after the start-up delay) goes
  // to out_.
  void Resample() {
    int16_t out[kFrameSamples];
    resampler_->Process(block_, std::span<int16_t>(out, kFrameSamples));
    block_.clear();
    int from = 0;
    if (skip_ > 0) {
      from = std::min(skip_, kFrameSamples);
      skip_ -= from;
    }
    out_.insert(out_.end(), out + from, out + kFrameSamples);
    produced_ += kFrameSamples - from;
  }

  // Delivers every whole frame in out_ (at the end, the rest zero-padded). False when the
  // stream ended or was cancelled from inside a callback.
  bool Emit(bool at_end) {
    size_t at = 0;
    while (out_.size() - at >= static_cast<size_t>(kFrameSamples) ||
           (at_end && at < out_.size())) {
      Frame frame;
      const size_t take = std::min(out_.size() - at, static_cast<size_t>(kFrameSamples));
      std::copy_n(out_.begin() + at, take, frame.samples.begin());
      at += take;
      ++stats_->frames;
      if (listener_.on_audio) listener_.on_audio(TtsFrame::Held(frame));
      if (!Live()) return false;
    }
    out_.erase(out_.begin(), out_.begin() + at);
    return true;
  }

  // The end of the audio: the last partial block padded with silence, then silence fed until the
  // resampler has given every output sample the input stands for.
  void Flush() {
    if (!resampler_) {
      Done();
      return;
    }
    const int64_t expected = (input_samples_ * kSampleRateHz + kOpenAiPcmRateHz - 1) /
                             kOpenAiPcmRateHz;
    if (!block_.empty()) {
      block_.resize(kInBlock, 0);
      Resample();
    }
    // The resampler owes at most its start-up delay plus a block; a few blocks more is a bound.
    const int max_blocks = resampler_->latency_samples() / kFrameSamples + 4;
    for (int i = 0; i < max_blocks && produced_ < expected; ++i) {
      block_.assign(kInBlock, 0);
      Resample();
    }
    const int64_t extra = produced_ - expected;
    if (extra > 0) out_.resize(out_.size() - static_cast<size_t>(std::min<int64_t>(extra, out_.size())));
    if (!Emit(true)) return;
    Done();
  }

  TtsListener listener_;
  std::shared_ptr<OpenAiTtsStats> stats_;
  std::unique_ptr<HttpCall> call_;
  HttpHead head_;
  bool failed_status_ = false;
  bool json_instead_of_audio_ = false;
  std::string error_body_;
  std::unique_ptr<SoxrResampler> resampler_;
  int skip_ = 0;  // resampler output still to drop (its start-up delay)
  std::vector<int16_t> block_;  // 24 kHz input waiting for a whole block
  std::vector<int16_t> out_;    // 16 kHz output waiting for a whole frame
  int64_t input_samples_ = 0;
  int64_t produced_ = 0;  // 16 kHz samples put in out_ so far (after the skip)
  unsigned char low_byte_ = 0;
  bool has_low_byte_ = false;
  bool ended_ = false;
  bool closed_ = false;
};

class OpenAiTtsStream final : public TtsStream {
 public:
  explicit OpenAiTtsStream(std::shared_ptr<TtsStreamState> state) : state_(std::move(state)) {}
  ~OpenAiTtsStream() override { state_->Cancel(); }
  void Cancel() override { state_->Cancel(); }

 private:
  std::shared_ptr<TtsStreamState> state_;
};

}  // namespace

std::string ValidateConfig(const OpenAiTtsConfig& config) {
  std::string error =
      ValidateEndpoint("OpenAI TTS", config.endpoint, {"http", "https"}, nullptr, true);
  if (error.empty() && config.voice.empty()) error = "OpenAI TTS: no voice given";
  return error;
}

OpenAiTts::OpenAiTts(boost::asio::io_context& io, Scheduler& scheduler, OpenAiTtsConfig config)
    : io_(io),
      scheduler_(scheduler),
      config_(std::move(config)),
      config_error_(ValidateConfig(config_)),
      http_(io, PoolConfigOf(config_.endpoint)) {
  if (config_error_.empty()) {
    ValidateEndpoint("OpenAI TTS", config_.endpoint, {"http", "https"}, &url_, true);
    url_.target = JoinPath(url_.target, "/audio/speech");
  }
}

OpenAiTts::~OpenAiTts() = default;

std::unique_ptr<TtsStream> OpenAiTts::Synthesize(const std::string& text, TtsListener listener) {
  ++stats_->streams;
  auto state = std::make_shared<TtsStreamState>(std::move(listener), stats_);
  std::weak_ptr<TtsStreamState> weak = state;
  if (!config_error_.empty()) {
    boost::asio::post(io_, [weak, error = config_error_] {
      if (auto self = weak.lock()) self->Fail(error);
    });
    return std::make_unique<OpenAiTtsStream>(std::move(state));
  }
  if (IsBlank(text)) {
    boost::asio::post(io_, [weak] {
      if (auto self = weak.lock()) self->Done();
    });
    return std::make_unique<OpenAiTtsStream>(std::move(state));
  }
  const nlohmann::json body = {{"model", config_.endpoint.model},
                               {"voice", config_.voice},
                               {"input", text},
                               {"response_format", "pcm"}};
  HttpRequest http = JsonPost(config_.endpoint, url_, stats_->streams, body, kMaxAudioBytes);
  state->SetCall(http_.Start(std::move(http), state->Handlers()));
  return std::make_unique<OpenAiTtsStream>(std::move(state));
}

}  // namespace callsim::agent::wire
