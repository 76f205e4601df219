#include "fakes/faults/faulty_llm.h"

#include <string>
#include <utility>

#include "fakes/faults/fault_streams.h"

namespace callsim::fakes {

FaultyLlm::FaultyLlm(agent::Scheduler& scheduler, agent::Rng rng, FaultSpec spec,
                     agent::LlmProvider& inner)
    : scheduler_(scheduler), rng_(rng), spec_(std::move(spec)), inner_(inner) {}

std::unique_ptr<agent::LlmStream> FaultyLlm::Start(const agent::LlmRequest& request,
                                                   agent::LlmListener listener) {
  const uint64_t n = ++stats_.requests;
  agent::Rng rng = rng_.Fork("request/" + std::to_string(n));
  const FaultDraw draw = DrawFault(spec_, rng, 1, spec_.drop_max_tokens);
  if (auto failed = fault_detail::FailedStream<agent::LlmStream>(scheduler_, spec_, draw, &stats_,
                                                                 listener.on_error)) {
    return failed;
  }
  if (draw.kind == FaultKind::kDrop) {  // counted by FailedStream
    return fault_detail::Dropping<agent::LlmStream, agent::LlmListener>::Start(
        std::move(listener), draw.drop_after,
        [&](agent::LlmListener wrapped) { return inner_.Start(request, std::move(wrapped)); },
        &agent::LlmListener::on_token, &agent::LlmListener::on_tool_call);
  }
  return inner_.Start(request, std::move(listener));
}

}  // namespace callsim::fakes
