// `--record` on whole runs of a bundled scenario: the stereo layout (the microphone on the left,
// the ear on the right, both on the caller's clock and sample-aligned with the call's own
// events), the policies (all, failed, the first N, off) and byte-identical files for one seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/caller/caller_events.h"
#include "agent/pipeline/agent_events.h"
#include "harness/run/runner.h"
#include "harness/scenario/loader.h"
#include "harness/store/store.h"
#include "tests/harness/run/read_wav.h"
#include "tests/harness/scenario/temp_dir.h"

namespace callsim::harness {
namespace {

namespace fs = std::filesystem;
using testing::ReadWav;
using testing::WavContents;

const std::string kOrderStatus = std::string(CALLSIM_SOURCE_DIR) + "/scenarios/order_status.yaml";
constexpr int kSamplesPerMs = 16;
constexpr int kFrame = 320;
constexpr int kEarThreshold = 200;  // the Ear's: above it is agent speech

class RecordingRun : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = (dir_.path() / "order.db").string();
    std::string error;
    store_ = Store::Open(db_, &error);
    ASSERT_TRUE(store_) << error;
  }

  // Runs order_status with three callers, seed 5, recording by `policy` ("" for off).
  RunResult Run(const std::string& policy, std::vector<std::string> sets = {}) {
    sets.push_back("load.callers=3");
    LoadResult loaded = LoadScenarioFile(kOrderStatus, sets);
    EXPECT_TRUE(loaded.scenario);
    scenarios_.push_back(std::make_unique<Scenario>(std::move(*loaded.scenario)));
    RunPlan plan;
    std::string error;
    EXPECT_TRUE(MakeRunPlan(*scenarios_.back(), &plan, &error)) << error;
    RecordPolicy record;
    if (!policy.empty()) {
      EXPECT_TRUE(ParseRecordPolicy(policy, 100, &record, &error)) << error;
    }
    RunOptions options;
    options.seed = 5;
    options.scenario_arg = "order_status.yaml";
    options.record = RecordingsBesideDatabase(db_, record);
    options.record.warn = [](const std::string& m) { ADD_FAILURE() << m; };
    return RunScenario(plan, options, *store_);
  }

  std::string PathOf(const CallRow& call) const { return (dir_.path() / call.recording).string(); }

  // Caller-clock sample of an event of `call` at `t_ms` (both times since the run started).
  static int64_t SampleAt(const CallRow& call, double t_ms) {
    return std::llround((t_ms - call.started_ms) * kSamplesPerMs);
  }

  std::vector<EventRow> Events(int64_t run_id, const CallRow& call, std::string_view source,
                               std::string_view kind) const {
    std::vector<EventRow> out;
    for (const EventRow& e : store_->LoadEvents(run_id, call.call_id)) {
      if (e.source == source && e.kind == kind) out.push_back(e);
    }
    return out;
  }

  testing::TempDir dir_;
  std::string db_;
  std::unique_ptr<Store> store_;
  std::vector<std::unique_ptr<Scenario>> scenarios_;
};

int MaxAbs(const WavContents& w, int channel, int64_t from, int64_t to) {
  int peak = 0;
  for (int64_t i = std::max<int64_t>(0, from); i < std::min(to, w.frames); ++i) {
    peak = std::max(peak, std::abs(static_cast<int>(w.At(i, channel))));
  }
  return peak;
}

// The first sample at or after `from` louder than the ear's threshold; -1 if none.
int64_t FirstActive(const WavContents& w, int channel, int64_t from) {
  for (int64_t i = std::max<int64_t>(0, from); i < w.frames; ++i) {
    if (std::abs(static_cast<int>(w.At(i, channel))) > kEarThreshold) return i;
  }
  return -1;
}

TEST_F(RecordingRun, AllWritesAStereoFilePerCallAsLongAsTheCall) {
  const RunResult r = Run("all");
  ASSERT_EQ(r.calls, 3);
  EXPECT_EQ(r.recordings_written, 3);
  EXPECT_EQ(r.recordings_failed, 0);
  const std::vector<CallRow> calls = store_->LoadCalls(r.run_id);
  for (const CallRow& c : calls) {
    EXPECT_EQ(c.recording, "order.recordings/run-" + std::to_string(r.run_id) + "/call-" +
                               std::to_string(c.call_id) + ".wav");
    const WavContents w = ReadWav(PathOf(c));
    ASSERT_TRUE(w.opened) << c.recording;
    EXPECT_EQ(w.channels, 2);
    EXPECT_EQ(w.rate_hz, 16000);
    const double call_samples = (c.ended_ms - c.started_ms) * kSamplesPerMs;
    EXPECT_GT(call_samples, 5 * 16000) << "a real conversation, not an empty call";
    EXPECT_NEAR(static_cast<double>(w.frames), call_samples, kFrame) << c.recording;
  }
  const std::map<std::string, double> m = store_->LoadMetrics(r.run_id);
  EXPECT_EQ(m.at("recordings_written"), 3);
  EXPECT_EQ(m.at("recordings_failed"), 0);
  EXPECT_EQ(m.at("recordings_truncated"), 0);
  EXPECT_GT(m.at("recordings_bytes"), 3 * 5 * 16000 * 4);
}

