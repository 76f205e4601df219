// A call as a run sees it, whichever way it runs: in virtual time against the reference agent
// (SimCall) or over a socket against any agent (WireCall). It reports its record once, from a
// task of its own (so the owner may destroy it from inside the callback).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "harness/run/call_record.h"
#include "harness/run/status.h"

namespace callsim::harness {

class RunCall {
 public:
  using FinishedFn = std::function<void(CallRecord record)>;
  virtual ~RunCall() = default;
  // Records the caller's audio from the call's start (harness/caller/audio_tape.h), at most
  // `max_samples` per channel; the tape comes back in the record (CallRecord::audio). Call before
  // Start(); without it nothing is recorded and nothing is allocated.
  virtual void RecordAudio(int64_t max_samples) = 0;
  // Starts the call; a caller that cannot take part ends it at once as failed.
  virtual void Start() = 0;
  // Ends the call now (run limit, abort). `status` is the call's stored status.
  virtual void End(const std::string& reason, CallStatus status) = 0;
  virtual bool ended() const = 0;
};

}  // namespace callsim::harness
