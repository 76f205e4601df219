// Tiny scripted providers and an event recorder for the provider-decorator tests (resilience and
// fault injection). Each provider follows a per-request plan on the Scheduler and records what it
// was asked and when, so tests can assert exact times, orders and contents.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/media/frame.h"
#include "agent/providers/llm.h"
#include "agent/providers/stt.h"
#include "agent/providers/tts.h"
#include "agent/runtime/events.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent::provider_test {

inline constexpr int64_t kMs = 1000;  // microseconds per millisecond

inline int64_t MsUs(double ms) { return std::llround(ms * kMs); }

struct RecordedEvent {
  int64_t t_us;
  std::string source;
  std::string kind;
  nlohmann::json detail;
};

class RecordingSink final : public EventSink {
 public:
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override {
    events.push_back({t_us, std::string(source), std::string(kind), detail});
  }
  std::vector<RecordedEvent> OfKind(std::string_view kind) const {
    std::vector<RecordedEvent> out;
    for (const RecordedEvent& e : events) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  std::vector<RecordedEvent> events;
};

// What one LLM or TTS request does: `events` tokens (frames) from first_ms after the start, gap_ms
// apart; then on_error(error) if set, else nothing if hang, else on_done.
struct StreamPlan {
  double first_ms = 100;
  double gap_ms = 20;
  int events = 3;
  std::string error;
  bool hang = false;
  int tool_call_at = -1;  // LLM: event i is a tool call (id "<name>/<i>") instead of a token
};

inline StreamPlan FailPlan(double at_ms, std::string error = "boom") {
  StreamPlan p;
  p.first_ms = at_ms;
  p.events = 0;
  p.error = std::move(error);
  return p;
}

inline StreamPlan HangPlan() {
  StreamPlan p;
  p.events = 0;
  p.hang = true;
  return p;
}

// Plays a StreamPlan: `emit(i)` delivers event i; `finish()` the end. Shared by both fakes.
class PlanRunner : public std::enable_shared_from_this<PlanRunner> {
 public:
  PlanRunner(Scheduler& s, StreamPlan plan) : scheduler_(s), plan_(std::move(plan)) {}
  std::function<void(int)> emit;
  std::function<void()> done;
  std::function<void(const std::string&)> error;

  void Start() { Schedule(MsUs(plan_.first_ms)); }
  void Cancel() {
    cancelled_ = true;
    if (task_ != kNoTask) scheduler_.Cancel(task_);
    task_ = kNoTask;
  }
  bool cancelled() const { return cancelled_; }

 private:
  void Schedule(int64_t delay_us) {
    std::weak_ptr<PlanRunner> weak = weak_from_this();
    task_ = scheduler_.After(delay_us, [weak] {
      if (auto self = weak.lock()) self->Step();
    });
  }
  void Step() {
    task_ = kNoTask;
    if (cancelled_) return;
    if (next_ < plan_.events) {
      const int i = next_++;
      emit(i);
      if (!cancelled_) Schedule(MsUs(plan_.gap_ms));
      return;
    }
    cancelled_ = true;
    if (!plan_.error.empty()) {
      error(plan_.error);
    } else if (!plan_.hang) {
      done();
    }
  }

  Scheduler& scheduler_;
  StreamPlan plan_;
  int next_ = 0;
  TaskId task_ = kNoTask;
  bool cancelled_ = false;
};

template <typename Base>
class PlanStream final : public Base {
 public:
  explicit PlanStream(std::shared_ptr<PlanRunner> runner) : runner_(std::move(runner)) {}
  ~PlanStream() override { runner_->Cancel(); }
  void Cancel() override { runner_->Cancel(); }

 private:
  std::shared_ptr<PlanRunner> runner_;
};

// Request i follows plans[i] (the last plan once they run out). Token j of request i is
// "<name>/<i>/<j>".
class ScriptedLlm final : public LlmProvider {
 public:
  ScriptedLlm(Scheduler& s, std::string name, std::vector<StreamPlan> plans)
      : scheduler_(s), name_(std::move(name)), plans_(std::move(plans)) {}

  std::unique_ptr<LlmStream> Start(const LlmRequest& request, LlmListener listener) override {
    const size_t i = start_us.size();
    start_us.push_back(scheduler_.NowUs());
    requests.push_back(request);
    auto runner = std::make_shared<PlanRunner>(scheduler_, plans_[std::min(i, plans_.size() - 1)]);
    const std::string prefix = name_ + "/" + std::to_string(i) + "/";
    const int tool_call_at = plans_[std::min(i, plans_.size() - 1)].tool_call_at;
    runner->emit = [listener, prefix, tool_call_at](int j) {
      if (j == tool_call_at) {
        if (listener.on_tool_call) {
          listener.on_tool_call(ToolCallRequest{prefix + std::to_string(j), "lookup", "{}"});
        }
      } else if (listener.on_token) {
        listener.on_token(prefix + std::to_string(j));
      }
    };
    runner->done = [listener] {
      if (listener.on_done) listener.on_done();
    };
    runner->error = [listener](const std::string& e) {
      if (listener.on_error) listener.on_error(e);
    };
    runner->Start();
    runners.push_back(runner);
    return std::make_unique<PlanStream<LlmStream>>(runner);
  }

  std::vector<int64_t> start_us;
  std::vector<LlmRequest> requests;
  std::vector<std::shared_ptr<PlanRunner>> runners;

 private:
  Scheduler& scheduler_;
  std::string name_;
  std::vector<StreamPlan> plans_;
};

// Frame j of request i carries samples[0] = j, samples[1] = i, samples[2] = `id`.
class ScriptedTts final : public TtsProvider {
 public:
  ScriptedTts(Scheduler& s, int16_t id, std::vector<StreamPlan> plans)
      : scheduler_(s), id_(id), plans_(std::move(plans)) {}