// The left channel is the microphone: silent on this clean line until the caller's first
// utterance frame (the utterance_start event's tick), loud within its utterances.
TEST_F(RecordingRun, TheLeftChannelHasTheCallersSpeechWhereTheCallerSpoke) {
  const RunResult r = Run("all");
  for (const CallRow& c : store_->LoadCalls(r.run_id)) {
    const WavContents w = ReadWav(PathOf(c));
    ASSERT_TRUE(w.opened);
    const std::vector<EventRow> starts = Events(r.run_id, c, "caller", caller_events::kUtteranceStart);
    const std::vector<EventRow> ends = Events(r.run_id, c, "caller", caller_events::kUtteranceEnd);
    ASSERT_EQ(starts.size(), 2u) << "order_status says two things";
    ASSERT_EQ(ends.size(), 2u);
    int64_t previous_end = 0;
    for (size_t i = 0; i < starts.size(); ++i) {
      const int64_t from = SampleAt(c, starts[i].t_ms);
      const int64_t to = SampleAt(c, ends[i].t_ms) + kFrame;  // the event names the last frame
      EXPECT_EQ(MaxAbs(w, 0, previous_end, from), 0) << c.recording << ": before utterance " << i;
      const int64_t onset = FirstActive(w, 0, from);
      EXPECT_GE(onset, from);
      // The first word starts in the utterance_start frame (a tone's rising edge may cross the
      // ear's threshold just after it).
      EXPECT_LT(onset, from + 2 * kFrame);
      EXPECT_GT(MaxAbs(w, 0, from, to), 3000);
      previous_end = to;
    }
    EXPECT_EQ(MaxAbs(w, 0, previous_end, w.frames), 0) << "the caller said nothing more";
  }
}

// The right channel is the ear: each reply_onset the caller measured falls on the frame where the
// right channel first turns loud after the caller spoke, and agent speech (speech_start to
// speech_end, plus the line's delay) is the only sound on it.
TEST_F(RecordingRun, TheRightChannelHasTheAgentWhereTheEarHeardIt) {
  const RunResult r = Run("all");
  for (const CallRow& c : store_->LoadCalls(r.run_id)) {
    const WavContents w = ReadWav(PathOf(c));
    ASSERT_TRUE(w.opened);
    const std::vector<EventRow> ends = Events(r.run_id, c, "caller", caller_events::kUtteranceEnd);
    const std::vector<EventRow> onsets = Events(r.run_id, c, "caller", caller_events::kReplyOnset);
    ASSERT_GE(onsets.size(), 3u) << "the greeting and two answers";
    for (size_t i = 0; i < ends.size(); ++i) {
      // The reply to utterance i is the first onset after it; the ear's frame holds its start.
      const auto onset = std::find_if(onsets.begin(), onsets.end(),
                                      [&](const EventRow& e) { return e.t_ms > ends[i].t_ms; });
      ASSERT_NE(onset, onsets.end());
      const int64_t frame = SampleAt(c, onset->t_ms);
      const int64_t heard = FirstActive(w, 1, SampleAt(c, ends[i].t_ms) + kFrame);
      EXPECT_GE(heard, frame) << c.recording << " reply " << i;
      EXPECT_LT(heard, frame + kFrame) << c.recording << " reply " << i;
    }
    const std::vector<EventRow> spoke = Events(r.run_id, c, "agent", agent::agent_events::kSpeechStart);
    const std::vector<EventRow> stopped = Events(r.run_id, c, "agent", agent::agent_events::kSpeechEnd);
    ASSERT_GE(spoke.size(), 3u);
    ASSERT_LE(stopped.size(), spoke.size());
    int64_t quiet_from = 0;
    for (size_t i = 0; i < spoke.size(); ++i) {
      const int64_t from = SampleAt(c, spoke[i].t_ms);
      // Heard up to the line's delay and the jitter buffer after the agent stopped (or the call
      // ended first).
      const int64_t to = i < stopped.size() ? SampleAt(c, stopped[i].t_ms) + 300 * kSamplesPerMs
                                            : w.frames;
      EXPECT_LE(MaxAbs(w, 1, quiet_from, from), kEarThreshold) << c.recording << " before reply " << i;
      EXPECT_GT(MaxAbs(w, 1, from, to), 3000) << c.recording << " reply " << i;
      quiet_from = to;
    }
    EXPECT_LE(MaxAbs(w, 1, quiet_from, w.frames), kEarThreshold);
  }
}

