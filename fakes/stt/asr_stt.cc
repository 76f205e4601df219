#include "fakes/stt/asr_stt.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <functional>
#include <utility>

#include "fakes/voice/speech_stretcher.h"
#include "fakes/voice/sphinx_recognizer.h"

namespace callsim::fakes {
namespace {

constexpr size_t kPauseSamples = static_cast<size_t>(kAsrSttPauseMs) * agent::kSampleRateHz / 1000;
constexpr size_t kInterimEverySamples =
    static_cast<size_t>(kAsrSttInterimEveryMs) * agent::kSampleRateHz / 1000;

// Shared by the session and its scheduled tasks, so a callback that destroys the session leaves
// the tasks something valid to look at.
struct SessionState {
  SessionState(agent::Scheduler& s, agent::Rng r) : scheduler(s), rng(std::move(r)) {}
  agent::Scheduler& scheduler;
  agent::Rng rng;
  agent::SttListener listener;
  SphinxRecognizer* recognizer = nullptr;  // the thread's; null: error says why
  std::string error;
  SpeechStretcher stretcher{{kAsrSttSpeechLevel, kAsrSttGapMs, kAsrSttPrerollFrames,
                             kAsrSttMaxSeconds}};
  size_t interim_at = 0;             // the stretch's size at the last interim
  std::string heard;                 // the closed stretches since the last final
  std::string last_interim;
  // The finals waiting for or holding a slot, oldest first (each released when delivered).
  std::deque<std::shared_ptr<CapacityTicket>> tickets;
  bool closed = false;
};

// Runs `fn` after `delay_us` unless the session is gone by then (its tasks hold it weakly).
void Run(const std::shared_ptr<SessionState>& state, int64_t delay_us, std::function<void()> fn) {
  std::weak_ptr<SessionState> weak = state;
  state->scheduler.After(delay_us, [weak, fn = std::move(fn)] {
    if (std::shared_ptr<SessionState> s = weak.lock(); s && !s->closed) fn();
  });
}

class AsrSttSession final : public agent::SttSession {
 public:
  AsrSttSession(std::shared_ptr<SessionState> state, const AsrSttConfig& config)
      : interim_latency_(config.interim_latency),
        final_latency_(config.final_latency),
        capacity_(config.capacity),
        state_(std::move(state)) {}
  ~AsrSttSession() override {
    state_->closed = true;
    state_->tickets.clear();  // gives back every slot and place in the queue
  }

  void PushAudio(const agent::Frame& frame) override {
    SessionState& s = *state_;
    switch (s.stretcher.Push(frame)) {
      case SpeechStretcher::Step::kQuiet: return;
      case SpeechStretcher::Step::kClosed: HearStretch(); return;
      case SpeechStretcher::Step::kSpeech: break;
    }
    if (s.recognizer == nullptr) return;
    // An interim at each pause (a final pass over the stretch so far, which ends on a whole
    // phrase there), and during long speech without one, every kAsrSttInterimEveryMs, the best
    // partial path. Each decodes the stretch from its start, so they are kept this sparse.
    const std::vector<int16_t>& stretch = s.stretcher.stretch();
    std::string text;
    if (s.stretcher.quiet_samples() == kPauseSamples) {
      text = s.recognizer->Recognize(stretch);
    } else if (s.stretcher.loud() && stretch.size() >= s.interim_at + kInterimEverySamples) {
      text = s.recognizer->RecognizeSoFar(stretch);
    } else {
      return;
    }
    s.interim_at = stretch.size();
    std::string interim = s.heard;
    if (!text.empty()) interim += (interim.empty() ? "" : " ") + text;
    if (interim.empty() || interim == s.last_interim) return;
    s.last_interim = interim;
    Run(state_, interim_latency_.DrawUs(s.rng), [state = state_.get(), interim] {
      if (state->listener.on_interim) state->listener.on_interim(interim);
    });
  }

  // The stretch the stretcher has just closed: its words join what was heard since the last final.
  void HearStretch() {
    SessionState& s = *state_;
    if (s.recognizer != nullptr) {
      const std::string text = s.recognizer->Recognize(s.stretcher.stretch());
      if (!text.empty()) s.heard += (s.heard.empty() ? "" : " ") + text;
    }
    s.interim_at = 0;
  }

  void Finalize() override {
    SessionState& s = *state_;
    if (s.stretcher.Close()) HearStretch();
    const std::string text = std::exchange(s.heard, {});
    s.last_interim.clear();
    const int64_t latency = final_latency_.DrawUs(s.rng);
    auto deliver = [state = state_.get(), text, error = s.error] {
      if (!error.empty()) {
        if (state->listener.on_error) state->listener.on_error(error);
        return;
      }
      if (state->listener.on_final) state->listener.on_final(text);
    };
    if (!capacity_) {
      Run(state_, latency, deliver);
      return;
    }
    // The final latency counts from the grant; a refusal is this final's only event. A delivered
    // or refused final gives its ticket back.
    auto ticket = std::make_shared<CapacityTicket>();
    s.tickets.push_back(ticket);
    const CapacityTicket* mine = ticket.get();
    auto release = [mine](SessionState* state) {
      auto& t = state->tickets;
      t.erase(std::remove_if(t.begin(), t.end(), [mine](const auto& p) { return p.get() == mine; }),
              t.end());
    };
    auto deliver_and_release = [deliver, release](SessionState* state) {
      release(state);
      deliver();
    };
    std::weak_ptr<SessionState> weak = state_;
    *ticket = capacity_->Acquire(
        [weak, latency, deliver_and_release] {
          if (std::shared_ptr<SessionState> locked = weak.lock()) {
            Run(locked, latency, [state = locked.get(), deliver_and_release] {
              deliver_and_release(state);
            });
          }
        },
        [weak, release](const std::string& error) {
          std::shared_ptr<SessionState> locked = weak.lock();
          if (!locked || locked->closed) return;
          if (locked->listener.on_error) locked->listener.on_error(error);
          if (!locked->closed) release(locked.get());  // last: this callback is the ticket's
        });
    if (ticket->granted()) {
      Run(state_, latency, [state = state_.get(), deliver_and_release] {
        deliver_and_release(state);
      });
    }
  }


 private:
  const agent::LatencyModel interim_latency_;
  const agent::LatencyModel final_latency_;
  const std::shared_ptr<CapacityLimiter> capacity_;
  std::shared_ptr<SessionState> state_;
};

}  // namespace

AsrStt::AsrStt(agent::Scheduler& scheduler, agent::Rng rng, AsrSttConfig config)
    : scheduler_(scheduler), rng_(std::move(rng)), config_(std::move(config)) {}

std::unique_ptr<agent::SttSession> AsrStt::Open(agent::SttListener listener) {
  auto state = std::make_shared<SessionState>(
      scheduler_, rng_.Fork("session/" + std::to_string(next_session_++)));
  state->listener = std::move(listener);
  std::string error;
  state->recognizer = SharedSphinxRecognizer(config_.phrases, &error);
  if (state->recognizer == nullptr) state->error = "ASR STT: " + error;
  return std::make_unique<AsrSttSession>(std::move(state), config_);
}

}  // namespace callsim::fakes
