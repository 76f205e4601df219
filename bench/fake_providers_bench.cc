// The fake providers over the wire (fakes/wire, served by agent/server/http_server.h) as the
// reference agent's own clients (agent/providers/wire) see them over loopback: how much latency
// each fake adds beyond what it models, at 200 concurrent streams, and how many requests a second
// one server worker answers.
//   build/callsim_bench --benchmark_filter=FakeProvider
//   CALLSIM_BENCH_STREAMS=20 build/callsim_bench --benchmark_filter=FakeProvider   (other loads)
//
// One server worker thread and one client thread (the machine's two cores). Modelled latencies
// are fixed (p50 = p95 = max), so every millisecond beyond them is the hop: the request's trip,
// the server's work, the answer's trip and the client's parsing.
//   Latency: 200 streams started at random over one second, then 3 more rounds on the warm keep-alive connections; only
//   the warm rounds count. LLM: every token against start + ttft + i / rate. TTS: the first
//   frame against start + ttfb. STT: 200 sessions streaming modem speech in real time, each
//   Finalize's final against its send time + the final latency.
//   Throughput: 200 requests kept in flight with nothing modelled (no time to first token, every
//   token at once; TTS at 1000x real time) for 3 s.
#include <benchmark/benchmark.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/providers/wire/deepgram_stt.h"
#include "agent/providers/wire/openai_llm.h"
#include "agent/providers/wire/openai_tts.h"
#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/server/http_server.h"
#include "fakes/modem/word_modem.h"
#include "fakes/wire/fake_providers.h"

namespace {

using namespace callsim;
namespace wire = agent::wire;

// CALLSIM_BENCH_STREAMS (4 to 1000) changes it, to see whether the tail grows with the load.
int StreamCount() {
  const char* text = std::getenv("CALLSIM_BENCH_STREAMS");
  const int n = text == nullptr ? 200 : std::atoi(text);
  return std::clamp(n, 4, 1000);
}
const int kStreams = StreamCount();
// The streams share 4 client objects (as 4 calls' agents would), each keeping its 50 connections
// alive between rounds (a client keeps at most 64 idle).
constexpr int kClients = 4;
const int kStreamsPerClient = std::min(64, (kStreams + kClients - 1) / kClients);
constexpr int kWarmRounds = 3;
// Each round's streams start at random over one second, as calls arrive: not all in one instant,
// nor on a grid that would line up their 20 ms token clocks into bursts.
int64_t StartOffsetUs(int round, int i) {
  agent::Rng rng = agent::Rng(1).Fork("start/" + std::to_string(round) + "/" + std::to_string(i));
  return static_cast<int64_t>(rng.Uniform() * 1e6);
}
constexpr double kTtftMs = 300;
constexpr double kTokensPerS = 50;
constexpr double kTtfbMs = 150;
constexpr double kFinalMs = 150;

fakes::LlmScript Script() {
  fakes::LlmScript script;
  std::string error;
  fakes::ParseLlmScript(
      "rules:\n  - say: \"Your order four five six seven has shipped and will arrive on "
      "Friday.\"\n",
      "bench", &script, &error);
  return script;
}

// The server (one worker) with the fakes, and a client thread with its own scheduler.
struct Rig {
  explicit Rig(bool modelled) {
    fakes::FakeProvidersConfig c;
    c.script = Script();
    if (modelled) {
      c.llm.ttft = {kTtftMs, kTtftMs, kTtftMs};
      c.llm.tokens_per_s = kTokensPerS;
      c.tts.ttfb = {kTtfbMs, kTtfbMs, kTtfbMs};
      c.stt.final_latency = {kFinalMs, kFinalMs, kFinalMs};
    } else {
      c.llm.ttft = {0, 0, 0};
      c.llm.tokens_per_s = 0;
      c.tts.ttfb = {0, 0, 0};
      c.tts.realtime_factor = 1000;
    }
    c.stt.profile = fakes::SttRobustnessProfile::Perfect();
    providers = std::make_unique<fakes::FakeProviders>(std::move(c));
    agent::ServerConfig sc;
    sc.port = 0;
    sc.workers = 1;
    sc.max_outbound_messages = 4096;
    agent::ServerHooks hooks;
    hooks.make_session = [](agent::StreamIo) { return nullptr; };
    hooks.routes = providers->Routes();
    hooks.streams = providers->Streams();
    server = std::make_unique<agent::HttpServer>(sc, std::move(hooks));
    server->Start();
    base = "http://127.0.0.1:" + std::to_string(server->port());
    client = std::thread([this] {
      scheduler = std::make_unique<agent::RealtimeScheduler>(io);
      ready.set_value();
      io.run();
      scheduler.reset();
    });
    ready.get_future().wait();
  }
  ~Rig() {
    work.reset();
    boost::asio::post(io, [this] { io.stop(); });
    client.join();
    server->Shutdown();
  }
  // Runs `fn` on the client thread and waits for it.
  void OnClient(std::function<void()> fn) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  wire::WireEndpoint Endpoint(const std::string& url) const {
    wire::WireEndpoint e;
    e.url = url;
    e.model = "bench";
    e.max_idle_connections = kStreamsPerClient;
    return e;
  }
  int64_t NowUs() const { return scheduler->NowUs(); }

