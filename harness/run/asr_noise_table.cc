#include "harness/run/asr_noise_table.h"

#include <cmath>
#include <memory>

#include "agent/runtime/rng.h"
#include "agent/runtime/sim_scheduler.h"
#include "fakes/stt/asr_stt.h"
#include "fakes/voice/espeak_voice.h"
#include "harness/caller/ear_phrases.h"
#include "harness/caller/mic_mixer.h"

namespace callsim::harness {
namespace {

double LevelDbfs(const std::vector<int16_t>& samples) {
  double sum = 0;
  for (int16_t s : samples) sum += static_cast<double>(s) * s;
  const double rms = samples.empty() ? 0 : std::sqrt(sum / static_cast<double>(samples.size()));
  return 20 * std::log10(std::max(rms, 1.0) / 32768.0);
}

}  // namespace

bool MeasureAsrUnderNoise(const AsrNoiseSpec& spec, AsrNoiseResult* result, std::string* error) {
  *result = {};
  fakes::AsrSttConfig config;
  for (const std::string& line : spec.lines) {
    for (std::string& clause : Clauses(line)) config.phrases.push_back(std::move(clause));
  }
  config.final_latency = {0, 0};
  config.interim_latency = {0, 0};
  double snr_sum = 0;
  for (const std::string& voice : spec.voices) {
    fakes::EspeakVoiceSpec voice_spec;
    voice_spec.voice = voice;
    voice_spec.words_per_minute = spec.words_per_minute;
    for (size_t li = 0; li < spec.lines.size(); ++li) {
      std::vector<int16_t> speech;
      if (!fakes::EspeakSynth::Shared().Synthesize(spec.lines[li], voice_spec, &speech, error)) {
        return false;
      }
      fakes::TrimEspeakSilence(&speech);
      const size_t lead = static_cast<size_t>(spec.lead_ms) * agent::kSampleRateHz / 1000;
      const size_t tail = static_cast<size_t>(spec.tail_ms) * agent::kSampleRateHz / 1000;
      const size_t total = lead + speech.size() + tail;
      for (int draw = 0; draw < spec.draws; ++draw) {
        const agent::Rng rng(0xA5u + static_cast<uint64_t>(draw) * 7919u + li * 104729u);
        NoiseSpec noise;
        noise.type = spec.noise;
        noise.snr_db = spec.snr_db;
        MicMixer mixer(noise, EchoSpec{}, LevelDbfs(speech), rng.Fork(voice), VoiceEngine::kEspeak);
        if (!mixer.ok()) {
          *error = "noise: " + mixer.error();
          return false;
        }
        std::unique_ptr<agent::Codec> encoder = agent::MakeCodec(spec.codec);
        std::unique_ptr<agent::Codec> decoder = agent::MakeCodec(spec.codec);
        agent::SimScheduler scheduler;
        fakes::AsrStt stt(scheduler, rng.Fork("stt"), config);
        std::string final_text;
        std::string stt_error;
        agent::SttListener listener;
        listener.on_final = [&](const std::string& text) { final_text = text; };
        listener.on_error = [&](const std::string& e) { stt_error = e; };
        std::unique_ptr<agent::SttSession> session = stt.Open(std::move(listener));
        std::vector<uint8_t> payload;
        int64_t t = 0;
        for (size_t at = 0; at < total; at += agent::kFrameSamples, t += agent::kFrameUs) {
          agent::Frame frame;
          bool speaking = false;
          for (int k = 0; k < agent::kFrameSamples; ++k) {
            const size_t i = at + static_cast<size_t>(k);
            if (i >= lead && i < lead + speech.size()) {
              frame.samples[k] = speech[i - lead];
              speaking = true;
            }
          }
          mixer.Mix(&frame, speaking);
          encoder->Encode(frame, &payload);
          agent::Frame heard;
          if (!decoder->Decode(payload, &heard)) decoder->Conceal(&heard);
          scheduler.RunUntil(t);
          session->PushAudio(heard);
        }
        session->Finalize();
        scheduler.RunUntil(t + agent::kMicrosPerSecond);
        if (!stt_error.empty()) {
          *error = stt_error;
          return false;
        }
        result->wer += ComputeWer(spec.lines[li], final_text);
        ++result->utterances;
        result->audio_seconds += static_cast<double>(total) / agent::kSampleRateHz;
        snr_sum += mixer.measured_snr_db();
      }
    }
  }
  if (result->utterances > 0) result->measured_snr_db = snr_sum / result->utterances;
  return true;
}

}  // namespace callsim::harness
