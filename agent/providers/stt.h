// Streaming speech-to-text, as the reference agent sees it. The agent streams every caller frame
// into a session; the provider reports interim results as words are recognised and one final
// result each time the agent calls Finalize() (the endpoint). Callbacks run on the Scheduler.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/media/frame.h"

namespace callsim::agent {

struct SttListener {
  // Everything recognised since the last final, so far (replaces the previous interim).
  std::function<void(const std::string& text)> on_interim;
  // Everything recognised since the last final; may be empty. Exactly one per Finalize().
  std::function<void(const std::string& text)> on_final;
  std::function<void(const std::string& error)> on_error;
};

class SttSession {
 public:
  virtual ~SttSession() = default;  // destroying a session cancels pending callbacks
  // The next 20 ms of caller audio, in order, one call per frame.
  virtual void PushAudio(const Frame& frame) = 0;
  // The agent decided the caller's turn ended: deliver a final result after the provider's latency.
  virtual void Finalize() = 0;
};

class SttProvider {
 public:
  virtual ~SttProvider() = default;
  virtual std::unique_ptr<SttSession> Open(SttListener listener) = 0;
};

}  // namespace callsim::agent
