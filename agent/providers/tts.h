// Streaming text-to-speech, as the reference agent sees it: text in, 20 ms frames of 16 kHz audio
// out (usually faster than real time), then done. Callbacks run on the Scheduler. Cancel() (or
// destroying the stream) guarantees no further callbacks.
//
// A frame arrives as a reference into the stream's audio, made when it is played: the agent
// queues a reply as it arrives, seconds before it plays, and a fake TTS that knows its audio in
// advance (the word modem) then holds no samples for it. A provider that has the samples (one
// decoded from the wire) hands each frame over in its own agent::HeldSamples.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/media/sample_source.h"

namespace callsim::agent {

// Frame `index` of `audio` (see ReadFrame).
struct TtsFrame {
  std::shared_ptr<const SampleSource> audio;
  int64_t index = 0;

  void Render(Frame* out) const { ReadFrame(*audio, index, out); }
  // A frame whose samples are already made.
  static TtsFrame Held(const Frame& frame) {
    return {std::make_shared<const HeldSamples>(
                std::vector<int16_t>(frame.samples.begin(), frame.samples.end())),
            0};
  }
};

struct TtsListener {
  std::function<void(const TtsFrame& frame)> on_audio;
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
