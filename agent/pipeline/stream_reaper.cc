#include "agent/pipeline/stream_reaper.h"

#include <utility>

namespace callsim::agent {

void StreamReaper::Park(std::unique_ptr<LlmStream> stream) {
  if (stream) llm_.push_back(std::move(stream));
  ScheduleReap();
}

void StreamReaper::Park(std::unique_ptr<TtsStream> stream) {
  if (stream) tts_.push_back(std::move(stream));
  ScheduleReap();
}

void StreamReaper::Park(std::unique_ptr<SttSession> session) {
  if (session) stt_.push_back(std::move(session));
  ScheduleReap();
}

void StreamReaper::ScheduleReap() {
  if (reap_.pending() || parked() == 0) return;
  reap_.After(0, [this] {
    llm_.clear();
    tts_.clear();
    stt_.clear();
  });
}

}  // namespace callsim::agent
