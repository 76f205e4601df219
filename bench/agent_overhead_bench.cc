// The reference agent's own overhead per turn: CPU time spent by the agent (VAD, endpointing,
// STT streaming, LLM token handling, sentence chunking, TTS buffering, playout, tool guardrails
// with JSON Schema validation, events) for one caller turn and its reply, with every provider
// and tool answering at once so nothing modelled (provider or network delay, the endpointing
// wait) is counted. Budget (bench/RESULTS.md): at most 5 ms p99 per turn.
//   build/callsim_bench --benchmark_filter=AgentOverhead
//
// Each turn: the caller speaks 1.2 s (a tone: voiced), then is silent; the agent endpoints,
// gets a final, streams a two-sentence reply (every other turn via a tool call and a follow-up
// request), and plays it. CPU time (this thread) is read at turn boundaries, so a turn's figure
// also holds the stubs' and the simulation loop's cost: an upper bound on the agent's.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "agent/pipeline/agent_events.h"
#include "agent/pipeline/voice_agent.h"
#include "agent/runtime/events.h"
#include "fakes/tools/fake_tool_backends.h"
#include "fakes/tools/standard_tool_specs.h"
#include "agent/runtime/sim_scheduler.h"

namespace {

using namespace callsim;

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

agent::Frame Tone(int amplitude) {
  agent::Frame f;
  for (int i = 0; i < agent::kFrameSamples; ++i) {
    f.samples[static_cast<size_t>(i)] =
        static_cast<int16_t>(amplitude * std::sin(2 * M_PI * 440.0 * i / 16000.0));
  }
  return f;
}

// Keeps nothing; counts the tool calls that ran, to check the workload is what it claims.
class CountingSink final : public agent::EventSink {
 public:
  void Emit(int64_t, std::string_view, std::string_view kind, const nlohmann::json& d) override {
    if (kind != agent::agent_events::kToolAudit) return;
    agent::ToolAuditEvent audit;
    agent::FromJson(d, &audit);
    if (audit.decision == "executed") ++tools_executed;
  }
  int tools_executed = 0;
};

// An LLM or TTS stream whose whole answer is one scheduled task.
struct TaskStream final : agent::LlmStream, agent::TtsStream {
  explicit TaskStream(agent::Scheduler& s) : scheduler(s) {}
  ~TaskStream() override { Cancel(); }
  void Cancel() override { scheduler.Cancel(task); }
  agent::Scheduler& scheduler;
  agent::TaskId task = agent::kNoTask;
};

class InstantStt final : public agent::SttProvider {
 public:
  explicit InstantStt(agent::Scheduler& s) : scheduler_(s) {}
  std::unique_ptr<agent::SttSession> Open(agent::SttListener listener) override {
    return std::make_unique<Session>(scheduler_, std::move(listener));
  }

 private:
  class Session final : public agent::SttSession {
   public:
    Session(agent::Scheduler& s, agent::SttListener l) : scheduler_(s), listener_(std::move(l)) {}
    ~Session() override { scheduler_.Cancel(task_); }
    void PushAudio(const agent::Frame&) override {}
    void Finalize() override {
      task_ = scheduler_.After(0, [this] { listener_.on_final("where is my order four five six seven"); });
    }

   private:
    agent::Scheduler& scheduler_;
    agent::SttListener listener_;
    agent::TaskId task_ = agent::kNoTask;
  };
  agent::Scheduler& scheduler_;
};

class InstantLlm final : public agent::LlmProvider {
 public:
  explicit InstantLlm(agent::Scheduler& s) : scheduler_(s) {}
  uint64_t requests() const { return requests_; }
  std::unique_ptr<agent::LlmStream> Start(const agent::LlmRequest& request,
                                          agent::LlmListener listener) override {
    const bool after_tool = request.messages.back().role == "tool";
    const bool use_tool = !after_tool && (requests_++ % 2 == 0);
    auto stream = std::make_unique<TaskStream>(scheduler_);
    stream->task = scheduler_.After(0, [l = std::move(listener), after_tool, use_tool, n = requests_] {
      const char* text = after_tool ? "Your order has shipped. It arrives on Friday."
                                    : "Let me check that for you. One moment please.";
      std::string token;
      for (const char* p = text; *p; ++p) {  // word tokens, as a model streams them
        token.push_back(*p);
        if (*p == ' ' || p[1] == '\0') {
          l.on_token(token);
          token.clear();
        }
      }
      if (use_tool) {
        l.on_tool_call({"call_" + std::to_string(n), "check_order_status", R"({"order_id":"4567"})"});
      }
      l.on_done();
    });
    return stream;
  }

