// Streaming text-to-speech, as the reference agent sees it: text in, 20 ms frames of 16 kHz audio
// out (usually faster than real time), then done. Callbacks run on the Scheduler. Cancel() (or
// destroying the stream) guarantees no further callbacks.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/media/frame.h"

namespace callsim::agent {

struct TtsListener {
  std::function<void(const Frame& frame)> on_audio;
  std::function<void()> on_done;
  std::function<void(const std::string& error)> on_error;
};

class TtsStream {
 public:
  virtual ~TtsStream() = default;
  virtual void Cancel() = 0;
};

class TtsProvider {
 public:
  virtual ~TtsProvider() = default;
  virtual std::unique_ptr<TtsStream> Synthesize(const std::string& text, TtsListener listener) = 0;
};

}  // namespace callsim::agent
