// Cuts a stream of 20 ms frames into stretches of speech for a recogniser, by level against the
// line's noise floor: a frame is loud when its peak is above an absolute level (digital silence and
// a codec's hiss are never speech) and its energy is kLoudOverFloorDb above the floor. The floor is
// the lowest 60 ms average energy of the last 2 s of frames that are not digital silence (a gate
// upstream, such as an echo guard, says nothing about the line's noise), so steady noise (a fan, a
// street, other talkers) raises it and a stretch still ends when the caller stops; speech has
// pauses of 60 ms within any 2 s, so the floor stays under it. Speech that starts abruptly out of
// digital silence has no floor below it until its first pause: its first syllable is then not
// loud, and the preroll (300 ms by default) brings it into the stretch. A stretch runs from
// `preroll_frames` before its first loud frame to `gap_ms` of quiet after its last (or
// `max_seconds`). Deterministic: the same frames give the same stretches.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "agent/media/frame.h"

namespace callsim::fakes {

struct SpeechStretcherConfig {
  int peak_level = 200;      // |sample| a loud frame must exceed (about -44 dBFS)
  int gap_ms = 500;          // quiet after the last loud frame that closes a stretch
  int preroll_frames = 15;   // quiet frames kept before the first loud one
  int max_seconds = 60;      // a stretch this long is closed (and the next begun)
};

class SpeechStretcher {
 public:
  static constexpr double kLoudOverFloorDb = 12;
  static constexpr int kFloorWindowFrames = 100;  // 2 s
  static constexpr int kSmoothFrames = 3;         // 60 ms

  enum class Step {
    kQuiet,   // no stretch open: the frame went to the preroll
    kSpeech,  // the frame joined the open stretch (loud() says whether it was loud)
    kClosed,  // the frame joined and closed the stretch: stretch() holds it until the next Push
  };

  explicit SpeechStretcher(SpeechStretcherConfig config = {});

  Step Push(const agent::Frame& frame);
  // Closes the open stretch, if any (stretch() then holds it); false when none was open.
  bool Close();

  bool open() const { return open_; }
  bool loud() const { return loud_; }  // the last frame pushed
  // The open stretch, or the one the last Push or Close closed.
  const std::vector<int16_t>& stretch() const { return stretch_; }
  // Samples since the open stretch's last loud frame.
  size_t quiet_samples() const { return quiet_samples_; }
  double floor_db() const { return floor_db_; }  // the noise floor's energy, dB over 1 step^2

 private:
  SpeechStretcherConfig config_;
  size_t gap_samples_ = 0;
  size_t max_samples_ = 0;
  std::deque<agent::Frame> preroll_;
  std::vector<int16_t> stretch_;
  bool open_ = false;
  bool closed_last_ = false;  // stretch() holds a closed stretch, cleared on the next Push
  bool loud_ = false;
  size_t quiet_samples_ = 0;
  std::array<double, kSmoothFrames> recent_{};  // the last frames' energies
  size_t pushed_ = 0;
  std::deque<double> smoothed_;  // the window's 60 ms averages, oldest first
  double floor_db_ = 0;
};

}  // namespace callsim::fakes
