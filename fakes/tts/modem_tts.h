// A fake streaming TTS that speaks the word modem: the text becomes modem audio (see
// fakes/modem/word_modem.h), delivered after a drawn time to first byte as 20 ms frames, in
// chunks of 100 ms of audio, faster than real time. Deterministic from its seeded Rng. With
// `espeak` set it speaks real speech through espeak-ng instead (fakes/voice/espeak_voice.h), with
// the same latency, rate, capacity and trailing pause. The modem's frames are references into a
// fakes::ModemSpeech, made when the agent plays them: a queued reply holds its words, not its
// samples.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/providers/tts.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/capacity/capacity_limiter.h"
#include "fakes/modem/word_modem.h"
#include "fakes/voice/espeak_voice.h"

namespace callsim::fakes {

// Speech ends with the pause its last punctuation calls for (a sentence pause after ".?!", a
// clause pause after ",;:", else at least kMinTrailingPauseMs), as a real TTS's output does: the
// agent plays sentences back to back, and without it two sentences would run into one another.
inline constexpr double kMinTrailingPauseMs = 150;
int64_t TrailingPauseSamples(std::string_view text, const VoiceProfile& voice);

struct ModemTtsConfig {
  agent::LatencyModel ttfb{120, 250};  // from Synthesize() to the first frame
  double realtime_factor = 4;          // audio seconds delivered per second; clamped to [0.1, 1000]
  VoiceProfile voice;
  // Shared by every call of a run (nullptr: unlimited). A stream holds a slot from Synthesize
  // until its last frame is delivered or it is cancelled; its ttfb counts from when it got the
  // slot. A refused stream's only event is on_error with the limiter's error.
  std::shared_ptr<CapacityLimiter> capacity;
  // Set: real speech from espeak-ng (trimmed of its own silence) in place of the modem's; a text
  // espeak-ng cannot say ends the stream with on_error after the ttfb.
  std::optional<EspeakVoiceSpec> espeak;
};

// Stream N draws from rng.Fork("stream/N"): first its time to first byte, then the voice's timing
// variation (see EncodeSpeech). Frames come 5 at a time (100 ms of audio) every
// 100 ms / realtime_factor; the last frame is zero-padded; on_done follows the last frame in the
// same task (or comes after the ttfb when the text has no words). Cancel() or destroying the
// stream stops all callbacks, even from inside one.
class ModemTts final : public agent::TtsProvider {
 public:
  ModemTts(agent::Scheduler& scheduler, agent::Rng rng, ModemTtsConfig config);

  std::unique_ptr<agent::TtsStream> Synthesize(const std::string& text,
                                               agent::TtsListener listener) override;

 private:
  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  ModemTtsConfig config_;
  uint64_t next_stream_ = 0;
};

}  // namespace callsim::fakes
