#include "fakes/wire/deepgram_live.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>

#include "agent/media/g711.h"
#include "agent/media/soxr_resampler.h"
#include "agent/runtime/realtime_scheduler.h"
#include "fakes/faults/fault_spec.h"
#include "fakes/wire/provider_state.h"

namespace callsim::fakes::wire {
namespace {

using nlohmann::json;

constexpr const char* kModelVersion = "2026-01-01.0";
constexpr const char* kModelUuid = "ca11517e-0000-4000-8000-000000000001";
// A session's audio not yet made into a frame is at most one frame at the input rate; a message
// bigger than the server's bound is refused before it gets here.
constexpr double kSamplesPerSecond = agent::kSampleRateHz;

bool ParseInt(std::string_view text, int* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Deepgram's booleans: true/false (any case).
bool ParseBool(const std::string& text, bool* out) {
  std::string lower;
  for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "true") *out = true;
  else if (lower == "false") *out = false;
  else return false;
  return true;
}

std::string DeepgramError(std::string_view code, std::string_view message,
                          const std::string& request_id) {
  return json{{"err_code", code}, {"err_msg", message}, {"request_id", request_id}}.dump();
}

std::string Uuid(agent::Rng rng) {
  const uint64_t a = rng.NextU64();
  const uint64_t b = rng.NextU64();
  char out[37];
  std::snprintf(out, sizeof out, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(a >> 32),
                static_cast<unsigned long long>((a >> 16) & 0xFFFF),
                static_cast<unsigned long long>(a & 0xFFF),
                static_cast<unsigned long long>(0x8000 | ((b >> 48) & 0x3FFF)),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return out;
}

std::string IsoNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S.000Z", &utc);
  return out;
}

double Seconds(int64_t samples) { return static_cast<double>(samples) / kSamplesPerSecond; }

// Three decimals, as Deepgram writes times.
double Round3(double value) { return std::round(value * 1000.0) / 1000.0; }

// The words a client sees: clean modem bursts only.
std::vector<SttWord> Heard(const std::vector<SttWord>& words) {
  std::vector<SttWord> heard;
  for (const SttWord& w : words) {
    if (w.modem_checksum_ok) heard.push_back(w);
  }
  return heard;
}

agent::HttpRequest RequestOf(const agent::StreamIo& io) {
  agent::HttpRequest request;
  request.method = "GET";
  request.target = io.target;
  request.path = io.target.substr(0, io.target.find('?'));
  request.headers = io.headers;
  request.peer = io.peer;
  return request;
}

// A 20 ms frame louder than -40 dBFS (RMS) is sound; half a second of sound and not one word is
// audio the fake does not understand (real speech, say), which Metadata warns about.
constexpr int64_t kSoundEnergy = int64_t{328} * 328 * agent::kFrameSamples;
constexpr int kWarnAfterSoundFrames = 25;

// Why a stream ends, in Deepgram's words.
constexpr const char* kIdleClose = "NET-0001 no audio received within the timeout";

// One live transcription. Everything on the stream's worker.
class ListenSession final : public agent::StreamSession {
 public:
  ListenSession(std::shared_ptr<FakeProviders::State> state, agent::StreamIo io,
                ListenOptions options, agent::Rng rng)
      : state_(std::move(state)),
        io_(std::move(io)),
        options_(std::move(options)),
        rng_(rng),
        request_id_(Uuid(rng.Fork("id"))) {
    EVP_DigestInit_ex(digest_.get(), EVP_sha256(), nullptr);
    if (options_.sample_rate != agent::kSampleRateHz) {
      resampler_ = agent::SoxrResampler::Create(
          options_.sample_rate, agent::kSampleRateHz, options_.sample_rate * agent::kFrameMs / 1000,
          agent::SoxrQuality::kLowLatency, nullptr);
    }
    ModemSttConfig config = state_->config.stt;
    config.capacity = nullptr;
    stt_ = std::make_unique<ModemStt>(*io_.scheduler, rng.Fork("stt"), config);
    ModemSttWordsListener listener;
    listener.on_interim = [this](const std::vector<SttWord>& words) { OnInterim(words); };
    listener.on_final = [this](const std::vector<SttWord>& words) { OnFinal(words); };
    listener.on_error = [this](const std::string& error) { End("NET-0000 " + error); };
    session_ = stt_->OpenWords(std::move(listener));
    last_message_us_ = io_.scheduler->NowUs();  // the idle bound counts from the open
    ArmIdle();
    DecideFate();
  }

