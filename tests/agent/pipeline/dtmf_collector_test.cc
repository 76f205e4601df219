#include "agent/pipeline/dtmf_collector.h"

#include <gtest/gtest.h>

#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

using Added = DtmfCollector::Added;

TEST(DtmfCollectorTest, KeysUpToTheTerminatorBecomeOneMessage) {
  SimScheduler s;
  int timeouts = 0;
  DtmfCollector dtmf(s, /*max_keys=*/8, /*timeout_ms=*/3000, [&] { ++timeouts; });
  EXPECT_EQ(dtmf.last_key_us(), -1);
  EXPECT_EQ(dtmf.Add('1', 100), Added::kKept);
  EXPECT_EQ(dtmf.Add('2', 200), Added::kKept);
  EXPECT_EQ(dtmf.Add('#', 300), Added::kTerminator);
  EXPECT_EQ(dtmf.last_key_us(), 300);
  EXPECT_EQ(dtmf.TakeMessage(), "DTMF: 12");
  EXPECT_EQ(s.pending(), 0u);  // taking the message cancels the timeout
  s.RunAll();
  EXPECT_EQ(timeouts, 0);
  EXPECT_EQ(dtmf.TakeMessage(), "DTMF: #");  // nothing before it: the terminator alone
}

TEST(DtmfCollectorTest, TheTimeoutCountsFromTheLastKey) {
  SimScheduler s;
  std::vector<int64_t> fired_us;
  DtmfCollector dtmf(s, /*max_keys=*/8, /*timeout_ms=*/3000,
                     [&] { fired_us.push_back(s.NowUs()); });
  dtmf.Add('4', s.NowUs());
  s.RunUntil(1000000);
  dtmf.Add('2', s.NowUs());
  s.RunAll();
  EXPECT_EQ(fired_us, (std::vector<int64_t>{4000000}));
  EXPECT_EQ(dtmf.TakeMessage(), "DTMF: 42");
}

TEST(DtmfCollectorTest, KeysPastTheBoundAreDroppedButStillRestartTheTimeout) {
  SimScheduler s;
  int timeouts = 0;
  DtmfCollector dtmf(s, /*max_keys=*/2, /*timeout_ms=*/1000, [&] { ++timeouts; });
  EXPECT_EQ(dtmf.Add('1', 0), Added::kKept);
  EXPECT_EQ(dtmf.Add('2', 0), Added::kKept);
  EXPECT_EQ(dtmf.Add('3', 0), Added::kDropped);
  EXPECT_EQ(s.pending(), 1u);
  s.RunAll();
  EXPECT_EQ(timeouts, 1);
  EXPECT_EQ(dtmf.TakeMessage(), "DTMF: 12");
}

TEST(DtmfCollectorTest, ResetForgetsTheKeysAndTheTimeout) {
  SimScheduler s;
  int timeouts = 0;
  DtmfCollector dtmf(s, /*max_keys=*/8, /*timeout_ms=*/1000, [&] { ++timeouts; });
  dtmf.Add('9', 0);
  dtmf.Reset();
  s.RunAll();
  EXPECT_EQ(timeouts, 0);
  EXPECT_EQ(dtmf.TakeMessage(), "DTMF: #");
}

}  // namespace
}  // namespace callsim::agent
