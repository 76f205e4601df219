// Which calls of a run are recorded (`--record failed|all|N`). Off by default. The policy decides
// twice: when a call starts, whether it gets a tape at all (harness/caller/audio_tape.h), and when
// its verdict is known, whether the tape is written or discarded.
//
//   all      every call is taped and written.
//   N        the first N calls by call id (0 to N - 1) are taped and written.
//   failed   every call is taped (its verdict is not known yet); only the calls that did not pass
//            are written: a failed expectation, status failed, or dropped (cut by the run's
//            duration or time limit). Aborted calls were interrupted, not failed: discarded.
// A call refused at the active-call bound never ran, so it has no audio under any policy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "harness/run/status.h"

namespace callsim::harness {

struct RecordPolicy {
  enum class Mode { kOff, kFailed, kAll, kFirst };
  Mode mode = Mode::kOff;
  int64_t first_calls = 0;  // kFirst: N

  bool on() const { return mode != Mode::kOff; }
};

// "failed", "all" or a whole number in [1, max_first] in decimal digits. False with *error
// saying what was expected.
bool ParseRecordPolicy(std::string_view text, int64_t max_first, RecordPolicy* policy,
                       std::string* error);

// The policy as the flag spells it: "failed", "all", "N"; "off".
std::string RecordPolicyText(const RecordPolicy& policy);

// Whether call `call_id` is taped from its start.
bool TapesCall(const RecordPolicy& policy, int64_t call_id);

// Whether a taped call that ended with `status` (and `task_completed`) is written.
bool KeepsTape(const RecordPolicy& policy, CallStatus status, bool task_completed);

}  // namespace callsim::harness
