#include "fakes/faults/faulty_llm.h"

#include <string>
#include <utility>

#include "fakes/faults/fault_streams.h"

namespace callsim::fakes {
namespace {

// A stream cut off after `remaining` tokens or tool calls: then silence, neither done nor error.
// An inner error before that point is passed on.
struct DropState {
  agent::LlmListener listener;
  std::unique_ptr<agent::LlmStream> inner;
  int remaining = 0;
  bool stopped = false;

  // Called after the event that used up the budget was delivered.
  void Silence() {
    stopped = true;
    if (inner) inner->Cancel();
  }
};

agent::LlmListener WrapDropping(const std::shared_ptr<DropState>& state) {
  std::weak_ptr<DropState> weak = state;
  agent::LlmListener wrapped;
  wrapped.on_token = [weak](const std::string& token) {
    std::shared_ptr<DropState> st = weak.lock();
    if (!st || st->stopped) return;
    --st->remaining;
    if (st->listener.on_token) st->listener.on_token(token);
    if (!st->stopped && st->remaining <= 0) st->Silence();
  };
  wrapped.on_tool_call = [weak](const agent::ToolCallRequest& call) {
    std::shared_ptr<DropState> st = weak.lock();
    if (!st || st->stopped) return;
    --st->remaining;
    if (st->listener.on_tool_call) st->listener.on_tool_call(call);
    if (!st->stopped && st->remaining <= 0) st->Silence();
  };
  wrapped.on_done = [weak] {
    std::shared_ptr<DropState> st = weak.lock();
    if (st && !st->stopped) st->Silence();  // swallowed: a dropped stream never finishes
  };
  wrapped.on_error = [weak](const std::string& error) {
    std::shared_ptr<DropState> st = weak.lock();
    if (!st || st->stopped) return;
    st->stopped = true;
    if (st->listener.on_error) st->listener.on_error(error);
  };
  return wrapped;
}

class DroppingStream final : public agent::LlmStream {
 public:
  explicit DroppingStream(std::shared_ptr<DropState> state) : state_(std::move(state)) {}
  ~DroppingStream() override { Cancel(); }
  void Cancel() override { state_->Silence(); }

 private:
  std::shared_ptr<DropState> state_;
};

std::unique_ptr<agent::LlmStream> StartDropping(agent::LlmProvider& inner,
                                                const agent::LlmRequest& request,
                                                agent::LlmListener listener, int keep_events) {
  auto state = std::make_shared<DropState>();
  state->listener = std::move(listener);
  state->remaining = keep_events;
  std::unique_ptr<agent::LlmStream> stream = inner.Start(request, WrapDropping(state));
  if (state->stopped && stream) stream->Cancel();  // silenced from inside Start
  state->inner = std::move(stream);
  return std::make_unique<DroppingStream>(std::move(state));
}

}  // namespace

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
    return StartDropping(inner_, request, std::move(listener), draw.drop_after);
  }
  return inner_.Start(request, std::move(listener));
}

}  // namespace callsim::fakes