  ~ListenSession() override { Cancel(); }

  void OnBinary(std::string_view data) override {
    last_message_us_ = io_.scheduler->NowUs();
    if (ended_) return;
    EVP_DigestUpdate(digest_.get(), data.data(), data.size());
    if (options_.encoding == ListenEncoding::kMulaw) {
      for (char c : data) AddSample(agent::MulawToLinear(static_cast<uint8_t>(c)));
      return;
    }
    for (char c : data) {
      if (!odd_byte_) {
        odd_byte_ = static_cast<uint8_t>(c);
        continue;
      }
      const auto low = static_cast<uint16_t>(*odd_byte_);
      const auto high = static_cast<uint16_t>(static_cast<uint8_t>(c));
      odd_byte_.reset();
      AddSample(static_cast<int16_t>(low | (high << 8)));
    }
  }

  void OnText(std::string_view text) override {
    last_message_us_ = io_.scheduler->NowUs();
    const json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!message.is_object() || !message.contains("type") || !message.at("type").is_string()) {
      throw std::invalid_argument("a control message must be a JSON object with a type");
    }
    const std::string type = message.at("type").get<std::string>();
    if (ended_ || closing_) return;
    if (type == "KeepAlive") return;
    if (type == "Finalize") return RequestFinal(FinalKind::kFinalize);
    if (type == "CloseStream") {
      closing_ = true;
      if (!words_.empty() || finals_.empty()) RequestFinal(FinalKind::kClose);
      return;
    }
    // Deepgram ignores control messages it does not know.
  }

  void OnClosed(const std::string&) override { Cancel(); }

 private:
  enum class FinalKind { kEndpoint, kFinalize, kClose };

  struct DigestFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };

  // The session's fate under the STT's fault model, drawn once at the start: an error or an
  // outage ends it after the drawn delay; a timeout means no result ever comes; a drop cuts it
  // after 0..drop_max_results results.
  void DecideFate() {
    const FaultSpec& faults = state_->config.stt_faults;
    agent::Rng fault_rng = rng_.Fork("faults");
    const FaultDraw draw = DrawFault(faults, fault_rng, 0, faults.drop_max_results);
    const bool outage = InOutage(faults, io_.scheduler->NowUs());
    if (!outage && draw.kind == FaultKind::kNone) return;
    state_->listen.faults->Increment();
    if (!outage && draw.kind == FaultKind::kTimeout) {
      silent_ = true;
      return;
    }
    if (!outage && draw.kind == FaultKind::kDrop) {
      drop_after_ = draw.drop_after;
      return;
    }
    const std::string reason = outage ? "NET-0000 unavailable (outage)" : "NET-0000 injected error";
    fault_task_ = io_.scheduler->After(draw.error_delay_us, [this, reason] {
      fault_task_ = agent::kNoTask;
      End(reason);
    });
  }

  void AddSample(int16_t sample) {
    pending_.push_back(sample);
    const size_t block = resampler_ ? static_cast<size_t>(resampler_->in_block_samples())
                                    : static_cast<size_t>(agent::kFrameSamples);
    if (pending_.size() < block) return;
    agent::Frame frame;
    if (resampler_) {
      resampler_->Process(pending_, frame.samples);
    } else {
      std::copy(pending_.begin(), pending_.end(), frame.samples.begin());
    }
    pending_.clear();
    PushFrame(frame);
  }

  void PushFrame(const agent::Frame& frame) {
    session_->PushAudio(frame);
    if (ended_) return;
    int64_t energy = 0;
    for (int16_t v : frame.samples) energy += int64_t{v} * v;
    if (energy > kSoundEnergy) ++sound_frames_;
    const int64_t now = session_->samples_seen();
    const bool speaking = session_->in_speech();
    if (speaking && !utterance_open_) {
      // Once per utterance, as Deepgram's VAD sends it: the first speech after silence.
      utterance_open_ = true;
      if (options_.vad_events) {
        Send(json{{"type", "SpeechStarted"},
                  {"channel", json::array({0})},
                  {"timestamp", Round3(Seconds(now))}});
      }
    }
    if (was_speaking_ && !speaking) last_speech_end_ = now;
    was_speaking_ = speaking;
    if (speaking) return;
    // Silence since the last speech the decoder heard (a word is known to it at once; its
    // result comes a moment later).
    const int64_t silence = now - std::max(last_speech_end_, last_word_end_);
    if (options_.endpointing_ms >= 0 && !words_.empty() && finals_.empty() &&
        silence >= int64_t{options_.endpointing_ms} * agent::kSampleRateHz / 1000) {
      RequestFinal(FinalKind::kEndpoint);
    }
    if (options_.utterance_end_ms > 0 && last_word_end_ > utterance_end_sent_ &&
        silence >= static_cast<int64_t>(options_.utterance_end_ms) * agent::kSampleRateHz / 1000) {
      utterance_end_sent_ = last_word_end_;
      utterance_open_ = false;
      Send(json{{"type", "UtteranceEnd"},
                {"channel", json::array({0, 1})},
                {"last_word_end", Round3(Seconds(last_word_end_))}});
    }
  }

