// Audio of a known length whose samples are made when they are read. A TTS reply is queued long
// before it plays, and a caller's utterance is planned before it is spoken; holding either as
// samples costs 32 KB a second per call, while a source that renders on demand holds only its
// description (the word modem's bursts) and makes the same samples when playout reaches them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/media/frame.h"

namespace callsim::agent {

class SampleSource {
 public:
  virtual ~SampleSource() = default;

  // Length in samples (16 kHz).
  int64_t size() const { return size_; }
  // Samples [pos, pos + count) into `out`; samples at or past size() read as zero. pos >= 0.
  // The same range always reads the same samples.
  virtual void Read(int64_t pos, int count, int16_t* out) const = 0;

 protected:
  explicit SampleSource(int64_t size) : size_(size) {}
  void set_size(int64_t size) { size_ = size; }

 private:
  int64_t size_;
};

// Samples already made (decoded from a provider, synthesised by espeak-ng, read from a file),
// owned or shared with whoever made them.
class HeldSamples final : public SampleSource {
 public:
  // `samples` followed by `silence` zero samples that take no memory.
  explicit HeldSamples(std::vector<int16_t> samples, int64_t silence = 0);
  explicit HeldSamples(std::shared_ptr<const std::vector<int16_t>> samples);

  void Read(int64_t pos, int count, int16_t* out) const override;

 private:
  std::shared_ptr<const std::vector<int16_t>> samples_;
};

// Frames of a source: frame `index` is samples [index * kFrameSamples, (index + 1) * kFrameSamples).
inline int64_t FrameCount(const SampleSource& source) {
  return (source.size() + kFrameSamples - 1) / kFrameSamples;
}
// Frame `index` of `source` into `out` (zero-padded past the end; not concealed).
void ReadFrame(const SampleSource& source, int64_t index, Frame* out);

}  // namespace callsim::agent
