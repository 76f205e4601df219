#include "fakes/faults/faulty_tts.h"

#include <utility>

#include "fakes/faults/fault_streams.h"

namespace callsim::fakes {

FaultyTts::FaultyTts(agent::Scheduler& scheduler, agent::Rng rng, FaultSpec spec,
                     agent::TtsProvider& inner)
    : scheduler_(scheduler), rng_(rng), spec_(std::move(spec)), inner_(inner) {}

std::unique_ptr<agent::TtsStream> FaultyTts::Synthesize(const std::string& text,
                                                        agent::TtsListener listener) {
  const uint64_t n = ++stats_.requests;
  agent::Rng rng = rng_.Fork("request/" + std::to_string(n));
  const FaultDraw draw = DrawFault(spec_, rng, 1, spec_.drop_max_frames);
  if (auto failed = fault_detail::FailedStream<agent::TtsStream>(scheduler_, spec_, draw, &stats_,
                                                                 listener.on_error)) {
    return failed;
  }
  if (draw.kind == FaultKind::kDrop) {  // counted by FailedStream
    return fault_detail::Dropping<agent::TtsStream, agent::TtsListener>::Start(
        std::move(listener), draw.drop_after,
        [&](agent::TtsListener wrapped) { return inner_.Synthesize(text, std::move(wrapped)); },
        &agent::TtsListener::on_audio);
  }
  return inner_.Synthesize(text, std::move(listener));
}

}  // namespace callsim::fakes
