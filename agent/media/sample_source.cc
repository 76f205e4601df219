#include "agent/media/sample_source.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::agent {

HeldSamples::HeldSamples(std::vector<int16_t> samples, int64_t silence)
    : SampleSource(static_cast<int64_t>(samples.size()) + std::max<int64_t>(0, silence)),
      samples_(std::make_shared<const std::vector<int16_t>>(std::move(samples))) {}

HeldSamples::HeldSamples(std::shared_ptr<const std::vector<int16_t>> samples)
    : SampleSource(static_cast<int64_t>(samples->size())), samples_(std::move(samples)) {}

void HeldSamples::Read(int64_t pos, int count, int16_t* out) const {
  CALLSIM_CHECK(pos >= 0 && count >= 0);
  const auto held = static_cast<int64_t>(samples_->size());
  const int64_t from_held = std::clamp<int64_t>(held - pos, 0, count);
  if (from_held > 0) {
    std::memcpy(out, samples_->data() + pos, static_cast<size_t>(from_held) * sizeof(int16_t));
  }
  std::fill(out + from_held, out + count, int16_t{0});
}

void ReadFrame(const SampleSource& source, int64_t index, Frame* out) {
  source.Read(index * kFrameSamples, kFrameSamples, out->samples.data());
  out->concealed = false;
}

}  // namespace callsim::agent