  // A final is one request against the STT's capacity: it holds a slot until delivered, and its
  // latency counts from when it got one.
  void RequestFinal(FinalKind kind) {
    finals_.push_back(kind);
    words_.clear();
    if (kind != FinalKind::kClose && options_.utterance_end_ms <= 0) utterance_open_ = false;
    SharedCapacity* capacity = state_->stt_capacity.get();
    if (capacity == nullptr) return session_->Finalize();
    claims_.push_back(capacity->Acquire(
        dynamic_cast<agent::RealtimeScheduler&>(*io_.scheduler).io(),
        [this] {
          if (!ended_) session_->Finalize();
        },
        [this](const std::string& error) {
          state_->listen.rate_limited->Increment();
          End("NET-0000 " + error);
        }));
  }

  void OnInterim(const std::vector<SttWord>& all) {
    const std::vector<SttWord> words = Heard(all);
    const bool grew = words.size() > words_.size();
    words_ = words;
    if (!grew) return;
    last_word_end_ = std::max(last_word_end_, words.back().end_sample);
    if (options_.interim_results) Result(words, /*is_final=*/false, false, false);
  }

  void OnFinal(const std::vector<SttWord>& all) {
    const std::vector<SttWord> words = Heard(all);
    unrecognized_ += all.size() - words.size();
    recognized_ += words.size();
    words_.clear();
    if (!words.empty()) last_word_end_ = std::max(last_word_end_, words.back().end_sample);
    const FinalKind kind = finals_.empty() ? FinalKind::kFinalize : finals_.front();
    if (!finals_.empty()) finals_.pop_front();
    if (!claims_.empty()) claims_.pop_front();  // its slot goes back
    Result(words, /*is_final=*/true, kind == FinalKind::kEndpoint, kind == FinalKind::kFinalize);
    segment_start_ = session_ ? session_->samples_seen() : segment_start_;
    if (closing_ && finals_.empty()) Close();
  }

  void Result(const std::vector<SttWord>& words, bool is_final, bool speech_final,
              bool from_finalize) {
    if (silent_ || ended_) return;
    if (drop_after_ >= 0 && results_ >= drop_after_) return End("NET-0001 connection dropped");
    ++results_;
    const double start = Seconds(segment_start_);
    const double duration = Seconds(session_->samples_seen()) - start;
    Send(ResultsMessage(words, start, duration,
                        {is_final, speech_final, from_finalize, options_.punctuate}, request_id_,
                        options_.model));
  }

  // After CloseStream's final: Metadata, then a normal close.
  void Close() {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(digest_.get(), hash, &length);
    std::string hex;
    char byte[3];
    for (unsigned int i = 0; i < length; ++i) {
      std::snprintf(byte, sizeof byte, "%02x", hash[i]);
      hex += byte;
    }
    json metadata = {
        {"type", "Metadata"},
        {"transaction_key", "deprecated"},
        {"request_id", request_id_},
        {"sha256", hex},
        {"created", IsoNow()},
        {"duration", Round3(Seconds(session_->samples_seen()))},
        {"channels", 1},
        {"models", json::array({kModelUuid})},
        {"model_info",
         {{kModelUuid, {{"name", options_.model}, {"version", kModelVersion}, {"arch", options_.model}}}}}};
    if (recognized_ == 0 && (unrecognized_ > 0 || sound_frames_ >= kWarnAfterSoundFrames)) {
      metadata["warnings"] = json::array(
          {{{"parameter", "audio"},
            {"type", "unrecognized_audio"},
            {"message", "callsim's fake STT understands only the word modem's audio; " +
                            std::to_string(sound_frames_ * agent::kFrameMs) +
                            " ms of other sound were not transcribed"}}});
    }
    Send(metadata);
    End("");
  }

  void Send(const json& message) {
    if (!ended_) io_.send_text(message.dump());
  }

