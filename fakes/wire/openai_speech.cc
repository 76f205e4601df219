#include "fakes/wire/openai_speech.h"

#include <cstring>
#include <utility>

#include "agent/media/soxr_resampler.h"
#include "fakes/tts/modem_tts.h"
#include "fakes/wire/exchange.h"
#include "fakes/wire/provider_state.h"

namespace callsim::fakes::wire {
namespace {

using nlohmann::json;

constexpr int kSpeechFrameSamples = kSpeechRateHz * agent::kFrameMs / 1000;  // 480

void PutLe(std::string* out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// The speech's audio: the modem TTS's 16 kHz frames resampled to 24 kHz, each sent as it comes.
class SpeechExchange final : public Exchange {
 public:
  SpeechExchange(std::shared_ptr<FakeProviders::State> state, SpeechRequest speech,
                 agent::Rng rng, std::shared_ptr<agent::HttpResponder> responder)
      : Exchange(state, state->speech, state->config.tts_capacity, "callsim fake TTS", std::move(responder)),
        speech_(std::move(speech)),
        rng_(rng) {}

 private:
  void Admitted() override {
    const FaultSpec& faults = state().config.tts_faults;
    const bool proceed = Fate(faults, rng_.Fork("faults"), faults.drop_max_frames, &drop_after_);
    if (!proceed) return;
    std::string error;
    resampler_ = agent::SoxrResampler::Create(agent::kSampleRateHz, kSpeechRateHz,
                                              agent::kFrameSamples,
                                              agent::SoxrQuality::kLowLatency, &error);
    if (!resampler_) {
      return Finish(500, OpenAiErrorBody("callsim fake TTS: " + error, "server_error"), {});
    }
    ModemTtsConfig config = state().config.tts;
    config.capacity = nullptr;
    config.voice.words_per_minute *= speech_.speed;
    tts_ = std::make_unique<ModemTts>(scheduler(), rng_.Fork("tts"), config);
    agent::TtsListener listener;
    // The stream is owned here and destroyed in OnStop: `this` outlives its callbacks.
    listener.on_audio = [this](const agent::TtsFrame& frame) {
      agent::Frame audio;
      frame.Render(&audio);
      OnAudio(audio);
    };
    listener.on_done = [this] { OnDone(); };
    listener.on_error = [this](const std::string& error) {
      Finish(500, OpenAiErrorBody("callsim fake TTS: " + error, "server_error"), {});
    };
    stream_ = tts_->Synthesize(speech_.input, std::move(listener));
  }

  void OnStop() override {
    stream_.reset();
    if (flush_ != agent::kNoTask) scheduler().Cancel(flush_);
    flush_ = agent::kNoTask;
  }

  void Begin() {
    if (begun_) return;
    begun_ = true;
    const bool wav = speech_.format == "wav";
    responder().Begin(200, {{"Content-Type", wav ? "audio/wav" : "audio/pcm"}});
    if (wav) responder().Write(StreamingWavHeader());
  }

  void OnAudio(const agent::Frame& frame) {
    Begin();
    int16_t out[kSpeechFrameSamples];
    resampler_->Process(frame.samples, out);
    std::string bytes(sizeof out, '\0');
    for (int i = 0; i < kSpeechFrameSamples; ++i) {
      const auto v = static_cast<uint16_t>(out[i]);
      bytes[2 * i] = static_cast<char>(v & 0xFF);
      bytes[2 * i + 1] = static_cast<char>(v >> 8);
    }
    // The frames the TTS delivers together (100 ms of audio at a time) leave as one chunk: one
    // write, not five.
    pending_ += bytes;
    if (flush_ == agent::kNoTask) {
      flush_ = scheduler().After(0, [this] {
        flush_ = agent::kNoTask;
        Flush();
      });
    }
    if (drop_after_ > 0 && ++frames_ >= drop_after_) {
      Flush();
      responder().Abort();
      Stop();
    }
  }

  void Flush() {
    if (!pending_.empty()) responder().Write(std::move(pending_));
    pending_.clear();
  }

  void OnDone() {
    if (done()) return;
    Begin();  // no words: an empty body
    Flush();
    responder().End();
    Stop();
  }

  SpeechRequest speech_;
  agent::Rng rng_;
  std::unique_ptr<agent::SoxrResampler> resampler_;
  std::unique_ptr<ModemTts> tts_;
  std::unique_ptr<agent::TtsStream> stream_;
  std::string pending_;  // audio not yet written
  agent::TaskId flush_ = agent::kNoTask;
  int drop_after_ = 0;
  int frames_ = 0;
  bool begun_ = false;
};

}  // namespace

bool ParseSpeechRequest(const json& body, size_t max_input_chars, SpeechRequest* out,
                        std::string* error, std::string* param) {
  *out = SpeechRequest{};
  auto fail = [&](std::string message, std::string field) {
    *error = std::move(message);
    *param = std::move(field);
    return false;
  };
  if (!ReadModel(body, &out->model, error, param)) return false;
  const auto input = body.find("input");
  if (input == body.end() || !input->is_string() || input->get<std::string>().empty()) {
    return fail("input must be a non-empty string", "input");
  }
  out->input = input->get<std::string>();
  if (out->input.size() > max_input_chars) {
    return fail("input is longer than " + std::to_string(max_input_chars) + " characters",
                "input");
  }
  const auto voice = body.find("voice");
  if (voice != body.end() && voice->is_string()) {
    out->voice = voice->get<std::string>();
  } else if (voice != body.end() && voice->is_object() && voice->contains("id") &&
             voice->at("id").is_string()) {
    out->voice = voice->at("id").get<std::string>();
  } else {
    return fail("voice must be a string or an object with an id", "voice");
  }
  out->format = "mp3";  // OpenAI's default
  if (const auto format = body.find("response_format"); format != body.end()) {
    if (!format->is_string()) return fail("response_format must be a string", "response_format");
    out->format = format->get<std::string>();
  }
  if (out->format != "pcm" && out->format != "wav") {
    return fail("callsim's fake TTS writes response_format pcm or wav, not " + out->format,
                "response_format");
  }
  if (const auto sf = body.find("stream_format"); sf != body.end() && !sf->is_null()) {
    if (!sf->is_string() || sf->get<std::string>() != "audio") {
      return fail("callsim's fake TTS streams stream_format audio only", "stream_format");
    }
  }
  if (const auto speed = body.find("speed"); speed != body.end() && !speed->is_null()) {
    if (!speed->is_number() || speed->get<double>() < 0.25 || speed->get<double>() > 4.0) {
      return fail("speed must be a number from 0.25 to 4.0", "speed");
    }
    out->speed = speed->get<double>();
  }
  if (const auto user = body.find("user"); user != body.end() && user->is_string()) {
    out->user = user->get<std::string>();
  }
  return true;
}

std::string StreamingWavHeader() {
  std::string h = "RIFF";
  PutLe(&h, 0xFFFFFFFFu, 4);
  h += "WAVEfmt ";
  PutLe(&h, 16, 4);                  // fmt chunk size
  PutLe(&h, 1, 2);                   // PCM
  PutLe(&h, 1, 2);                   // mono
  PutLe(&h, kSpeechRateHz, 4);       // sample rate
  PutLe(&h, kSpeechRateHz * 2, 4);   // byte rate
  PutLe(&h, 2, 2);                   // block align
  PutLe(&h, 16, 2);                  // bits per sample
  h += "data";
  PutLe(&h, 0xFFFFFFFFu, 4);
  return h;
}

void HandleSpeech(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                  std::shared_ptr<agent::HttpResponder> responder) {
  json body;
  if (!OpenAiRequestBody(state->speech, state->config.api_keys, request, *responder, &body)) {
    return;
  }
  SpeechRequest speech;
  std::string error;
  std::string param;
  if (!ParseSpeechRequest(body, state->config.max_speech_input_chars, &speech, &error, &param)) {
    return RespondBadRequest(state->speech, *responder, error, param);
  }
  const std::string call = CallOf(request, speech.user);
  const agent::Rng rng = RequestRng(state->config.seed, request, call, "tts", request.body);
  std::make_shared<SpeechExchange>(state, std::move(speech), rng, responder)
      ->Start(state->tts_capacity.get());
}

}  // namespace callsim::fakes::wire
