#include "agent/pipeline/vad.h"

#include <algorithm>
#include <cmath>

namespace callsim::agent {
namespace {

// Per-frame smoothing factors of the noise floor. Quick down: a quieter frame pulls the floor
// most of the way within a few frames. Slow up: unvoiced frames raise it with a time constant of
// about 1 s, so the floor follows noise that grows. Voiced frames raise it with about 10 s, slower
// than an utterance (whose pauses pull the floor back down), so that steady noise appearing
// mid-call above the floor is absorbed within seconds instead of reading as speech for the rest
// of the call.
constexpr double kDownAlpha = 0.3;
constexpr double kUnvoicedUpAlpha = 0.02;
constexpr double kVoicedUpAlpha = 0.002;
constexpr double kWarmupAlpha = 0.5;

int FramesFor(double ms) {
  return std::max(1, static_cast<int>(std::ceil(ms / kFrameMs - 1e-9)));
}

}  // namespace

double FrameLevelDbfs(const Frame& frame) {
  int64_t sum_sq = 0;
  for (int16_t s : frame.samples) sum_sq += static_cast<int32_t>(s) * s;
  if (sum_sq == 0) return kSilenceDbfs;
  const double mean_sq = static_cast<double>(sum_sq) / kFrameSamples;
  return std::max(kSilenceDbfs, 10.0 * std::log10(mean_sq / (32768.0 * 32768.0)));
}

Vad::Vad(VadConfig config)
    : config_(config),
      start_frames_(FramesFor(config.start_ms)),
      stop_frames_(FramesFor(config.stop_ms)),
      warmup_frames_(config.noise_warmup_ms > 0 ? FramesFor(config.noise_warmup_ms) : 0),
      floor_dbfs_(config.threshold_dbfs) {}

void Vad::UpdateFloor(double level_dbfs, bool voiced) {
  double alpha;
  if (frames_seen_ <= warmup_frames_) {
    alpha = kWarmupAlpha;
  } else if (level_dbfs < floor_dbfs_) {
    alpha = kDownAlpha;
  } else {
    alpha = voiced ? kVoicedUpAlpha : kUnvoicedUpAlpha;
  }
  floor_dbfs_ += alpha * (level_dbfs - floor_dbfs_);
  // Below this the gate is threshold_dbfs anyway; the clamp only keeps a floor that fell during
  // digital silence from needing a long climb when noise appears.
  floor_dbfs_ = std::max(floor_dbfs_, config_.threshold_dbfs - config_.noise_margin_db);
}

VadEvent Vad::Process(const Frame& frame, int64_t frame_start_us, double echo_gate_dbfs) {
  ++frames_seen_;
  const double level = FrameLevelDbfs(frame);
  last_level_dbfs_ = level;
  const bool warming_up = frames_seen_ <= warmup_frames_;
  const double gate = std::max(config_.threshold_dbfs, floor_dbfs_ + config_.noise_margin_db);
  const bool voiced = !warming_up && level > gate && level > echo_gate_dbfs;
  last_voiced_ = voiced;
  if (warming_up || voiced || level <= gate) UpdateFloor(level, voiced);  // echo does not train it

  VadEvent event;
  if (!speaking_) {
    if (!voiced) {
      voiced_run_ = 0;
      return event;
    }
    if (voiced_run_++ == 0) run_start_us_ = frame_start_us;
    last_voiced_end_us_ = frame_start_us + kFrameUs;
    if (voiced_run_ >= start_frames_) {
      speaking_ = true;
      unvoiced_run_ = 0;
      voiced_run_ = 0;
      event = {VadEventKind::kStart, run_start_us_};
    }
    return event;
  }
  if (voiced) {
    unvoiced_run_ = 0;
    last_voiced_end_us_ = frame_start_us + kFrameUs;
    return event;
  }
  if (++unvoiced_run_ >= stop_frames_) {
    speaking_ = false;
    unvoiced_run_ = 0;
    event = {VadEventKind::kStop, last_voiced_end_us_};
  }
  return event;
}

}  // namespace callsim::agent