  void ArmIdle() {
    const int64_t timeout_us = agent::MsToUs(state_->config.stt_idle_timeout_ms);
    idle_task_ = io_.scheduler->At(last_message_us_ + timeout_us, [this, timeout_us] {
      idle_task_ = agent::kNoTask;
      if (io_.scheduler->NowUs() - last_message_us_ >= timeout_us) return End(kIdleClose);
      ArmIdle();
    });
  }

  // Closes the stream (normal close, `reason`); the session stays until OnClosed.
  void End(const std::string& reason) {
    if (ended_) return;
    ended_ = true;
    Cancel();
    io_.close(reason);
  }

  void Cancel() {
    if (idle_task_ != agent::kNoTask) io_.scheduler->Cancel(idle_task_);
    if (fault_task_ != agent::kNoTask) io_.scheduler->Cancel(fault_task_);
    idle_task_ = fault_task_ = agent::kNoTask;
    session_.reset();  // no more results
    claims_.clear();
  }

  std::shared_ptr<FakeProviders::State> state_;
  agent::StreamIo io_;
  const ListenOptions options_;
  agent::Rng rng_;
  const std::string request_id_;
  std::unique_ptr<EVP_MD_CTX, DigestFree> digest_{EVP_MD_CTX_new()};
  std::unique_ptr<agent::SoxrResampler> resampler_;
  std::unique_ptr<ModemStt> stt_;
  std::unique_ptr<ModemSttWordsSession> session_;
  std::vector<int16_t> pending_;  // input samples not yet a frame
  std::optional<uint8_t> odd_byte_;
  std::vector<SttWord> words_;  // heard since the last final was asked for
  std::deque<FinalKind> finals_;  // asked for, not delivered; in order
  int64_t last_word_end_ = 0;
  int64_t utterance_end_sent_ = 0;
  int64_t segment_start_ = 0;
  int64_t last_message_us_ = 0;
  std::deque<std::unique_ptr<SharedCapacity::Claim>> claims_;  // one per final asked for
  size_t unrecognized_ = 0;  // bursts that were not modem audio
  size_t recognized_ = 0;
  int sound_frames_ = 0;
  bool was_speaking_ = false;
  bool utterance_open_ = false;  // SpeechStarted was sent; no endpoint or UtteranceEnd since
  int64_t last_speech_end_ = 0;  // 16 kHz samples
  bool closing_ = false;
  bool ended_ = false;
  bool silent_ = false;
  int drop_after_ = -1;  // >= 0: the results sent before the connection is cut
  int results_ = 0;
  agent::TaskId idle_task_ = agent::kNoTask;
  agent::TaskId fault_task_ = agent::kNoTask;
};

}  // namespace

bool ParseListenOptions(const agent::HttpRequest& request, ListenOptions* out,
                        std::string* error) {
  *out = ListenOptions{};
  const std::optional<std::string> encoding = request.Query("encoding");
  if (!encoding) {
    *error = "callsim's fake STT takes raw audio: set encoding=linear16 or encoding=mulaw";
    return false;
  }
  if (*encoding == "linear16") {
    out->encoding = ListenEncoding::kLinear16;
  } else if (*encoding == "mulaw") {
    out->encoding = ListenEncoding::kMulaw;
  } else {
    *error = "callsim's fake STT takes encoding linear16 or mulaw, not " + *encoding;
    return false;
  }
  const std::optional<std::string> rate = request.Query("sample_rate");
  if (!rate || !ParseInt(*rate, &out->sample_rate) || out->sample_rate < 8000 ||
      out->sample_rate > 48000 || out->sample_rate % 50 != 0) {
    *error = "sample_rate must be given with encoding, from 8000 to 48000 Hz (a whole number of "
             "samples in 20 ms)";
    return false;
  }
  if (out->sample_rate != agent::kSampleRateHz) {
    std::string why;
    if (!agent::SoxrResampler::Create(out->sample_rate, agent::kSampleRateHz,
                                      out->sample_rate / 50, agent::SoxrQuality::kLowLatency,
                                      &why)) {
      *error = "sample_rate " + *rate + " cannot be resampled: " + why;
      return false;
    }
  }
  if (const auto channels = request.Query("channels"); channels && *channels != "1") {
    *error = "callsim's fake STT transcribes one channel";
    return false;
  }
  if (const auto v = request.Query("interim_results"); v && !ParseBool(*v, &out->interim_results)) {
    *error = "interim_results must be true or false";
    return false;
  }
  if (const auto v = request.Query("vad_events"); v && !ParseBool(*v, &out->vad_events)) {
    *error = "vad_events must be true or false";
    return false;
  }
  if (const auto v = request.Query("punctuate"); v && !ParseBool(*v, &out->punctuate)) {
    *error = "punctuate must be true or false";
    return false;
  }
  if (const auto v = request.Query("endpointing")) {
    bool on = true;
    if (ParseBool(*v, &on)) {
      out->endpointing_ms = on ? 10 : -1;
    } else if (!ParseInt(*v, &out->endpointing_ms) || out->endpointing_ms < 0 ||
               out->endpointing_ms > 60000) {
      *error = "endpointing must be false or a number of milliseconds";
      return false;
    }
  }
  if (const auto v = request.Query("utterance_end_ms")) {
    if (!ParseInt(*v, &out->utterance_end_ms) || out->utterance_end_ms < 1000 ||
        out->utterance_end_ms > 60000) {
      *error = "utterance_end_ms must be a number of milliseconds from 1000";
      return false;
    }
    if (!out->interim_results) {
      *error = "utterance_end_ms needs interim_results=true";
      return false;
    }
  }
  if (const auto v = request.Query("model"); v && !v->empty()) out->model = *v;
  return true;
}

