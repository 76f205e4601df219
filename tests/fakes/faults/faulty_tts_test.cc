#include "fakes/faults/faulty_tts.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/runtime/sim_scheduler.h"
#include "tests/agent/providers/scripted_providers.h"

namespace callsim::fakes {
namespace {

using agent::provider_test::kMs;
using agent::provider_test::ScriptedTts;
using agent::provider_test::StreamPlan;

struct TtsOutcome {
  int frames = 0;
  int done = 0;
  std::vector<std::string> errors;
};

agent::TtsListener Listen(TtsOutcome* o) {
  agent::TtsListener l;
  l.on_audio = [o](const agent::TtsFrame&) { ++o->frames; };
  l.on_done = [o] { ++o->done; };
  l.on_error = [o](const std::string& e) { o->errors.push_back(e); };
  return l;
}

StreamPlan Frames(int n) {
  StreamPlan p;
  p.events = n;
  return p;
}

TEST(FaultyTtsTest, DroppedStreamsStopAfterSomeFrames) {
  agent::SimScheduler s;
  ScriptedTts inner(s, 1, {Frames(100)});
  FaultSpec spec;
  spec.drop_rate = 1;
  spec.drop_max_frames = 20;
  FaultyTts tts(s, agent::Rng(1), spec, inner);
  constexpr int kN = 200;
  std::vector<TtsOutcome> outcomes(kN);
  std::vector<std::unique_ptr<agent::TtsStream>> streams;
  for (int i = 0; i < kN; ++i) streams.push_back(tts.Synthesize("Hello.", Listen(&outcomes[i])));
  s.RunAll();
  double total = 0;
  for (const TtsOutcome& o : outcomes) {
    ASSERT_GE(o.frames, 1);
    ASSERT_LE(o.frames, 20);
    ASSERT_EQ(o.done, 0);
    ASSERT_TRUE(o.errors.empty());
    total += o.frames;
  }
  EXPECT_NEAR(total / kN, 10.5, 1.5);  // uniform on 1..20
  EXPECT_EQ(tts.stats().drops, static_cast<uint64_t>(kN));
}

TEST(FaultyTtsTest, ErrorAndTimeoutRatesHoldWithinTolerance) {
  agent::SimScheduler s;
  ScriptedTts inner(s, 1, {Frames(3)});
  FaultSpec spec;
  spec.error_rate = 0.2;
  spec.timeout_rate = 0.3;
  FaultyTts tts(s, agent::Rng(2), spec, inner);
  constexpr int kN = 1000;
  std::vector<TtsOutcome> outcomes(kN);
  std::vector<std::unique_ptr<agent::TtsStream>> streams;
  for (int i = 0; i < kN; ++i) streams.push_back(tts.Synthesize("Hi.", Listen(&outcomes[i])));
  s.RunAll();
  int errors = 0, silent = 0, ok = 0;
  for (const TtsOutcome& o : outcomes) {
    errors += o.errors.size() == 1 && o.errors[0] == kInjectedError && o.frames == 0;
    silent += o.frames == 0 && o.errors.empty() && o.done == 0;
    ok += o.frames == 3 && o.done == 1;
  }
  EXPECT_EQ(errors + silent + ok, kN);
  // sd: 0.013 (p = 0.2) and 0.0145 (p = 0.3); tolerance about 3.4 sd.
  EXPECT_NEAR(errors / double(kN), 0.2, 0.045);
  EXPECT_NEAR(silent / double(kN), 0.3, 0.05);
  EXPECT_EQ(inner.start_us.size(), static_cast<size_t>(ok));
}

TEST(FaultyTtsTest, OutageFailsRequestsStartedInside) {
  agent::SimScheduler s;
  ScriptedTts inner(s, 1, {Frames(2)});
  FaultSpec spec;
  spec.outages = {{0, 500}};
  FaultyTts tts(s, agent::Rng(3), spec, inner);
  TtsOutcome during, after;
  auto a = tts.Synthesize("Hi.", Listen(&during));
  std::unique_ptr<agent::TtsStream> b;
  s.At(500 * kMs, [&] { b = tts.Synthesize("Hi.", Listen(&after)); });
  s.RunAll();
  EXPECT_EQ(during.errors, (std::vector<std::string>{kUnavailableError}));
  EXPECT_EQ(after.frames, 2);
  EXPECT_EQ(after.done, 1);
}

}  // namespace
}  // namespace callsim::fakes
