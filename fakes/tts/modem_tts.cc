#include "fakes/tts/modem_tts.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

namespace callsim::fakes {
namespace {

constexpr int kFramesPerChunk = 5;
constexpr double kChunkAudioUs = kFramesPerChunk * agent::kFrameUs;

// Shared by the stream and its scheduled task, so a callback that destroys the stream leaves the
// task something valid to look at.
struct StreamState {
  explicit StreamState(agent::Scheduler& s) : scheduler(s) {}
  agent::Scheduler& scheduler;
  agent::TtsListener listener;
  std::shared_ptr<const agent::SampleSource> audio;  // null: no words
  int64_t frames = 0;                                // of audio
  int64_t next_frame = 0;
  int64_t ttfb_us = 0;
  int64_t chunk_interval_us = 0;
  CapacityTicket ticket;  // the stream's slot, held until the last frame or a cancel
  agent::TaskId task = agent::kNoTask;
  bool stopped = false;  // cancelled, or done
  std::string error;     // set: the speech could not be made; on_error instead of audio
};

void DeliverChunk(std::shared_ptr<StreamState> state);

void ScheduleChunk(const std::shared_ptr<StreamState>& state, int64_t delay_us) {
  state->task = state->scheduler.After(delay_us, [state] { DeliverChunk(state); });
}

void DeliverChunk(std::shared_ptr<StreamState> state) {
  StreamState& s = *state;
  s.task = agent::kNoTask;
  if (!s.error.empty()) {
    s.stopped = true;
    s.ticket.Release();
    if (s.listener.on_error) s.listener.on_error(s.error);
    return;
  }
  for (int i = 0; i < kFramesPerChunk && s.next_frame < s.frames; ++i) {
    if (s.listener.on_audio) s.listener.on_audio(agent::TtsFrame{s.audio, s.next_frame});
    ++s.next_frame;
    if (s.stopped) return;  // cancelled from inside the callback
  }
  if (s.next_frame < s.frames) {
    ScheduleChunk(state, s.chunk_interval_us);
    return;
  }
  s.stopped = true;
  s.ticket.Release();
  s.audio.reset();  // the frames delivered hold it as long as they need it
  if (s.listener.on_done) s.listener.on_done();
}

// Asks the limiter for a slot; the first chunk comes a ttfb after the grant, a refusal becomes
// the stream's only event. The callbacks hold the state weakly: the ticket lives inside it.
void AcquireSlot(const std::shared_ptr<StreamState>& state, CapacityLimiter& limiter) {
  std::weak_ptr<StreamState> weak = state;
  state->ticket = limiter.Acquire(
      [weak] {
        if (std::shared_ptr<StreamState> locked = weak.lock()) ScheduleChunk(locked, locked->ttfb_us);
      },
      [weak](const std::string& error) {
        std::shared_ptr<StreamState> locked = weak.lock();
        if (!locked || locked->stopped) return;
        locked->stopped = true;
        if (locked->listener.on_error) locked->listener.on_error(error);
      });
  if (state->ticket.granted()) ScheduleChunk(state, state->ttfb_us);
}

class ModemTtsStream final : public agent::TtsStream {
 public:
  explicit ModemTtsStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}
  ~ModemTtsStream() override { Cancel(); }

  void Cancel() override {
    state_->ticket.Release();
    if (state_->stopped) return;
    state_->stopped = true;
    state_->scheduler.Cancel(state_->task);
    state_->audio.reset();  // safe inside on_audio: DeliverChunk stops reading
  }

 private:
  std::shared_ptr<StreamState> state_;
};

}  // namespace

int64_t TrailingPauseSamples(std::string_view text, const VoiceProfile& voice) {
  const size_t last = text.find_last_not_of(" \t\r\n\"')");
  const char end = last == std::string_view::npos ? ' ' : text[last];
  double pause_ms = kMinTrailingPauseMs;
  if (end == '.' || end == '?' || end == '!') pause_ms = voice.sentence_pause_ms;
  if (end == ',' || end == ';' || end == ':') pause_ms = voice.comma_pause_ms;
  return std::llround(pause_ms * agent::kSampleRateHz / 1000.0);
}

ModemTts::ModemTts(agent::Scheduler& scheduler, agent::Rng rng, ModemTtsConfig config)
    : scheduler_(scheduler), rng_(rng), config_(std::move(config)) {}

std::unique_ptr<agent::TtsStream> ModemTts::Synthesize(const std::string& text,
                                                       agent::TtsListener listener) {
  agent::Rng rng = rng_.Fork("stream/" + std::to_string(next_stream_++));
  auto state = std::make_shared<StreamState>(scheduler_);
  state->ttfb_us = config_.ttfb.DrawUs(rng);
  state->listener = std::move(listener);
  // The speech, then the pause its punctuation calls for.
  const int64_t pause = TrailingPauseSamples(text, config_.voice);
  if (config_.espeak) {
    std::vector<int16_t> speech;
    if (EspeakSynth::Shared().Synthesize(text, *config_.espeak, &speech, &state->error)) {
      TrimEspeakSilence(&speech);  // the trailing pause is the gap, not espeak-ng's own
      if (!speech.empty()) state->audio = std::make_shared<const agent::HeldSamples>(std::move(speech), pause);
    } else {
      state->error = "espeak TTS: " + state->error;
    }
  } else {
    const SpeechPlan plan = PlanSpeech(text, config_.voice, &rng);
    if (!plan.words.empty()) {
      auto speech = std::make_shared<ModemSpeech>(config_.voice.level_dbfs);
      speech->Append(plan, 0);
      speech->PadTo(plan.samples + pause);
      state->audio = std::move(speech);
    }
  }
  if (state->audio) state->frames = agent::FrameCount(*state->audio);
  const double factor = std::clamp(config_.realtime_factor, 0.1, 1000.0);
  state->chunk_interval_us = std::llround(kChunkAudioUs / factor);
  if (config_.capacity) {
    AcquireSlot(state, *config_.capacity);
  } else {
    ScheduleChunk(state, state->ttfb_us);
  }
  return std::make_unique<ModemTtsStream>(std::move(state));
}

}  // namespace callsim::fakes
