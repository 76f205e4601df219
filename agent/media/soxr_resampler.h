// A streaming fixed-ratio resampler for mono 16-bit audio over libsoxr, one fixed block at a
// time: every Process call takes exactly in_block_samples() and gives exactly out_block_samples(),
// with a constant latency (latency_samples()), so it can sit inside a 20 ms frame pipeline (Opus at
// 48 kHz around our 16 kHz frames). Deterministic: no dither, one thread, and the same input
// always gives the same output on the same machine. No allocation per block in the steady state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct soxr;  // libsoxr's stream state (soxr_t), kept out of this header

namespace callsim::agent {

enum class SoxrQuality {
  // soxr's LQ recipe with small DFTs: flat within 0.3 dB to 0.75 x the lower Nyquist (6 kHz at
  // 16 kHz), -13 dB at 0.875 x, images below -80 dB; about 9.3 ms of latency per 16k<->48k pass.
  // For a voice pipeline, where every millisecond adds to turn latency.
  kLowLatency,
  // soxr's HQ recipe (20-bit, flat to 0.91 x Nyquist); about 37 ms per 16k<->48k pass.
  kHigh,
};

class SoxrResampler {
 public:
  // Returns nullptr and sets `error` (if non-null) when a rate or the block is not positive, the
  // block does not map to a whole number of output samples, or libsoxr refuses the settings.
  static std::unique_ptr<SoxrResampler> Create(int in_rate_hz, int out_rate_hz,
                                               int in_block_samples, SoxrQuality quality,
                                               std::string* error);
  ~SoxrResampler();
  SoxrResampler(const SoxrResampler&) = delete;
  SoxrResampler& operator=(const SoxrResampler&) = delete;

  int in_block_samples() const { return in_block_samples_; }
  int out_block_samples() const { return out_block_samples_; }
  // How much later (in output samples) a sound comes out than it went in. libsoxr emits its output
  // in bursts; this much silence is emitted first so that every block can be filled on time.
  int latency_samples() const { return latency_samples_; }

  // Resamples one block. Returns false, leaving `out` untouched, when in.size() !=
  // in_block_samples() or out.size() != out_block_samples().
  bool Process(std::span<const int16_t> in, std::span<int16_t> out);

  // Forgets all state, as if just created (the same latency).
  void Reset();

  // Blocks that libsoxr could not fill on time (never expected: the start-up silence is measured
  // for this block size). Each one pads with silence and adds the shortfall to the latency.
  uint64_t underruns() const { return underruns_; }

 private:
  SoxrResampler(soxr* state, int in_block_samples, int out_block_samples, int latency_samples);
  // Gives libsoxr one block of input and appends all the output it has ready to fifo_.
  void Feed(std::span<const int16_t> in);

  soxr* state_;
  int in_block_samples_;
  int out_block_samples_;
  int latency_samples_;
  int initial_latency_samples_;
  uint64_t underruns_ = 0;
  // Output produced but not yet handed out: [0, fifo_size_) of fifo_. Sized at creation for the
  // largest burst, so it grows only if libsoxr ever bursts beyond that.
  std::vector<int16_t> fifo_;
  size_t fifo_size_ = 0;
};

}  // namespace callsim::agent
