// Real time over loopback: `callsim run --target self` plays Twilio's side of Media Streams
// against callsim's own agent served in the same process, and `callsim serve` runs as its own
// process for a caller in another. Short calls (two callers each) keep the suite fast.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "tests/cli/cli_runner.h"
#include "tests/cli/wire/serve_process.h"
#include "tests/cli/wire/wire_fixture.h"

namespace callsim::harness {
namespace {

using testing::RunCli;
using testing::ServeProcess;
using testing::StartServe;
using testing::StopServe;
using testing::ExpectAllPassed;
using testing::kLooseLateness;
using testing::kScenarios;

class Realtime : public testing::WireTest {};

TEST_F(Realtime, OrderStatusPassesAgainstItsOwnAgentOverLoopback) {
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --target self --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const std::map<std::string, double> m = store->LoadMetrics(ExpectAllPassed(*store, 2));
  // Turn latency is measured at the caller's ear, and the harness kept its clock.
  ASSERT_TRUE(m.count("turn_latency_p50_ms"));
  EXPECT_GT(m.at("turn_latency_p50_ms"), 300);
  EXPECT_LT(m.at("turn_latency_p50_ms"), 3000);
  EXPECT_GT(m.at("harness_lateness_count"), 100);
  EXPECT_EQ(m.at("saturated"), 0);
  // The agent's transcripts reached the caller (relayed in process): WER is scored.
  ASSERT_TRUE(m.count("wer"));
  EXPECT_LT(m.at("wer"), 0.2);
  const std::optional<RunInfo> run = store->LoadRun(*store->LatestRunId());
  EXPECT_NE(run->config_json.find("\"protocol\":\"twilio\""), std::string::npos) << run->config_json;
  EXPECT_EQ(run->config_json.find("token="), std::string::npos) << "no credential is stored";
}

// Real voices both ways on the real clock: espeak-ng callers whose audio reaches the agent as
// Twilio's 8 kHz PCMU, the agent's STT recognising it with pocketsphinx and its TTS speaking with
// espeak-ng, and the caller's ear recognising that (on worker threads, so the media clock keeps
// time).
TEST_F(Realtime, RealVoicesBothWaysPassOrderStatusOverTheWire) {
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --target self --callers 2 --db " +
                          db_ + kLooseLateness +
                          " --set caller.voice.engine=espeak --set caller.ear.engine=asr"
                          " --set fakes.stt.engine=asr --set fakes.tts.engine=espeak");
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = ExpectAllPassed(*store, 2);
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  ASSERT_TRUE(m.count("wer"));
  EXPECT_LE(m.at("wer"), 0.10) << "the agent's STT on the callers' espeak-ng speech";
  EXPECT_EQ(m.at("saturated"), 0);
  // Every agent_says expectation was judged on what the ASR ear recognised.
  int judged = 0;
  for (const CallRow& c : store->LoadCalls(run_id)) {
    for (const EventRow& e : store->LoadEvents(run_id, c.call_id)) {
      if (e.kind == "reply_end") {
        EXPECT_EQ(e.detail_json.find("ear_late_stretches"), std::string::npos) << e.detail_json;
        ++judged;
      }
    }
  }
  EXPECT_GE(judged, 6);  // three replies a call
}

TEST_F(Realtime, BargeInClearsThePlayoutBufferAndStopsTheAgentAtTheEar) {
  const auto out = RunCli("run " + kScenarios + "barge_in.yaml --target self --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const std::map<std::string, double> m = store->LoadMetrics(ExpectAllPassed(*store, 2));
  ASSERT_TRUE(m.count("barge_in_stop_max_ms"));
  EXPECT_LT(m.at("barge_in_stop_max_ms"), 600);
  const int64_t run_id = *store->LatestRunId();
  for (const CallRow& c : store->LoadCalls(run_id)) {
    int clears = 0;
    for (const EventRow& e : store->LoadEvents(run_id, c.call_id)) {
      if (e.source == "call" && e.kind == "playout_clear") ++clears;
    }
    EXPECT_GE(clears, 1) << "call " << c.call_id << ": the playout buffer never saw clear";
  }
}

TEST_F(Realtime, ToolsBehindGuardrailsPassOverTheWire) {
  const auto out =
      RunCli("run " + kScenarios + "tools_guardrails.yaml --target self --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const std::map<std::string, double> m = store->LoadMetrics(ExpectAllPassed(*store, 2));
  EXPECT_EQ(m.at("unsafe_tool_executions_count"), 0);
  EXPECT_GE(m.at("tool_calls_executed_count"), 4);
}

TEST_F(Realtime, PaymentWithPiiPassesOverTheWire) {
  const auto out =
      RunCli("run " + kScenarios + "payment_pii.yaml --target self --callers 2 --db " + db_ + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  ExpectAllPassed(*store, 2);
}

// A WAV file's channels, rate and 16-bit interleaved samples, read by hand: callsim writes a plain
// 44-byte header (RIFF, fmt, data).
struct Wav {
  int channels = 0;
  int rate_hz = 0;
  std::vector<int16_t> samples;
  int64_t frames() const { return channels ? static_cast<int64_t>(samples.size()) / channels : 0; }
  int MaxAbs(int channel) const {
    int peak = 0;
    for (size_t i = static_cast<size_t>(channel); i < samples.size(); i += channels) {
      peak = std::max(peak, std::abs(static_cast<int>(samples[i])));
    }
    return peak;
  }
};

Wav ReadPlainWav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Wav w;
  if (bytes.size() < 44 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(36, 4, "data") != 0) {
    return w;
  }
  auto u16 = [&](size_t at) { return static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8; };
  w.channels = u16(22);
  w.rate_hz = u16(24) | u16(26) << 16;
  w.samples.resize((bytes.size() - 44) / 2);
  for (size_t i = 0; i < w.samples.size(); ++i) w.samples[i] = static_cast<int16_t>(u16(44 + 2 * i));
  return w;
}

// Over the wire the caller's clock is the media clock: the recording holds its microphone (left)
// and what its ear heard after the playout buffer (right), as long as the call.
TEST_F(Realtime, RecordAllWritesTheWireCallersMicrophoneAndEar) {
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --target self --callers 1 --db " +
                          db_ + " --record all" + kLooseLateness);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::unique_ptr<Store> store = Open();
  const std::vector<CallRow> calls = store->LoadCalls(*store->LatestRunId());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].recording, "runs.recordings/run-1/call-0.wav");
  const Wav w = ReadPlainWav(dir_ + "/" + calls[0].recording);
  EXPECT_EQ(w.channels, 2);
  EXPECT_EQ(w.rate_hz, 16000);
  EXPECT_NEAR(static_cast<double>(w.frames()), (calls[0].ended_ms - calls[0].started_ms) * 16, 320);
  EXPECT_GT(w.frames(), 5 * 16000);
  EXPECT_GT(w.MaxAbs(0), 3000) << "the caller spoke";
  EXPECT_GT(w.MaxAbs(1), 3000) << "the caller heard the agent";
}


