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
//   Latency: 200 streams started at random over one second, then more rounds on the warm
//   keep-alive connections (3 for the LLM, 10 for the TTS and STT); only the warm rounds count. LLM: every token against start + ttft +
//   i / rate. TTS: the first frame against start + ttfb. STT: 200 sessions streaming modem speech
//   in real time, each Finalize's final against its send time + the final latency.
//   The floor: beside each stream to a fake, started with it, one to a null route on the same
//   server from the same kind of client (so 400 streams in all, and the floor is measured at the
//   same moments and under the same load as the fake). The null routes speak the same wire format with bytes made up front and keep the same time (a timer per
//   token, the first 100 ms of PCM at ttfb, a fixed final after Finalize) and do nothing else:
//   what they add is what any server on this machine adds (loopback, timer wake-ups, the
//   client's parsing). A fake's own share is its added latency minus the floor's. Sharing the
//   one worker, each of a pair may wait behind the other's work: the floor also carries some of
//   the fake's cost, so the share is a lower bound in the tail. The null routes' own timer
//   lateness (when each timer ran, against when it was due, on the server) is printed too: the
//   machine's wake-up cost at this load, which no server here can beat.
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
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/providers/wire/deepgram_stt.h"
#include "agent/providers/wire/openai_llm.h"
#include "agent/providers/wire/openai_tts.h"
#include "agent/runtime/realtime_scheduler.h"
#include "agent/runtime/rng.h"
#include "agent/server/http_server.h"
#include "agent/server/stream_session.h"
#include "fakes/modem/word_modem.h"
#include "fakes/wire/fake_providers.h"
#include "fakes/wire/openai_chat.h"

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
// The LLM's 13 tokens a stream give 7,800 samples in 3 warm rounds; the TTS's and STT's one a
// stream need 10 for 2,000, so that their p99 is not six samples' say.
constexpr int kLlmWarmRounds = 3;
constexpr int kWarmRounds = 10;
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

// ---- the floor: null routes that keep the same time and do nothing else ----

const char* const kLlmWords[] = {"Your ", "order ", "four ", "five ", "six ", "seven ", "has ",
                                 "shipped ", "and ", "will ", "arrive ", "on ", "Friday."};

// How late the null routes' timers ran (ms): what the server's own wake-ups cost on this machine,
// under this load. Written on the server's worker, read after a run.
struct TimerLateness {
  std::mutex mutex;
  std::vector<double> ms;
  void Add(agent::Scheduler& scheduler, int64_t due_us) {
    const double late = static_cast<double>(scheduler.NowUs() - due_us) / 1000.0;
    std::lock_guard<std::mutex> lock(mutex);
    ms.push_back(late);
  }
  std::vector<double> Take() {
    std::lock_guard<std::mutex> lock(mutex);
    return std::exchange(ms, {});
  }
};

// Every SSE event a null chat completion sends, made once: the role chunk, one per word, the
// finish chunk and [DONE].
std::vector<std::string> NullChatEvents() {
  using nlohmann::json;
  auto event = [](const json& delta, std::string_view finish) {
    return "data: " + fakes::wire::ChunkJson("chatcmpl-null", 0, "bench", delta, finish) + "\n\n";
  };
  std::vector<std::string> events;
  events.push_back(event(json{{"role", "assistant"}, {"content", ""}}, ""));
  for (const char* word : kLlmWords) events.push_back(event(json{{"content", word}}, ""));
  events.push_back(event(json::object(), "stop"));
  events.push_back("data: [DONE]\n\n");
  return events;
}

// The modem's speech of the TTS text as 24 kHz s16le (nearest sample: the bytes only need to be
// audio of the right length), in 100 ms chunks.
std::vector<std::string> NullSpeechChunks() {
  const fakes::ModemAudio speech =
      fakes::EncodeSpeech("your order has shipped.", fakes::VoiceProfile{}, nullptr);
  const size_t out_samples = speech.samples.size() * 3 / 2;
  std::string pcm(out_samples * 2, '\0');
  for (size_t j = 0; j < out_samples; ++j) {
    const auto v = static_cast<uint16_t>(speech.samples[j * 2 / 3]);
    pcm[2 * j] = static_cast<char>(v & 0xFF);
    pcm[2 * j + 1] = static_cast<char>(v >> 8);
  }
  std::vector<std::string> chunks;
  constexpr size_t kChunkBytes = 2400 * 2;  // 100 ms at 24 kHz
  for (size_t at = 0; at < pcm.size(); at += kChunkBytes) chunks.push_back(pcm.substr(at, kChunkBytes));
  return chunks;
}

