#include "fakes/faults/faulty_tts.h"

#include <utility>

#include "fakes/faults/fault_streams.h"

namespace callsim::fakes {
namespace {

// A stream cut off after `remaining` frames: then silence, neither done nor error. An inner error
// before that point is passed on.
struct DropState {
  agent::TtsListener listener;
  std::unique_ptr<agent::TtsStream> inner;
  int remaining = 0;
  bool stopped = false;

  void Silence() {
    stopped = true;
    if (inner) inner->Cancel();
  }
};

agent::TtsListener WrapDropping(const std::shared_ptr<DropState>& state) {
  std::weak_ptr<DropState> weak = state;
  agent::TtsListener wrapped;
  wrapped.on_audio = [weak](const agent::Frame& frame) {
    std::shared_ptr<DropState> st = weak.lock();
    if (!st || st->stopped) return;
    --st->remaining;
    if (st->listener.on_audio) st->listener.on_audio(frame);
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

class DroppingStream final : public agent::TtsStream {
 public:
  explicit DroppingStream(std::shared_ptr<DropState> state) : state_(std::move(state)) {}
  ~DroppingStream() override { Cancel(); }
  void Cancel() override { state_->Silence(); }

 private:
  std::shared_ptr<DropState> state_;
};

std::unique_ptr<agent::TtsStream> StartDropping(agent::TtsProvider& inner, const std::string& text,
                                                agent::TtsListener listener, int keep_frames) {
  auto state = std::make_shared<DropState>();
  state->listener = std::move(listener);
  state->remaining = keep_frames;
  std::unique_ptr<agent::TtsStream> stream = inner.Synthesize(text, WrapDropping(state));
  if (state->stopped && stream) stream->Cancel();  // silenced from inside Synthesize
  state->inner = std::move(stream);
  return std::make_unique<DroppingStream>(std::move(state));
}

}  // namespace

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
    return StartDropping(inner_, text, std::move(listener), draw.drop_after);
  }
  return inner_.Synthesize(text, std::move(listener));
}

}  // namespace callsim::fakes