  std::unique_ptr<TtsStream> Synthesize(const std::string& text, TtsListener listener) override {
    const size_t i = start_us.size();
    start_us.push_back(scheduler_.NowUs());
    texts.push_back(text);
    auto runner = std::make_shared<PlanRunner>(scheduler_, plans_[std::min(i, plans_.size() - 1)]);
    const int16_t id = id_;
    runner->emit = [listener, i, id](int j) {
      Frame frame;
      frame.samples[0] = static_cast<int16_t>(j);
      frame.samples[1] = static_cast<int16_t>(i);
      frame.samples[2] = id;
      if (listener.on_audio) listener.on_audio(TtsFrame::Held(frame));
    };
    runner->done = [listener] {
      if (listener.on_done) listener.on_done();
    };
    runner->error = [listener](const std::string& e) {
      if (listener.on_error) listener.on_error(e);
    };
    runner->Start();
    return std::make_unique<PlanStream<TtsStream>>(runner);
  }

  std::vector<int64_t> start_us;
  std::vector<std::string> texts;

 private:
  Scheduler& scheduler_;
  int16_t id_;
  std::vector<StreamPlan> plans_;
};

// A caller frame that names itself: samples[0] = n.
inline Frame NumberedFrame(int n) {
  Frame frame;
  frame.samples[0] = static_cast<int16_t>(n);
  return frame;
}

// What one STT session does. Its final is the numbers of the frames heard since the last final,
// space-separated ("3 4 5"), final_ms after Finalize. Every `interim_every` frames (> 0) an
// interim with the numbers so far follows after interim_ms.
struct SessionPlan {
  double final_ms = 100;
  int error_after_frames = -1;  // >= 0: on_error("stt down") right after this many frames
  double error_at_ms = -1;      // >= 0: on_error("stt down") this long after Open
  bool never_final = false;
  int interim_every = 0;
  double interim_ms = 10;
};

// Session i follows plans[i] (the last once they run out) and records what it heard.
class ScriptedStt final : public SttProvider {
 public:
  struct Heard {
    int64_t open_us = 0;
    std::vector<int> frames;  // frame numbers, in order pushed
    std::vector<int64_t> finalize_us;
    std::vector<size_t> finalize_after;  // frames pushed before each Finalize
    bool destroyed = false;
  };

  ScriptedStt(Scheduler& s, std::vector<SessionPlan> plans)
      : scheduler_(s), plans_(std::move(plans)) {}

  std::unique_ptr<SttSession> Open(SttListener listener) override;

  std::vector<std::shared_ptr<Heard>> sessions;

 private:
  Scheduler& scheduler_;
  std::vector<SessionPlan> plans_;
};

class ScriptedSession final : public SttSession {
 public:
  ScriptedSession(Scheduler& s, SessionPlan plan, SttListener listener,
                  std::shared_ptr<ScriptedStt::Heard> heard)
      : scheduler_(s), plan_(plan), listener_(std::move(listener)), heard_(std::move(heard)) {
    if (plan_.error_at_ms >= 0) {
      tasks_.push_back(scheduler_.After(MsUs(plan_.error_at_ms), [this] { Error(); }));
    }
  }
  ~ScriptedSession() override {
    heard_->destroyed = true;
    for (TaskId t : tasks_) scheduler_.Cancel(t);
  }

  void PushAudio(const Frame& frame) override {
    if (failed_) return;
    heard_->frames.push_back(frame.samples[0]);
    pending_text_ += (pending_text_.empty() ? "" : " ") + std::to_string(frame.samples[0]);
    const int n = static_cast<int>(heard_->frames.size());
    if (plan_.error_after_frames >= 0 && n == plan_.error_after_frames) {
      tasks_.push_back(scheduler_.After(0, [this] { Error(); }));
    }
    if (plan_.interim_every > 0 && n % plan_.interim_every == 0) {
      std::string text = pending_text_;
      tasks_.push_back(scheduler_.After(MsUs(plan_.interim_ms), [this, text] {
        if (!failed_ && listener_.on_interim) listener_.on_interim(text);
      }));
    }
  }

  void Finalize() override {
    heard_->finalize_us.push_back(scheduler_.NowUs());
    heard_->finalize_after.push_back(heard_->frames.size());
    if (plan_.never_final || failed_) return;
    std::string text = std::move(pending_text_);
    pending_text_.clear();
    tasks_.push_back(scheduler_.After(MsUs(plan_.final_ms), [this, text] {
      if (!failed_ && listener_.on_final) listener_.on_final(text);
    }));
  }

 private:
  void Error() {
    if (failed_) return;
    failed_ = true;
    if (listener_.on_error) listener_.on_error("stt down");
  }

  Scheduler& scheduler_;
  SessionPlan plan_;
  SttListener listener_;
  std::shared_ptr<ScriptedStt::Heard> heard_;
  std::string pending_text_;
  std::vector<TaskId> tasks_;  // cancelled on destruction (ids of tasks that ran are ignored)
  bool failed_ = false;
};

inline std::unique_ptr<SttSession> ScriptedStt::Open(SttListener listener) {
  const size_t i = sessions.size();
  auto heard = std::make_shared<Heard>();
  heard->open_us = scheduler_.NowUs();
  sessions.push_back(heard);
  return std::make_unique<ScriptedSession>(scheduler_, plans_[std::min(i, plans_.size() - 1)],
                                           std::move(listener), heard);
}

}  // namespace callsim::agent::provider_test