json ResultsMessage(const std::vector<SttWord>& words, double start_s, double duration_s,
                    ResultsFlags flags, const std::string& request_id, const std::string& model) {
  json list = json::array();
  std::string transcript;
  double confidence = 0;
  for (const SttWord& w : words) {
    const std::string punctuated = flags.punctuate ? w.Punctuated() : w.word;
    list.push_back({{"word", w.word},
                    {"start", Round3(Seconds(w.start_sample))},
                    {"end", Round3(Seconds(w.end_sample))},
                    {"confidence", Round3(w.confidence)},
                    {"punctuated_word", punctuated}});
    if (!transcript.empty()) transcript.push_back(' ');
    transcript += punctuated;
    confidence += w.confidence;
  }
  if (!words.empty()) confidence /= static_cast<double>(words.size());
  json alternative = {{"transcript", transcript}, {"confidence", Round3(confidence)}, {"words", list}};
  return {{"type", "Results"},
          {"channel_index", json::array({0, 1})},
          {"duration", Round3(std::max(0.0, duration_s))},
          {"start", Round3(start_s)},
          {"is_final", flags.is_final},
          {"speech_final", flags.speech_final},
          {"from_finalize", flags.from_finalize},
          {"channel", {{"alternatives", json::array({alternative})}}},
          {"metadata",
           {{"request_id", request_id},
            {"model_info", {{"name", model}, {"version", kModelVersion}, {"arch", model}}},
            {"model_uuid", kModelUuid}}}};
}

std::optional<agent::HttpAnswer> AdmitListen(const std::shared_ptr<FakeProviders::State>& state,
                                             const agent::HttpRequest& request) {
  const std::string request_id = Uuid(agent::Rng(state->config.seed).Fork(request.target));
  if (!Authorized(state->config.api_keys, request, "Token") &&
      !Authorized(state->config.api_keys, request, "Bearer")) {
    state->listen.unauthorized->Increment();
    return agent::HttpAnswer{401,
                             {{"Content-Type", "application/json"}, {"dg-request-id", request_id}},
                             DeepgramError("INVALID_AUTH", "Invalid credentials.", request_id)};
  }
  ListenOptions options;
  std::string error;
  if (!ParseListenOptions(request, &options, &error)) {
    state->listen.bad_request->Increment();
    return agent::HttpAnswer{400,
                             {{"Content-Type", "application/json"}, {"dg-request-id", request_id}},
                             DeepgramError("Bad Request", error, request_id)};
  }
  return std::nullopt;
}

std::unique_ptr<agent::StreamSession> MakeListenSession(
    const std::shared_ptr<FakeProviders::State>& state, agent::StreamIo io) {
  const agent::HttpRequest request = RequestOf(io);
  ListenOptions options;
  std::string error;
  if (!ParseListenOptions(request, &options, &error)) return nullptr;  // admitted: not expected
  state->listen.requests->Increment();
  const std::string call = CallOf(request, {});
  const agent::Rng rng = RequestRng(state->config.seed, request, call, "stt", request.target);
  return std::make_unique<ListenSession>(state, std::move(io), std::move(options), rng);
}

}  // namespace callsim::fakes::wire
