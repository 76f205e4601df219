#include "agent/pipeline/pending_resume.h"

#include <gtest/gtest.h>

#include <vector>

#include "agent/runtime/sim_scheduler.h"

namespace callsim::agent {
namespace {

TEST(PendingResumeTest, TimesOutWithTheTextStillPending) {
  SimScheduler s;
  std::vector<int64_t> fired_us;
  PendingResume resume(s, /*timeout_ms=*/1500, [&] { fired_us.push_back(s.NowUs()); });
  EXPECT_FALSE(resume.pending());
  resume.Arm("and the order ships on Monday.");
  EXPECT_TRUE(resume.pending());
  s.RunAll();
  EXPECT_EQ(fired_us, (std::vector<int64_t>{1500000}));
  EXPECT_TRUE(resume.pending());  // the owner decides; the timeout does not drop it
  EXPECT_EQ(resume.Take(), "and the order ships on Monday.");
  EXPECT_FALSE(resume.pending());
  EXPECT_EQ(resume.Take(), "");
}

TEST(PendingResumeTest, DropForgetsTheTextAndTheTimeout) {
  SimScheduler s;
  int fired = 0;
  PendingResume resume(s, /*timeout_ms=*/1500, [&] { ++fired; });
  resume.Arm("the rest");
  resume.Drop();
  EXPECT_FALSE(resume.pending());
  EXPECT_EQ(s.pending(), 0u);
  s.RunAll();
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(resume.Take(), "");
}

TEST(PendingResumeTest, TakeCancelsTheTimeoutAndArmingAgainReplacesTheText) {
  SimScheduler s;
  int fired = 0;
  PendingResume resume(s, /*timeout_ms=*/1500, [&] { ++fired; });
  resume.Arm("first");
  s.RunUntil(1000000);
  resume.Arm("second");  // the timeout restarts from here
  s.RunUntil(2000000);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(resume.Take(), "second");
  s.RunAll();
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace callsim::agent