const std::string kNullFinal =
    R"({"type":"Results","channel_index":[0,1],"duration":1.0,"start":0.0,"is_final":true,)"
    R"("speech_final":true,"from_finalize":true,"channel":{"alternatives":[{"transcript":)"
    R"("four five six seven","confidence":1.0,"words":[]}]}})";

// The null STT: ignores the audio, answers each Finalize with kNullFinal after kFinalMs.
class NullListen final : public agent::StreamSession {
 public:
  NullListen(agent::StreamIo io, TimerLateness* lateness)
      : io_(std::move(io)), lateness_(lateness) {}
  void OnText(std::string_view text) override {
    if (text.find("Finalize") == std::string_view::npos) return;
    const int64_t due = io_.scheduler->NowUs() + agent::MsToUs(kFinalMs);
    tasks_.push_back(io_.scheduler->At(due, [this, due] {
      lateness_->Add(*io_.scheduler, due);
      io_.send_text(kNullFinal);
    }));
  }
  void OnBinary(std::string_view) override {}
  void OnClosed(const std::string&) override {
    for (agent::TaskId id : tasks_) io_.scheduler->Cancel(id);
  }

 private:
  agent::StreamIo io_;
  TimerLateness* lateness_;
  std::vector<agent::TaskId> tasks_;
};

void AddNullRoutes(agent::ServerHooks* hooks, TimerLateness* lateness) {
  auto chat = std::make_shared<const std::vector<std::string>>(NullChatEvents());
  agent::HttpRoute llm;
  llm.method = "POST";
  llm.path = "/null/v1/chat/completions";
  llm.handler = [chat, lateness](agent::HttpRequest, std::shared_ptr<agent::HttpResponder> responder) {
    agent::Scheduler& scheduler = responder->scheduler();
    const int64_t t0 = scheduler.NowUs();
    responder->Begin(200, {{"Content-Type", "text/event-stream; charset=utf-8"}});
    responder->Write((*chat)[0]);
    const size_t words = chat->size() - 3;
    for (size_t i = 0; i < words; ++i) {
      const int64_t due = t0 + agent::MsToUs(kTtftMs) + static_cast<int64_t>(i) * 1000000 /
                                                            static_cast<int64_t>(kTokensPerS);
      scheduler.At(due, [chat, responder, i, words, due, lateness, &scheduler] {
        lateness->Add(scheduler, due);
        responder->Write((*chat)[i + 1]);
        if (i + 1 < words) return;
        responder->Write((*chat)[words + 1]);
        responder->Write((*chat)[words + 2]);
        responder->End();
      });
    }
  };
  auto audio = std::make_shared<const std::vector<std::string>>(NullSpeechChunks());
  agent::HttpRoute tts;
  tts.method = "POST";
  tts.path = "/null/v1/audio/speech";
  tts.handler = [audio, lateness](agent::HttpRequest,
                                  std::shared_ptr<agent::HttpResponder> responder) {
    agent::Scheduler& scheduler = responder->scheduler();
    const int64_t t0 = scheduler.NowUs();
    for (size_t i = 0; i < audio->size(); ++i) {
      const int64_t due = t0 + agent::MsToUs(kTtfbMs) + static_cast<int64_t>(i) * 100000;
      scheduler.At(due, [audio, responder, i, due, lateness, &scheduler] {
                     if (i == 0) lateness->Add(scheduler, due);
                     if (i == 0) responder->Begin(200, {{"Content-Type", "audio/pcm"}});
                     responder->Write((*audio)[i]);
                     if (i + 1 == audio->size()) responder->End();
                   });
    }
  };
  hooks->routes.push_back(std::move(llm));
  hooks->routes.push_back(std::move(tts));
  agent::StreamRoute stt;
  stt.path = "/null/v1/listen";
  stt.binary = true;
  stt.make_session = [lateness](agent::StreamIo io) {
    return std::make_unique<NullListen>(std::move(io), lateness);
  };
  hooks->streams.push_back(std::move(stt));
}

// The server (one worker) with the fakes and the null routes, and a client thread with its own
// scheduler.
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
    AddNullRoutes(&hooks, &null_lateness);
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

  TimerLateness null_lateness;
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

struct Sample {
  std::vector<double> added_ms;
  int errors = 0;
  int wrong = 0;  // STT: finals with another transcript
};