  std::unique_ptr<fakes::FakeProviders> providers;
  std::unique_ptr<agent::HttpServer> server;
  std::string base;
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::unique_ptr<agent::RealtimeScheduler> scheduler;
  std::promise<void> ready;
  std::thread client;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Report(benchmark::State& state, const char* what, const std::vector<double>& added_ms,
            int errors) {
  state.counters["added_p50_ms"] = Percentile(added_ms, 0.50);
  state.counters["added_p99_ms"] = Percentile(added_ms, 0.99);
  state.counters["added_max_ms"] = Percentile(added_ms, 1.0);
  state.counters["samples"] = static_cast<double>(added_ms.size());
  state.counters["errors"] = errors;
  state.counters["streams"] = kStreams;
  std::printf("%s, %d: %zu samples, added latency p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors\n",
              what, kStreams, added_ms.size(), Percentile(added_ms, 0.5), Percentile(added_ms, 0.99),
              Percentile(added_ms, 1.0), errors);
}

// ---- LLM ----

void BM_FakeProviderLlmAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    std::vector<std::unique_ptr<wire::OpenAiLlm>> llm(kClients);
    rig.OnClient([&] {
      wire::OpenAiLlmConfig c;
      c.endpoint = rig.Endpoint(rig.base + "/v1");
      for (auto& l : llm) l = std::make_unique<wire::OpenAiLlm>(rig.io, *rig.scheduler, c);
    });
    std::vector<double> added;
    std::atomic<int> errors{0};
    for (int round = 0; round <= kWarmRounds; ++round) {
      std::promise<void> all_done;
      int remaining = kStreams;
      std::vector<std::unique_ptr<agent::LlmStream>> streams(kStreams);
      rig.OnClient([&] {
        const int64_t round_start = rig.NowUs();
        for (int i = 0; i < kStreams; ++i) rig.scheduler->At(round_start + StartOffsetUs(round, i), [&, i, round] {
          const int64_t start = rig.NowUs();
          auto token = std::make_shared<int>(0);
          agent::LlmListener l;
          l.on_token = [&, start, token, round](const std::string&) {
            const double modelled = kTtftMs * 1000 + *token * 1e6 / kTokensPerS;
            if (round > 0) added.push_back((rig.NowUs() - start - modelled) / 1000.0);
            ++*token;
          };
          auto finish = [&] {
            if (--remaining == 0) all_done.set_value();
          };
          l.on_done = finish;
          l.on_error = [&, finish](const std::string& error) {
            if (errors++ == 0) std::printf("first error: %s\n", error.c_str());
            finish();
          };
          agent::LlmRequest request;
          request.messages.push_back({"user", "where is my order", {}, {}});
          streams[i] = llm[i % kClients]->Start(request, std::move(l));
        });
      });
      all_done.get_future().wait();
      rig.OnClient([&] { streams.clear(); });
    }
    rig.OnClient([&] { llm.clear(); });
    Report(state, "LLM (streams in flight, every token)", added, errors);
  }
}
BENCHMARK(BM_FakeProviderLlmAddedLatency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- TTS ----

void BM_FakeProviderTtsAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    std::vector<std::unique_ptr<wire::OpenAiTts>> tts(kClients);
    rig.OnClient([&] {
      wire::OpenAiTtsConfig c;
      c.endpoint = rig.Endpoint(rig.base + "/v1");
      for (auto& t : tts) t = std::make_unique<wire::OpenAiTts>(rig.io, *rig.scheduler, c);
    });
    std::vector<double> added;
    int errors = 0;
    for (int round = 0; round <= kWarmRounds; ++round) {
      std::promise<void> all_done;
      int remaining = kStreams;
      std::vector<std::unique_ptr<agent::TtsStream>> streams(kStreams);
      rig.OnClient([&] {
        const int64_t round_start = rig.NowUs();
        for (int i = 0; i < kStreams; ++i) rig.scheduler->At(round_start + StartOffsetUs(round, i), [&, i, round] {
          const int64_t start = rig.NowUs();
          auto first = std::make_shared<bool>(true);
          agent::TtsListener l;
          l.on_audio = [&, start, first, round](const agent::Frame&) {
            if (*first && round > 0) added.push_back((rig.NowUs() - start) / 1000.0 - kTtfbMs);
            *first = false;
          };
          auto finish = [&] {
            if (--remaining == 0) all_done.set_value();
          };
          l.on_done = finish;
          l.on_error = [&, finish](const std::string&) {
            ++errors;
            finish();
          };
          streams[i] = tts[i % kClients]->Synthesize("your order has shipped.", std::move(l));
        });
      });
      all_done.get_future().wait();
      rig.OnClient([&] { streams.clear(); });
    }
    rig.OnClient([&] { tts.clear(); });
    Report(state, "TTS (streams in flight, first frame)", added, errors);
  }
}
BENCHMARK(BM_FakeProviderTtsAddedLatency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- STT ----

void BM_FakeProviderSttAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    const fakes::ModemAudio speech =
        fakes::EncodeSpeech("four five six seven", fakes::VoiceProfile{}, nullptr);
    std::unique_ptr<wire::DeepgramStt> stt;
    std::vector<std::unique_ptr<agent::SttSession>> sessions(kStreams);
    std::vector<int64_t> finalized_at(kStreams, 0);
    std::vector<double> added;
    int errors = 0;
    int finals = 0;
    int wrong = 0;
    std::promise<void> all_done;
    const int frames = static_cast<int>(speech.samples.size()) / agent::kFrameSamples + 20;
    const int rounds = kWarmRounds + 1;
    rig.OnClient([&] {
      wire::DeepgramSttConfig c;
      c.endpoint = rig.Endpoint(rig.base);
      stt = std::make_unique<wire::DeepgramStt>(rig.io, *rig.scheduler, c);
      for (int i = 0; i < kStreams; ++i) {
        agent::SttListener l;
        l.on_final = [&, i](const std::string& text) {
          // Round 0 opens the streams; later rounds count.
          if (finals >= kStreams) added.push_back((rig.NowUs() - finalized_at[i]) / 1000.0 - kFinalMs);
          if (text != "four five six seven") ++wrong;
          if (++finals == kStreams * rounds) all_done.set_value();
        };
        l.on_error = [&](const std::string&) {
          ++errors;
          if (++finals == kStreams * rounds) all_done.set_value();
        };
        sessions[i] = stt->Open(std::move(l));
      }
      // Each session streams the speech and then silence in real time, phase-shifted by its
      // index so the frames spread over the 20 ms; Finalize after the last frame of each round.
      for (int i = 0; i < kStreams; ++i) {
        const int64_t phase = (i * agent::kFrameUs) / kStreams;
        for (int round = 0; round < rounds; ++round) {
          for (int f = 0; f < frames; ++f) {
            const int64_t due = phase + (int64_t{round} * frames + f) * agent::kFrameUs;
            rig.scheduler->At(rig.NowUs() + due, [&, i, f, frames, speech_ptr = &speech] {
              agent::Frame frame;
              const size_t at = static_cast<size_t>(f) * agent::kFrameSamples;
              if (at < speech_ptr->samples.size()) {
                std::copy_n(speech_ptr->samples.begin() + static_cast<ptrdiff_t>(at),
                            std::min<size_t>(agent::kFrameSamples, speech_ptr->samples.size() - at),
                            frame.samples.begin());
              }
              sessions[i]->PushAudio(frame);
              if (f == frames - 1) {
                finalized_at[i] = rig.NowUs();
                sessions[i]->Finalize();
              }
            });
          }
        }
      }
    });
    all_done.get_future().wait();
    rig.OnClient([&] {
      sessions.clear();
      stt.reset();
    });
    state.counters["wrong_transcripts"] = wrong;
    Report(state, "STT (sessions in real time, Finalize to final)", added, errors);
  }
}
BENCHMARK(BM_FakeProviderSttAddedLatency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- throughput ----

template <typename Start>
double RequestsPerSecond(Rig& rig, Start start_one) {
  constexpr auto kRun = std::chrono::seconds(3);
  std::atomic<int> completed{0};
  std::atomic<int> errors{0};
  std::promise<void> stopped;
  const auto until = std::chrono::steady_clock::now() + kRun;
  auto in_flight = std::make_shared<int>(0);
  std::function<void()> next;
  next = [&] {
    if (std::chrono::steady_clock::now() >= until) {
      if (--*in_flight == 0) stopped.set_value();
      return;
    }
    start_one([&](bool ok) {
      ok ? ++completed : ++errors;
      boost::asio::post(rig.io, next);
    });
  };
  const auto t0 = std::chrono::steady_clock::now();
  rig.OnClient([&] {
    for (int i = 0; i < kStreams; ++i) {
      ++*in_flight;
      next();
    }
  });
  stopped.get_future().wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  %d requests in %.2f s, %d errors\n", completed.load(), seconds, errors.load());
  return completed / seconds;
}

void BM_FakeProviderLlmRequestsPerSecond(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(false);
    std::vector<std::unique_ptr<wire::OpenAiLlm>> llm(kClients);
    std::vector<std::unique_ptr<agent::LlmStream>> live;
    int n = 0;
    rig.OnClient([&] {
      wire::OpenAiLlmConfig c;
      c.endpoint = rig.Endpoint(rig.base + "/v1");
      for (auto& l : llm) l = std::make_unique<wire::OpenAiLlm>(rig.io, *rig.scheduler, c);
    });
    const double rps = RequestsPerSecond(rig, [&](std::function<void(bool)> done) {
      agent::LlmListener l;
      auto once = std::make_shared<std::function<void(bool)>>(std::move(done));
      l.on_done = [once] { (*once)(true); };
      l.on_error = [once](const std::string&) { (*once)(false); };
      agent::LlmRequest request;
      request.messages.push_back({"user", "where is my order", {}, {}});
      live.push_back(llm[n++ % kClients]->Start(request, std::move(l)));
      if (live.size() > 4 * kStreams) live.erase(live.begin(), live.begin() + kStreams);
    });
    rig.OnClient([&] {
      live.clear();
      llm.clear();
    });
    state.counters["requests_per_s"] = rps;
    std::printf("LLM: %.0f chat completions per second (12 streamed tokens each)\n", rps);
  }
}
BENCHMARK(BM_FakeProviderLlmRequestsPerSecond)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FakeProviderTtsRequestsPerSecond(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(false);
    std::vector<std::unique_ptr<wire::OpenAiTts>> tts(kClients);
    std::vector<std::unique_ptr<agent::TtsStream>> live;
    int n = 0;
    rig.OnClient([&] {
      wire::OpenAiTtsConfig c;
      c.endpoint = rig.Endpoint(rig.base + "/v1");
      for (auto& t : tts) t = std::make_unique<wire::OpenAiTts>(rig.io, *rig.scheduler, c);
    });
    const double rps = RequestsPerSecond(rig, [&](std::function<void(bool)> done) {
      agent::TtsListener l;
      auto once = std::make_shared<std::function<void(bool)>>(std::move(done));
      l.on_done = [once] { (*once)(true); };
      l.on_error = [once](const std::string&) { (*once)(false); };
      live.push_back(tts[n++ % kClients]->Synthesize("your order has shipped.", std::move(l)));
      if (live.size() > 4 * kStreams) live.erase(live.begin(), live.begin() + kStreams);
    });
    rig.OnClient([&] {
      live.clear();
      tts.clear();
    });
    state.counters["requests_per_s"] = rps;
    std::printf("TTS: %.0f speech requests per second (1.6 s of 24 kHz audio each)\n", rps);
  }
}
BENCHMARK(BM_FakeProviderTtsRequestsPerSecond)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
