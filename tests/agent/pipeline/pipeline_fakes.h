// Tiny scripted providers, audio generators and an event recorder for the pipeline tests. Every
// fake runs on the SimScheduler and records what it was asked, so tests can assert on it.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/media/frame.h"
#include "agent/providers/llm.h"
#include "agent/providers/stt.h"
#include "agent/providers/tts.h"
#include "agent/runtime/events.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent::pipeline_test {

inline constexpr int64_t kMs = 1000;  // microseconds per millisecond

// A 1 kHz tone whose RMS is `dbfs` (relative to full-scale square wave, as FrameLevelDbfs). 1 kHz
// has exactly 20 periods per frame, so every frame has the same level.
inline Frame ToneFrame(double dbfs, int16_t marker = 0) {
  Frame frame;
  const double amplitude = 32768.0 * std::sqrt(2.0) * std::pow(10.0, dbfs / 20.0);
  for (int i = 0; i < kFrameSamples; ++i) {
    frame.samples[i] =
        static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * 1000.0 * i / 16000.0)));
  }
  // Sample 0 of a sine is 0; a marker there tells the tests which sentence a frame came from.
  frame.samples[0] = marker;
  return frame;
}

// Uniform white noise with RMS `dbfs`, drawn from a seeded Rng.
inline void AddNoise(Frame* frame, double dbfs, Rng& rng) {
  const double half_width = 32768.0 * std::sqrt(3.0) * std::pow(10.0, dbfs / 20.0);
  for (int16_t& s : frame->samples) {
    const double v = s + rng.Uniform(-half_width, half_width);
    s = static_cast<int16_t>(std::lround(std::fmax(-32768.0, std::fmin(32767.0, v))));
  }
}

inline bool IsSilent(const Frame& frame) {
  for (int16_t s : frame.samples) {
    if (s != 0) return false;
  }
  return true;
}

struct RecordedEvent {
  int64_t t_us;
  std::string kind;
  nlohmann::json detail;
};

class EventRecorder final : public EventSink {
 public:
  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override {
    events.push_back(RecordedEvent{t_us, std::string(kind), detail});
  }
  int Count(std::string_view kind) const {
    int n = 0;
    for (const RecordedEvent& e : events) n += e.kind == kind;
    return n;
  }
  // The n-th event of `kind` (0-based), or nullptr.
  const RecordedEvent* Find(std::string_view kind, int n = 0) const {
    for (const RecordedEvent& e : events) {
      if (e.kind == kind && n-- == 0) return &e;
    }
    return nullptr;
  }
  // The "to" of every state transition, in order.
  std::vector<std::string> StatePath() const {
    std::vector<std::string> path;
    for (const RecordedEvent& e : events) {
      if (e.kind == "state") path.push_back(e.detail["to"].get<std::string>());
    }
    return path;
  }
  std::vector<RecordedEvent> events;
};

// Base for fake streams: owns scheduled tasks and cancels them on Cancel() or destruction.
class ScheduledStream {
 public:
  explicit ScheduledStream(Scheduler& scheduler) : scheduler_(scheduler) {}
  virtual ~ScheduledStream() { CancelAll(); }
  void Schedule(int64_t when_us, std::function<void()> task) {
    tasks_.push_back(scheduler_.At(when_us, std::move(task)));
  }
  // True when a task was still pending (the stream was cut short).
  bool CancelAll() {
    for (TaskId id : tasks_) scheduler_.Cancel(id);
    tasks_.clear();
    const bool active = !finished_;
    finished_ = true;
    return active;
  }
  void MarkFinished() { finished_ = true; }

 protected:
  Scheduler& scheduler_;

 private:
  std::vector<TaskId> tasks_;
  bool finished_ = false;
};

// STT: on Finalize, delivers the next scripted final (or "") after final_delay_ms.
class FakeStt final : public SttProvider {
 public:
  explicit FakeStt(Scheduler& scheduler) : scheduler_(scheduler) {}

  class Session final : public SttSession, public ScheduledStream {
   public:
    Session(FakeStt& owner, SttListener listener)
        : ScheduledStream(owner.scheduler_), owner_(owner), listener_(std::move(listener)) {
      for (const auto& [at_ms, text] : owner_.interims) {
        if (at_ms * kMs < scheduler_.NowUs() || !listener_.on_interim) continue;
        Schedule(at_ms * kMs, [this, text = text] { listener_.on_interim(text); });
      }
    }
    void PushAudio(const Frame&) override { ++owner_.frames_pushed; }
    void Finalize() override {
      ++owner_.finalize_calls;
      std::string text;
      if (owner_.next_final < owner_.finals.size()) text = owner_.finals[owner_.next_final++];
      if (owner_.fail_on_finalize) {
        Schedule(scheduler_.NowUs() + owner_.final_delay_ms * kMs,
                 [this] { listener_.on_error("stt down"); });
        return;
      }
      Schedule(scheduler_.NowUs() + owner_.final_delay_ms * kMs,
               [this, text] { listener_.on_final(text); });
    }

   private:
    FakeStt& owner_;
    SttListener listener_;
  };

  std::unique_ptr<SttSession> Open(SttListener listener) override {
    ++opens;
    return std::make_unique<Session>(*this, std::move(listener));
  }

