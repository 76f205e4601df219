// The peak-memory estimate a run is checked against before it starts: the calls active at once
// follow from the arrivals and the pilot call's length, and MemAvailable is read as the kernel
// writes it.
#include "harness/run/memory_estimate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "harness/run/available_memory.h"
#include "harness/scenario/loader.h"

namespace callsim::harness {
namespace {

TEST(MemoryEstimate, PeakOverlapCountsArrivalsWithinOneCallLength) {
  EXPECT_EQ(PeakOverlap({}, 1000, 100), 0);
  EXPECT_EQ(PeakOverlap({0, 0, 0, 0}, 1, 100), 4);
  EXPECT_EQ(PeakOverlap({0, 0, 0, 0}, 1, 3), 3) << "the active-call bound caps it";
  // One arrival per second, calls of 2.5 s: at most three overlap.
  EXPECT_EQ(PeakOverlap({0, 1000000, 2000000, 3000000, 4000000}, 2500000, 100), 3);
  EXPECT_EQ(PeakOverlap({0, 1000000, 2000000}, 999999, 100), 1);
}

TEST(MemoryEstimate, ParsesMemAvailableInKibibytes) {
  const std::string meminfo =
      "MemTotal:       32594176 kB\nMemFree:         1234567 kB\n"
      "MemAvailable:   21168212 kB\nBuffers:          123456 kB\n";
  EXPECT_EQ(ParseMemAvailable(meminfo), int64_t{21168212} * 1024);
  EXPECT_EQ(ParseMemAvailable("MemTotal: 1 kB\n"), std::nullopt);
  EXPECT_EQ(ParseMemAvailable("MemAvailable: lots\n"), std::nullopt);
  EXPECT_EQ(ParseMemAvailable("XMemAvailable: 5 kB\n"), std::nullopt);
}

TEST(MemoryEstimate, FormatsBytesForPeople) {
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(int64_t{1} << 20), "1.0 MiB");
  EXPECT_EQ(FormatBytes(int64_t{100000} << 20), "97.7 GiB");
}

class MemoryEstimatePlan : public ::testing::Test {
 protected:
  MemoryEstimate Estimate(const std::string& load, int max_active_calls = 100000,
                          const std::string& record = "", Shard shard = {}) {
    const std::string yaml =
        "name: estimate\ncodec: l16\nfakes:\n  stt: { profile: perfect }\n"
        "  llm: { script: " CALLSIM_SOURCE_DIR "/scenarios/llm/support.yaml }\n"
        "turns:\n  - expect: [ { agent_says: { contains: \"how can i help\" } } ]\n"
        "  - user: \"thank you, bye\"\n  - hangup: {}\n" + load;
    LoadResult loaded = LoadScenarioText(yaml, "/tmp/estimate.yaml");
    EXPECT_TRUE(loaded.scenario);
    scenario_ = std::move(*loaded.scenario);
    RunPlan plan;
    std::string error;
    EXPECT_TRUE(MakeRunPlan(scenario_, &plan, &error)) << error;
    RecordOptions options;
    if (!record.empty()) {
      EXPECT_TRUE(ParseRecordPolicy(record, 100, &options.policy, &error)) << error;
    }
    return EstimateRunMemory(plan, 1, max_active_calls, options, shard);
  }
  Scenario scenario_;
};

TEST_F(MemoryEstimatePlan, AllCallersAtOnceAreAllActiveUpToTheBound) {
  const MemoryEstimate e = Estimate("load: { callers: 1000000 }\n");
  EXPECT_EQ(e.callers, 1000000);
  EXPECT_EQ(e.peak_active_calls, 100000);
  EXPECT_EQ(e.bytes_per_call, kActiveCallBytes);
  EXPECT_EQ(e.peak_bytes, kBaseBytes + 100000 * kActiveCallBytes + 1000000 * kBytesPerCaller);
  EXPECT_GT(e.call_s, 1.0);
  EXPECT_LT(e.call_s, 60.0);
}

// A shard holds a quarter of the callers, so a quarter of them are active at once.
TEST_F(MemoryEstimatePlan, AShardNeedsItsShareOfTheMemory) {
  const MemoryEstimate whole = Estimate("load: { callers: 1000 }\n");
  const MemoryEstimate quarter = Estimate("load: { callers: 1000 }\n", 100000, "", Shard{2, 4});
  EXPECT_EQ(whole.peak_active_calls, 1000);
  EXPECT_EQ(quarter.callers, 250);
  EXPECT_EQ(quarter.peak_active_calls, 250);
  EXPECT_EQ(quarter.peak_bytes, kBaseBytes + 250 * kActiveCallBytes + 250 * kBytesPerCaller);
}

TEST_F(MemoryEstimatePlan, ASlowArrivalRateKeepsFewCallsActive) {
  const MemoryEstimate e = Estimate("load: { callers: 1000, arrival: { rate_per_s: 1 } }\n");
  EXPECT_EQ(e.callers, 1000);
  // About one call per second of call length (the first arrival at t = 0 adds one).
  EXPECT_NEAR(static_cast<double>(e.peak_active_calls), e.call_s + 1, 1.0);
  EXPECT_LT(e.peak_bytes, int64_t{100} << 20);
}

// With --record every taped call holds its recording while it runs: whole seconds of stereo
// 16-bit samples at 16 kHz (64,000 bytes a second), one more for the chunk a frame may open.
TEST_F(MemoryEstimatePlan, RecordingAddsATapePerTapedActiveCall) {
  const std::string load = "load: { callers: 10 }\n";
  const MemoryEstimate off = Estimate(load);
  EXPECT_EQ(off.recorded_calls, 0);
  EXPECT_EQ(off.recording_bytes_per_call, 0);
  const MemoryEstimate all = Estimate(load, 100000, "all");
  EXPECT_EQ(all.recorded_calls, 10);
  EXPECT_EQ(all.recording_bytes_per_call,
            static_cast<int64_t>(std::ceil(all.call_s) + 1) * 64000);
  EXPECT_EQ(all.peak_bytes, off.peak_bytes + 10 * all.recording_bytes_per_call);
  EXPECT_NE(DescribeEstimate(all).find(", 10 recordings x "), std::string::npos)
      << DescribeEstimate(all);
  EXPECT_EQ(Estimate(load, 100000, "failed").recorded_calls, 10) << "every call waits for its verdict";
  EXPECT_EQ(Estimate(load, 100000, "3").recorded_calls, 3);
  EXPECT_EQ(DescribeEstimate(off).find("recordings"), std::string::npos);
}

}  // namespace
}  // namespace callsim::harness