// The mean turn latency at the ear of order_status against a served agent sending at `rate`.
double TurnLatencyAtRate(const std::string& dir, int rate) {
  const std::string db = dir + "/rate" + std::to_string(rate) + ".db";
  ServeProcess serve = StartServe({"--agent", kScenarios + "order_status.yaml", "--listen",
                                   "127.0.0.1:0", "--send-rate", std::to_string(rate)},
                                  dir + "/serve" + std::to_string(rate) + ".log");
  EXPECT_GT(serve.port, 0) << "serve did not print its port";
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --callers 2 --target ws://127.0.0.1:" +
                          std::to_string(serve.port) + "/twilio --db " + db + kLooseLateness);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_EQ(StopServe(serve), 0);
  std::string error;
  std::unique_ptr<Store> store = Store::Open(db, &error);
  const std::map<std::string, double> m = store->LoadMetrics(*store->LatestRunId());
  EXPECT_TRUE(m.count("turn_latency_avg_ms"));
  return m.count("turn_latency_avg_ms") ? m.at("turn_latency_avg_ms") : NAN;
}

TEST_F(Realtime, AnAgentSendingTwiceRealTimeIsHeardWithTheSameTurnLatency) {
  // Both at once: each has its own server and callers.
  auto paced_run = std::async(std::launch::async, [&] { return TurnLatencyAtRate(dir_, 1); });
  const double fast = TurnLatencyAtRate(dir_, 2);
  const double paced = paced_run.get();
  EXPECT_NEAR(paced, fast, 40) << "1x: " << paced << " ms, 2x: " << fast << " ms";
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

TEST(RealtimeFlags, BadTargetsAndServeFlagsAreRefusedBeforeAnythingRuns) {
  const std::string s = kScenarios + "order_status.yaml";
  struct Case {
    std::string args;
    std::string message;
  };
  const Case cases[] = {
      {"run " + s + " --target wss://agent.example/ws", "TLS is not supported"},
      {"run " + s + " --target http://127.0.0.1:1/x", "--target: expected ws://HOST:PORT/PATH or self"},
      {"run " + s + " --target self --token-url http://127.0.0.1:1/t --api-key-env HOME",
       "--target self makes its own tokens"},
      {"run " + s + " --target ws://127.0.0.1:1/x --token-url http://127.0.0.1:1/t",
       "--token-url and --api-key-env go together"},
      {"run " + s + " --target ws://127.0.0.1:1/x --token-url http://127.0.0.1:1/t "
       "--api-key-env CALLSIM_NO_SUCH_VARIABLE", "$CALLSIM_NO_SUCH_VARIABLE is not set"},
      {"run " + s + " --header X:1", "need --target"},
      {"run " + s + " --target ws://127.0.0.1:1/x --header NoColon", "--header: expected NAME:VALUE"},
      {"serve --agent " + s + " --listen nowhere", "--listen: expected HOST:PORT"},
      {"serve --agent " + s + " --send-rate 9", "--send-rate: expected 1 to 8"},
      {"serve --agent " + s + " --api-keys /nonexistent/keys", "--api-keys: /nonexistent/keys: cannot be read"},
  };
  for (const Case& c : cases) {
    const auto out = RunCli(c.args + " --db /tmp/callsim_never_written.db");
    EXPECT_EQ(out.exit_code, 2) << c.args << "\n" << out.text;
    EXPECT_NE(out.text.find(c.message), std::string::npos) << c.args << "\n" << out.text;
  }
  EXPECT_NE(access("/tmp/callsim_never_written.db", F_OK), 0);
}

TEST(RealtimeFlags, AnAgentThatIsNotThereFailsEveryCallWithTheReason) {
  char tmpl[] = "/tmp/callsim_rt_down_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string db = std::string(tmpl) + "/runs.db";
  // Port 1 on loopback: nothing listens there.
  const auto out = RunCli("run " + kScenarios + "order_status.yaml --callers 2 --target ws://127.0.0.1:1/twilio --db " + db);
  EXPECT_EQ(out.exit_code, 99) << out.text;
  std::string error;
  std::unique_ptr<Store> store = Store::Open(db, &error);
  ASSERT_NE(store, nullptr) << error;
  const std::vector<CallRow> calls = store->LoadCalls(*store->LatestRunId());
  ASSERT_EQ(calls.size(), 2u);
  for (const CallRow& c : calls) {
    EXPECT_EQ(c.status, "failed");
    EXPECT_NE(c.failure_reason.find("cannot connect to the target"), std::string::npos)
        << c.failure_reason;
  }
  std::system(("rm -rf '" + std::string(tmpl) + "'").c_str());
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

// SIGTERM drains: no new calls, the active ones finish, everything is stored, exit 0. A second
// SIGTERM stops at once: exit 1, the run aborted, every call that had finished stored.
TEST_F(Realtime, SigtermDrainsAndASecondSigtermStopsAtOnce) {
  const std::string served_db = dir_ + "/served.db";
  ServeProcess serve = StartServe({"--agent", kScenarios + "order_status.yaml", "--listen",
                                   "127.0.0.1:0", "--db", served_db, "--drain-s", "120"},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.port, 0);
  const std::string target = "ws://127.0.0.1:" + std::to_string(serve.port) + "/twilio";
  // Three calls, the third arriving 12 s after the first: the signals come in between.
  auto run = std::async(std::launch::async, [&] {
    return RunCli("run " + kScenarios + "order_status.yaml --callers 3 --set "
                  "load.arrival.rate_per_s=0.17 --target " + target + " --db " + db_);
  });
  sleep(3);
  const auto t0 = std::chrono::steady_clock::now();
  kill(serve.pid, SIGTERM);  // drain: the two calls in progress may finish
  sleep(3);
  kill(serve.pid, SIGTERM);  // at once
  int status = 0;
  waitpid(serve.pid, &status, 0);
  const double waited_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited_s, 10) << "the second SIGTERM did not stop the server at once";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  if (serve.out) fclose(serve.out);
  serve.out = nullptr;
  std::string error;
  std::unique_ptr<Store> store = Store::Open(served_db, &error);
  ASSERT_NE(store, nullptr) << error;
  const int64_t run_id = *store->LatestRunId();
  EXPECT_EQ(store->LoadRun(run_id)->status, "aborted");
  // The calls cut by the shutdown are stored too, as aborted, with their events.
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  EXPECT_GE(calls.size(), 1u);
  for (const CallRow& c : calls) EXPECT_EQ(c.status, "aborted") << c.failure_reason;
  // The callers see their calls cut, and the third cannot connect: the run fails.
  EXPECT_EQ(run.get().exit_code, 99);
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

TEST_F(Realtime, SigtermLetsTheActiveCallFinishThenStoresItAndExitsZero) {
  const std::string served_db = dir_ + "/served.db";
  // The call lasts about 36 s: longer than the default drain of 30 s.
  ServeProcess serve = StartServe({"--agent", kScenarios + "order_status.yaml", "--listen",
                                   "127.0.0.1:0", "--db", served_db, "--drain-s", "90"},
                                  dir_ + "/serve.log");
  ASSERT_GT(serve.port, 0);
  auto run = std::async(std::launch::async, [&] {
    return RunCli("run " + kScenarios + "order_status.yaml --callers 1 --target ws://127.0.0.1:" +
                  std::to_string(serve.port) + "/twilio --db " + db_ + kLooseLateness);
  });
  sleep(3);
  EXPECT_EQ(StopServe(serve), 0) << "the drain did not end cleanly";
  EXPECT_EQ(run.get().exit_code, 0) << "the call in progress was not let finish";
  std::string error;
  std::unique_ptr<Store> store = Store::Open(served_db, &error);
  ASSERT_NE(store, nullptr) << error;
  const int64_t run_id = *store->LatestRunId();
  EXPECT_EQ(store->LoadRun(run_id)->status, "completed");
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status, "completed") << calls[0].failure_reason;
  EXPECT_EQ(store->LoadCallReports(run_id).size(), 1u);
}

}  // namespace
}  // namespace callsim::harness