void Report(benchmark::State& state, const char* what, const Sample& fake, const Sample& floor,
            const std::vector<double>& timer_late_ms) {
  const double p50 = Percentile(fake.added_ms, 0.50);
  const double p99 = Percentile(fake.added_ms, 0.99);
  const double floor_p50 = Percentile(floor.added_ms, 0.50);
  const double floor_p99 = Percentile(floor.added_ms, 0.99);
  state.counters["added_p50_ms"] = p50;
  state.counters["added_p99_ms"] = p99;
  state.counters["added_max_ms"] = Percentile(fake.added_ms, 1.0);
  state.counters["floor_p50_ms"] = floor_p50;
  state.counters["floor_p99_ms"] = floor_p99;
  state.counters["own_p99_ms"] = p99 - floor_p99;
  state.counters["server_timer_late_p99_ms"] = Percentile(timer_late_ms, 0.99);
  state.counters["samples"] = static_cast<double>(fake.added_ms.size());
  state.counters["errors"] = fake.errors + floor.errors;
  state.counters["streams"] = kStreams;
  std::printf(
      "%s, %d streams, %zu samples: added p50 %.2f ms, p99 %.2f ms, max %.2f ms; floor (null "
      "route) p50 %.2f ms, p99 %.2f ms; the fake's own p50 %.2f ms, p99 %.2f ms; the null "
      "route's timers late p50 %.2f ms, p99 %.2f ms; %d errors\n",
      what, kStreams, fake.added_ms.size(), p50, p99, Percentile(fake.added_ms, 1.0), floor_p50,
      floor_p99, p50 - floor_p50, p99 - floor_p99, Percentile(timer_late_ms, 0.50),
      Percentile(timer_late_ms, 0.99), fake.errors + floor.errors);
}

// Starts stream i of a round on the client thread (i < kStreams: the fake's, otherwise the null
// route's stream i - kStreams) and calls `done` once when it has ended.
using StartStream = std::function<void(int i, bool counted, std::function<void()> done)>;

// Runs 1 + warm_rounds rounds of kStreams pairs of streams, one to the fake and one to the null
// route, each pair started together at random over one second: the floor is measured at the same
// moments, under the same load, as the fake.
void Rounds(Rig& rig, int warm_rounds, const StartStream& start) {
  for (int round = 0; round <= warm_rounds; ++round) {
    std::promise<void> all_done;
    int remaining = 2 * kStreams;
    rig.OnClient([&] {
      const int64_t round_start = rig.NowUs();
      for (int i = 0; i < kStreams; ++i) {
        rig.scheduler->At(round_start + StartOffsetUs(round, i), [&, i, round] {
          for (const int stream : {i, kStreams + i}) {
            start(stream, round > 0, [&] {
              if (--remaining == 0) all_done.set_value();
            });
          }
        });
      }
    });
    all_done.get_future().wait();
  }
}

// ---- LLM ----

// The fake's and the floor's samples.
struct Samples {
  Sample fake;
  Sample floor;
};

Samples LlmLatency(Rig& rig) {
  Samples samples;
  std::vector<std::unique_ptr<wire::OpenAiLlm>> llm(2 * kClients);  // the fake's, then the null's
  std::vector<std::unique_ptr<agent::LlmStream>> streams(2 * kStreams);
  rig.OnClient([&] {
    for (int k = 0; k < 2 * kClients; ++k) {
      wire::OpenAiLlmConfig c;
      c.endpoint = rig.Endpoint(rig.base + (k < kClients ? "/v1" : "/null/v1"));
      llm[k] = std::make_unique<wire::OpenAiLlm>(rig.io, *rig.scheduler, c);
    }
  });
  Rounds(rig, kLlmWarmRounds, [&](int i, bool counted, std::function<void()> done) {
    const bool fake = i < kStreams;
    Sample& sample = fake ? samples.fake : samples.floor;
    const int64_t start = rig.NowUs();
    auto token = std::make_shared<int>(0);
    agent::LlmListener l;
    l.on_token = [&, start, token, counted](const std::string&) {
      const double modelled = kTtftMs * 1000 + *token * 1e6 / kTokensPerS;
      if (counted) sample.added_ms.push_back((rig.NowUs() - start - modelled) / 1000.0);
      ++*token;
    };
    l.on_done = done;
    l.on_error = [&, done](const std::string& error) {
      if (sample.errors++ == 0) std::printf("first error: %s\n", error.c_str());
      done();
    };
    agent::LlmRequest request;
    request.messages.push_back({"user", "where is my order", {}, {}});
    streams[i] = llm[(fake ? 0 : kClients) + i % kClients]->Start(request, std::move(l));
  });
  rig.OnClient([&] {
    streams.clear();
    llm.clear();
  });
  return samples;
}