 private:
  agent::Scheduler& scheduler_;
  uint64_t requests_ = 0;
};

class InstantTts final : public agent::TtsProvider {
 public:
  explicit InstantTts(agent::Scheduler& s) : scheduler_(s), voice_(Tone(8000)) {}
  std::unique_ptr<agent::TtsStream> Synthesize(const std::string& text,
                                               agent::TtsListener listener) override {
    auto stream = std::make_unique<TaskStream>(scheduler_);
    const int frames = static_cast<int>(text.size()) * 2;  // ~40 ms per character
    stream->task = scheduler_.After(0, [this, l = std::move(listener), frames] {
      for (int i = 0; i < frames; ++i) l.on_audio(agent::TtsFrame::Held(voice_));
      l.on_done();
    });
    return stream;
  }

 private:
  agent::Scheduler& scheduler_;
  agent::Frame voice_;
};

void BM_AgentOverhead(benchmark::State& state) {
  const int turns = static_cast<int>(state.range(0));
  std::vector<double> per_turn_us;
  for (auto _ : state) {
    agent::SimScheduler scheduler;
    CountingSink sink;
    InstantStt stt(scheduler);
    InstantLlm llm(scheduler);
    InstantTts tts(scheduler);
    agent::AgentConfig config;
    config.tools.tools = fakes::StandardToolSpecs();
    config.greeting.clear();
    config.silence_timeout_ms = 0;
    config.max_call_ms = 1e9;  // one call of 500 turns (50 minutes)
    fakes::FakeToolBackendSpec instant;
    instant.latency = {1, 1, 1};
    fakes::FakeToolBackendMap backends =
        fakes::MakeFakeToolBackends(scheduler, agent::Rng(1), {{"orders", instant}});
    const agent::ToolBackends view = fakes::ToolBackendsView(backends);
    agent::CircuitBreakers breakers;
    agent::VoiceAgent voice_agent(scheduler, config, stt, llm, tts, sink);
    voice_agent.EnableTools(view, breakers);
    voice_agent.Start();

    const agent::Frame speech = Tone(12000);
    const agent::Frame silence{};
    constexpr int64_t kTurnUs = 6 * agent::kMicrosPerSecond;
    constexpr int64_t kSpeechUs = 1200 * agent::kMicrosPerMs;
    agent::Frame out;
    std::function<void()> tick;
    tick = [&] {
      const int64_t now = scheduler.NowUs();
      voice_agent.OnCallerFrame(now % kTurnUs < kSpeechUs ? speech : silence, now);
      voice_agent.NextOutputFrame(&out);
      scheduler.After(agent::kFrameUs, tick);
    };
    scheduler.At(0, tick);
    per_turn_us.reserve(per_turn_us.size() + static_cast<size_t>(turns));
    for (int t = 1; t <= turns; ++t) {
      const double before = ThreadCpuUs();
      scheduler.RunUntil(t * kTurnUs - 1);
      per_turn_us.push_back(ThreadCpuUs() - before);
    }
    // The last turn's endpoint falls after the cut-off; every other turn runs a tool.
    if (llm.requests() < static_cast<uint64_t>(turns - 1) || sink.tools_executed < turns / 2 - 1) {
      state.SkipWithError(("answered " + std::to_string(llm.requests()) + " requests, ran " +
                           std::to_string(sink.tools_executed) + " tools for " +
                           std::to_string(turns) + " turns").c_str());
      return;
    }
  }
  std::sort(per_turn_us.begin(), per_turn_us.end());
  auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(per_turn_us.size())));
    return per_turn_us[std::max<size_t>(rank, 1) - 1];
  };
  state.counters["turn_p50_us"] = at(0.50);
  state.counters["turn_p99_us"] = at(0.99);
  state.counters["turn_max_us"] = per_turn_us.back();
  state.counters["turns"] = static_cast<double>(per_turn_us.size());
}
BENCHMARK(BM_AgentOverhead)->Name("AgentOverhead")->Arg(500)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