TEST_F(RecordingRun, TheSameSeedGivesByteIdenticalFiles) {
  const RunResult a = Run("all");
  const RunResult b = Run("all");
  const std::vector<CallRow> calls_a = store_->LoadCalls(a.run_id);
  const std::vector<CallRow> calls_b = store_->LoadCalls(b.run_id);
  ASSERT_EQ(calls_a.size(), 3u);
  ASSERT_EQ(calls_b.size(), 3u);
  for (size_t i = 0; i < calls_a.size(); ++i) {
    ASSERT_NE(calls_a[i].recording, calls_b[i].recording) << "each run has its own folder";
    const std::string bytes = testing::FileBytes(PathOf(calls_a[i]));
    EXPECT_GT(bytes.size(), 100000u);
    EXPECT_EQ(bytes, testing::FileBytes(PathOf(calls_b[i]))) << calls_a[i].recording;
  }
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
}

// Recording watches the call without touching it: the same run unrecorded has the same log.
TEST_F(RecordingRun, OffWritesNoFolderAndRecordingChangesNothingElse) {
  const RunResult off = Run("");
  EXPECT_FALSE(fs::exists(dir_.path() / "order.recordings"));
  EXPECT_TRUE(off.recordings_folder.empty());
  for (const CallRow& c : store_->LoadCalls(off.run_id)) EXPECT_EQ(c.recording, "");
  const std::map<std::string, double> m = store_->LoadMetrics(off.run_id);
  EXPECT_EQ(m.count("recordings_written"), 0u);
  const RunResult on = Run("all");
  EXPECT_EQ(on.event_log_hash, off.event_log_hash);
}

TEST_F(RecordingRun, FirstNRecordsTheCallsWithTheLowestIds) {
  const RunResult r = Run("2");
  const std::vector<CallRow> calls = store_->LoadCalls(r.run_id);
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_NE(calls[0].recording, "");
  EXPECT_NE(calls[1].recording, "");
  EXPECT_EQ(calls[2].recording, "");
  EXPECT_FALSE(fs::exists(dir_.path() / "order.recordings" /
                          ("run-" + std::to_string(r.run_id)) / "call-2.wav"));
  EXPECT_EQ(r.recordings_written, 2);
}

// A turn_latency bound at the run's median latency fails the slower calls only; it judges the
// call without changing it, so `failed` writes exactly those calls, byte for byte as `all` did.
TEST_F(RecordingRun, FailedWritesOnlyTheCallsThatDidNotPass) {
  const RunResult all = Run("all");
  std::vector<double> latencies;
  for (const TurnRow& t : store_->LoadTurns(all.run_id)) {
    if (t.turn_index == 1 && t.turn_latency_ms) latencies.push_back(*t.turn_latency_ms);
  }
  ASSERT_EQ(latencies.size(), 3u);
  std::sort(latencies.begin(), latencies.end());
  ASSERT_LT(latencies[0], latencies[2]) << "three calls with one latency cannot be split";
  const std::string bound = std::to_string(latencies[1] - 0.001);  // the two slower ones fail
  const RunResult failed = Run("failed", {"turns.1.expect.1.turn_latency.max_ms=" + bound});
  const std::vector<CallRow> calls = store_->LoadCalls(failed.run_id);
  const std::vector<CallRow> all_calls = store_->LoadCalls(all.run_id);
  int failing = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    const CallRow& c = calls[i];
    if (c.task_completed) {
      EXPECT_EQ(c.recording, "") << "call " << c.call_id << " passed";
      EXPECT_FALSE(fs::exists(dir_.path() / ("order.recordings/run-" +
                                             std::to_string(failed.run_id) + "/call-" +
                                             std::to_string(c.call_id) + ".wav")));
      continue;
    }
    ++failing;
    ASSERT_NE(c.recording, "") << "call " << c.call_id << " failed: " << c.failure_reason;
    EXPECT_EQ(testing::FileBytes(PathOf(c)), testing::FileBytes(PathOf(all_calls[i])));
  }
  EXPECT_EQ(failing, 2);
  EXPECT_EQ(failed.recordings_written, 2);
}

}  // namespace
}  // namespace callsim::harness