namespace callsim::harness {
namespace {

// A run whose harness fell behind its bound is saturated: stored and printed so, and failed even
// though every call passed.
TEST_F(Realtime, ASaturatedRunFailsWhateverItsCallsDid) {
  const std::string path = dir_ + "/greeting.yaml";
  std::ofstream(path) << "name: greeting\n"
                         "fakes: { llm: { script: " << kScenarios << "llm/support.yaml } }\n"
                         "realtime: { lateness_bound_ms: 0.001 }\n"
                         "turns:\n"
                         "  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
                         "  - hangup: {}\n";
  const auto out = RunCli("run " + path + " --target self --db " + db_);
  EXPECT_EQ(out.exit_code, 99) << out.text;
  EXPECT_NE(out.text.find("SATURATED"), std::string::npos) << out.text;
  std::unique_ptr<Store> store = Open();
  const int64_t run_id = *store->LatestRunId();
  const std::optional<RunInfo> run = store->LoadRun(run_id);
  EXPECT_EQ(run->exit_code, 99);
  EXPECT_EQ(run->end_reason.rfind("saturated: harness lateness p99", 0), 0u) << run->end_reason;
  const std::map<std::string, double> m = store->LoadMetrics(run_id);
  EXPECT_EQ(m.at("saturated"), 1);
  EXPECT_GT(m.at("harness_lateness_p99_ms"), 0.001);
  EXPECT_TRUE(store->LoadHistogram(run_id, "harness_lateness_us").has_value());
  const std::vector<CallRow> calls = store->LoadCalls(run_id);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].task_completed) << calls[0].failure_reason;
}

}  // namespace
}  // namespace callsim::harness
