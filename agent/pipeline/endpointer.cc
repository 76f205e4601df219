#include "agent/pipeline/endpointer.h"

#include <utility>

namespace callsim::agent {

const char* EndpointReasonName(EndpointReason reason) {
  return reason == EndpointReason::kMaxTurn ? "max_turn" : "silence";
}

Endpointer::Endpointer(Scheduler& scheduler, EndpointerConfig config, Callback on_endpoint)
    : config_(config),
      on_endpoint_(std::move(on_endpoint)),
      silence_timer_(scheduler),
      max_turn_timer_(scheduler) {}

Endpointer::~Endpointer() { Reset(); }

void Endpointer::OnSpeechStart(int64_t start_us) {
  silence_timer_.Cancel();
  speaking_ = true;
  if (in_turn_) return;
  in_turn_ = true;
  turn_start_us_ = start_us;
  speech_end_us_ = -1;
  max_turn_timer_.At(start_us + MsToUs(config_.max_turn_ms),
                     [this] { Fire(EndpointReason::kMaxTurn); });
}

void Endpointer::OnSpeechStop(int64_t speech_end_us) {
  if (!in_turn_) return;
  speaking_ = false;
  speech_end_us_ = speech_end_us;
  if (config_.finished_delay_ms >= 0 && config_.finished_delay_ms < config_.delay_ms) {
    const int64_t silence_us = MsToUs(config_.vad_stop_ms + config_.finished_delay_ms);
    silence_timer_.At(speech_end_us + silence_us, [this] { OnFinishedDelay(); });
    return;
  }
  ArmMinDelay();
}

void Endpointer::ArmMinDelay() {
  const int64_t silence_us = MsToUs(config_.vad_stop_ms + config_.delay_ms);
  silence_timer_.At(speech_end_us_ + silence_us, [this] { OnMinDelay(); });
}

void Endpointer::OnFinishedDelay() {
  if (Sounds() == TurnSounds::kFinished) {
    Fire(EndpointReason::kSilence);
    return;
  }
  ArmMinDelay();
}

void Endpointer::OnMinDelay() {
  const double extra_ms = config_.max_delay_ms - config_.delay_ms;
  if (extra_ms <= 0 || Sounds() != TurnSounds::kUnfinished) {
    Fire(EndpointReason::kSilence);
    return;
  }
  silence_timer_.After(MsToUs(extra_ms), [this] { Fire(EndpointReason::kSilence); });
}

void Endpointer::Reset() {
  silence_timer_.Cancel();
  max_turn_timer_.Cancel();
  in_turn_ = false;
  speaking_ = false;
}

void Endpointer::Fire(EndpointReason reason) {
  Endpoint endpoint{reason, turn_start_us_, speaking_ ? -1 : speech_end_us_};
  Reset();
  on_endpoint_(endpoint);
}

}  // namespace callsim::agent
