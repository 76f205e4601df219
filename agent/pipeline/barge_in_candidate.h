// Caller speech that started over the agent's reply and is not yet a barge-in: a cough or a
// short "mhm" must not cut the agent off. It is confirmed once min_voiced_us of it is voiced and,
// when min_words > 0, the STT has heard at least min_words words of it. What it was (start,
// voiced time, words) stays readable after it ended, for the events that report it.
#pragma once

#include <cstdint>

namespace callsim::agent {

class BargeInCandidate {
 public:
  struct Speech {
    int64_t start_us = 0;   // audio time of its first voiced frame
    int64_t voiced_us = 0;  // voiced audio in it so far
    int words = 0;          // words the STT heard since it began
  };

  BargeInCandidate(int64_t min_voiced_us, int min_words)
      : min_voiced_us_(min_voiced_us), min_words_(min_words) {}

  // Speech began at `start_us`; `voiced_us` of it has been voiced already. Words start at 0.
  void Begin(int64_t start_us, int64_t voiced_us);
  // One more voiced frame (kFrameUs). Ignored when no candidate is active.
  void AddVoicedFrame();
  // The STT's word count for it so far. Ignored when no candidate is active.
  void SetWords(int words);
  // Active, voiced long enough, and worded enough.
  bool Confirmed() const;
  // Ends the candidate (if any) and returns what it was; the speech stays readable.
  const Speech& End();

  bool active() const { return active_; }
  const Speech& speech() const { return speech_; }

 private:
  int64_t min_voiced_us_;
  int min_words_;
  bool active_ = false;
  Speech speech_;
};

}  // namespace callsim::agent
