// Energy voice-activity detection on 20 ms frames, with start/stop hysteresis and an adaptive noise
// floor. Promises: deterministic (a pure function of the frames and their times), constant work
// and no allocation per frame, and event times on the audio timeline (not the time of the call).
#pragma once

#include <cstdint>

#include "agent/media/frame.h"

namespace callsim::agent {

struct VadConfig {
  // A frame is voiced when its RMS level exceeds max(threshold_dbfs, noise_floor + noise_margin_db).
  double threshold_dbfs = -45;
  double noise_margin_db = 6;
  // Speech starts after start_ms of consecutive voiced frames and stops after stop_ms of
  // consecutive unvoiced frames (each rounded up to whole frames).
  double start_ms = 60;
  double stop_ms = 250;
  // The first noise_warmup_ms of audio only train the noise floor (fast, both ways) and are never
  // voiced: a call opens with the agent's greeting, so this is background. Without it, steady
  // noise above threshold_dbfs present from the first frame would read as endless speech, because
  // the floor only learns from unvoiced frames.
  double noise_warmup_ms = 200;
};

// The level of a silent frame (all zeros): below anything a 16-bit sample can express.
inline constexpr double kSilenceDbfs = -120;

// RMS level of a frame in dBFS, relative to a full-scale square wave (a full-scale sine is -3.01).
double FrameLevelDbfs(const Frame& frame);

enum class VadEventKind { kNone, kStart, kStop };

struct VadEvent {
  VadEventKind kind = VadEventKind::kNone;
  // kStart: start of the first voiced frame of the run. kStop: end of the last voiced frame.
  int64_t time_us = 0;
};

class Vad {
 public:
  explicit Vad(VadConfig config = {});

  // Classifies the next frame, which starts at `frame_start_us` (frames must come in order, one
  // per 20 ms). Returns a start or stop when this frame completes one, otherwise kNone.
  // `echo_gate_dbfs` raises the gate for this frame only (the agent's echo guard): a frame above
  // the usual gate but not above it is unvoiced and does not train the noise floor.
  VadEvent Process(const Frame& frame, int64_t frame_start_us,
                   double echo_gate_dbfs = kSilenceDbfs);

  bool speaking() const { return speaking_; }
  double last_level_dbfs() const { return last_level_dbfs_; }
  bool last_frame_voiced() const { return last_voiced_; }
  double noise_floor_dbfs() const { return floor_dbfs_; }

 private:
  void UpdateFloor(double level_dbfs, bool voiced);

  VadConfig config_;
  int start_frames_;
  int stop_frames_;
  int warmup_frames_;
  int64_t frames_seen_ = 0;
  double floor_dbfs_;
  double last_level_dbfs_ = kSilenceDbfs;
  bool last_voiced_ = false;
  bool speaking_ = false;
  int voiced_run_ = 0;    // consecutive voiced frames (while not speaking)
  int unvoiced_run_ = 0;  // consecutive unvoiced frames (while speaking)
  int64_t run_start_us_ = 0;
  int64_t last_voiced_end_us_ = 0;
};

}  // namespace callsim::agent