void BM_FakeProviderLlmAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    const Samples samples = LlmLatency(rig);
    Report(state, "LLM (every token)", samples.fake, samples.floor, rig.null_lateness.Take());
  }
}
BENCHMARK(BM_FakeProviderLlmAddedLatency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- TTS ----

Samples TtsLatency(Rig& rig) {
  Samples samples;
  std::vector<std::unique_ptr<wire::OpenAiTts>> tts(2 * kClients);  // the fake's, then the null's
  std::vector<std::unique_ptr<agent::TtsStream>> streams(2 * kStreams);
  rig.OnClient([&] {
    for (int k = 0; k < 2 * kClients; ++k) {
      wire::OpenAiTtsConfig c;
      c.endpoint = rig.Endpoint(rig.base + (k < kClients ? "/v1" : "/null/v1"));
      tts[k] = std::make_unique<wire::OpenAiTts>(rig.io, *rig.scheduler, c);
    }
  });
  Rounds(rig, kWarmRounds, [&](int i, bool counted, std::function<void()> done) {
    const bool fake = i < kStreams;
    Sample& sample = fake ? samples.fake : samples.floor;
    const int64_t start = rig.NowUs();
    auto first = std::make_shared<bool>(true);
    agent::TtsListener l;
    l.on_audio = [&, start, first, counted](const agent::TtsFrame&) {
      if (*first && counted) sample.added_ms.push_back((rig.NowUs() - start) / 1000.0 - kTtfbMs);
      *first = false;
    };
    l.on_done = done;
    l.on_error = [&, done](const std::string& error) {
      if (sample.errors++ == 0) std::printf("first error: %s\n", error.c_str());
      done();
    };
    streams[i] = tts[(fake ? 0 : kClients) + i % kClients]->Synthesize("your order has shipped.",
                                                                       std::move(l));
  });
  rig.OnClient([&] {
    streams.clear();
    tts.clear();
  });
  return samples;
}

void BM_FakeProviderTtsAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    const Samples samples = TtsLatency(rig);
    Report(state, "TTS (first frame)", samples.fake, samples.floor, rig.null_lateness.Take());
  }
}
BENCHMARK(BM_FakeProviderTtsAddedLatency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- STT ----

// Sessions i < kStreams speak to the fake, the others to the null route, in pairs with the same
// phase.
Samples SttLatency(Rig& rig) {
  Samples samples;
  const fakes::ModemAudio speech =
      fakes::EncodeSpeech("four five six seven", fakes::VoiceProfile{}, nullptr);
  std::unique_ptr<wire::DeepgramStt> stt[2];  // the fake's, the null's
  const int n = 2 * kStreams;
  std::vector<std::unique_ptr<agent::SttSession>> sessions(n);
  std::vector<int64_t> finalized_at(n, 0);
  std::vector<int> finals_of(n, 0);
  int finals = 0;
  std::promise<void> all_done;
  const int frames = static_cast<int>(speech.samples.size()) / agent::kFrameSamples + 20;
  const int rounds = kWarmRounds + 1;
  rig.OnClient([&] {
    for (int k = 0; k < 2; ++k) {
      wire::DeepgramSttConfig c;
      c.endpoint = rig.Endpoint(rig.base + (k == 0 ? "" : "/null"));
      stt[k] = std::make_unique<wire::DeepgramStt>(rig.io, *rig.scheduler, c);
    }
    for (int i = 0; i < n; ++i) {
      Sample& sample = i < kStreams ? samples.fake : samples.floor;
      agent::SttListener l;
      l.on_final = [&, i](const std::string& text) {
        // Round 0 opens the streams; later rounds count.
        if (finals_of[i]++ > 0) {
          sample.added_ms.push_back((rig.NowUs() - finalized_at[i]) / 1000.0 - kFinalMs);
        }
        if (text != "four five six seven") ++sample.wrong;
        if (++finals == n * rounds) all_done.set_value();
      };
      l.on_error = [&](const std::string& error) {
        if (sample.errors++ == 0) std::printf("first error: %s\n", error.c_str());
        if (++finals == n * rounds) all_done.set_value();
      };
      sessions[i] = stt[i < kStreams ? 0 : 1]->Open(std::move(l));
    }
    // Each session streams the speech and then silence in real time, phase-shifted by its
    // index so the frames spread over the 20 ms; Finalize after the last frame of each round.
    for (int i = 0; i < n; ++i) {
      const int64_t phase = ((i % kStreams) * agent::kFrameUs) / kStreams;
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
    for (auto& s : stt) s.reset();
  });
  return samples;
}

void BM_FakeProviderSttAddedLatency(benchmark::State& state) {
  for (auto _ : state) {
    Rig rig(true);
    const Samples samples = SttLatency(rig);
    state.counters["wrong_transcripts"] = samples.fake.wrong + samples.floor.wrong;
    Report(state, "STT (Finalize to final)", samples.fake, samples.floor, rig.null_lateness.Take());
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
      if (live.size() > static_cast<size_t>(4 * kStreams)) live.erase(live.begin(), live.begin() + kStreams);
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
      if (live.size() > static_cast<size_t>(4 * kStreams)) live.erase(live.begin(), live.begin() + kStreams);
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