  std::vector<std::string> finals;
  size_t next_final = 0;
  // Interims at absolute times (ms), delivered to a session open at that time.
  std::vector<std::pair<int64_t, std::string>> interims;
  int64_t final_delay_ms = 150;
  bool fail_on_finalize = false;
  int opens = 0;
  int finalize_calls = 0;
  int64_t frames_pushed = 0;

 private:
  Scheduler& scheduler_;
};

// One scripted LLM answer: tokens at offsets from the request, then done (or an error).
struct LlmScript {
  struct Token {
    int64_t at_ms;
    std::string text;
  };
  std::vector<Token> tokens;
  int64_t done_ms = -1;   // -1: never
  int64_t error_ms = -1;  // -1: no error
  std::vector<ToolCallRequest> tool_calls = {};  // delivered at the first token's time
};

class FakeLlm final : public LlmProvider {
 public:
  explicit FakeLlm(Scheduler& scheduler) : scheduler_(scheduler) {}

  class Stream final : public LlmStream, public ScheduledStream {
   public:
    Stream(FakeLlm& owner, const LlmScript& script, LlmListener listener)
        : ScheduledStream(owner.scheduler_), owner_(owner), listener_(std::move(listener)) {
      const int64_t now = scheduler_.NowUs();
      for (const ToolCallRequest& call : script.tool_calls) {
        const int64_t at = script.tokens.empty() ? 0 : script.tokens[0].at_ms;
        Schedule(now + at * kMs, [this, call] { listener_.on_tool_call(call); });
      }
      for (const LlmScript::Token& token : script.tokens) {
        owner_.token_times_us.push_back(now + token.at_ms * kMs);
        Schedule(now + token.at_ms * kMs, [this, text = token.text] { listener_.on_token(text); });
      }
      if (script.error_ms >= 0) {
        Schedule(now + script.error_ms * kMs, [this] {
          MarkFinished();
          listener_.on_error("llm overloaded");
        });
      }
      if (script.done_ms >= 0) {
        Schedule(now + script.done_ms * kMs, [this] {
          MarkFinished();
          listener_.on_done();
        });
      }
    }
    void Cancel() override {
      if (CancelAll()) ++owner_.cancelled_active;
    }

   private:
    FakeLlm& owner_;
    LlmListener listener_;
  };

  std::unique_ptr<LlmStream> Start(const LlmRequest& request, LlmListener listener) override {
    requests.push_back(request);
    request_times_us.push_back(scheduler_.NowUs());
    const LlmScript& script = scripts.at(std::min(scripts.size() - 1, requests.size() - 1));
    return std::make_unique<Stream>(*this, script, std::move(listener));
  }

  std::vector<LlmScript> scripts;  // one per request; the last one repeats
  std::vector<LlmRequest> requests;
  std::vector<int64_t> request_times_us;
  std::vector<int64_t> token_times_us;
  int cancelled_active = 0;

 private:
  Scheduler& scheduler_;
};

// TTS: after delay_ms, frames_per_request frames of a -20 dBFS tone, one every frame_interval_ms
// (0: all at once), then done. Sample 0 of every frame carries 1000 + the request's index.
class FakeTts final : public TtsProvider {
 public:
  explicit FakeTts(Scheduler& scheduler) : scheduler_(scheduler) {}

  class Stream final : public TtsStream, public ScheduledStream {
   public:
    Stream(FakeTts& owner, int index, TtsListener listener)
        : ScheduledStream(owner.scheduler_), owner_(owner), listener_(std::move(listener)) {
      const int64_t start = scheduler_.NowUs() + owner.DelayMs(index) * kMs;
      if (owner.fail) {
        Schedule(start, [this] {
          MarkFinished();
          listener_.on_error("tts down");
        });
        return;
      }
      const TtsFrame frame = TtsFrame::Held(ToneFrame(-20, static_cast<int16_t>(1000 + index)));
      const int frames = owner.FramesFor(index);
      for (int i = 0; i < frames; ++i) {
        Schedule(start + i * owner.frame_interval_ms * kMs,
                 [this, frame] { listener_.on_audio(frame); });
      }
      Schedule(start + std::max(0, frames - 1) * owner.frame_interval_ms * kMs, [this] {
        MarkFinished();
        listener_.on_done();
      });
    }
    void Cancel() override {
      if (CancelAll()) ++owner_.cancelled_active;
    }

   private:
    FakeTts& owner_;
    TtsListener listener_;
  };

  std::unique_ptr<TtsStream> Synthesize(const std::string& text, TtsListener listener) override {
    texts.push_back(text);
    request_times_us.push_back(scheduler_.NowUs());
    return std::make_unique<Stream>(*this, static_cast<int>(texts.size()) - 1,
                                    std::move(listener));
  }

  int64_t DelayMs(int index) const {
    return index < static_cast<int>(delays_ms.size()) ? delays_ms[index] : delay_ms;
  }
  int FramesFor(int index) const {
    return index < static_cast<int>(frames.size()) ? frames[index] : frames_per_request;
  }

  int64_t delay_ms = 100;
  std::vector<int64_t> delays_ms;  // per request index, overriding delay_ms
  int frames_per_request = 25;
  std::vector<int> frames;  // per request index, overriding frames_per_request
  int64_t frame_interval_ms = 0;
  bool fail = false;
  std::vector<std::string> texts;
  std::vector<int64_t> request_times_us;
  int cancelled_active = 0;

 private:
  Scheduler& scheduler_;
};

}  // namespace callsim::agent::pipeline_test
