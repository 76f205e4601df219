// The caller's ear: what a person on the line can tell from the audio alone. It finds where the
// agent's speech starts and stops (sample-exact, by level) and decodes the words it hears with the
// word modem, with no error model: whatever the line did to the audio is what the caller gets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/media/frame.h"
#include "agent/runtime/scheduler.h"
#include "fakes/modem/word_modem.h"

namespace callsim::harness {

struct EarActivity {
  bool any = false;            // some sample in the frame is above the threshold
  int64_t first_active_us = 0;  // time of the first such sample
  int64_t last_active_us = 0;   // time just after the last such sample
};

class Ear {
 public:
  // |sample| above this is agent speech (about -44 dBFS); the line is otherwise digital silence.
  static constexpr int kActiveThreshold = 200;

  EarActivity Hear(const agent::Frame& frame, int64_t frame_start_us);

  // Time just after the last active sample heard so far; -1 if none yet.
  int64_t last_active_us() const { return last_active_us_; }
  // Words decoded since the last TakeWords().
  std::vector<std::string> TakeWords();

 private:
  fakes::ModemDecoder decoder_;
  int64_t last_active_us_ = -1;
};

}  // namespace callsim::harness
