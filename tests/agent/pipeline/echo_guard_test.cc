#include "agent/pipeline/echo_guard.h"

#include <gtest/gtest.h>

#include "agent/pipeline/vad.h"
#include "tests/agent/pipeline/pipeline_fakes.h"

namespace callsim::agent {
namespace {

using pipeline_test::IsSilent;
using pipeline_test::ToneFrame;

TEST(EchoGuardTest, GateIsTheLoudestOutputOfTheWindowLessTheGuard) {
  EchoGuard guard(/*guard_db=*/10);
  EXPECT_DOUBLE_EQ(guard.GateDbfs(), kSilenceDbfs - 10);  // nothing played yet
  const Frame loud = ToneFrame(-20);
  const Frame quiet = ToneFrame(-40);
  guard.OnOutputFrame(&quiet);
  guard.OnOutputFrame(&loud);
  guard.OnOutputFrame(&quiet);
  EXPECT_NEAR(guard.GateDbfs(), -30, 0.01);
  EXPECT_DOUBLE_EQ(guard.GateDbfs(), FrameLevelDbfs(loud) - 10);
}

TEST(EchoGuardTest, AFrameIsRememberedForExactlyTheWindow) {
  EchoGuard guard(/*guard_db=*/6);
  const Frame loud = ToneFrame(-20);
  guard.OnOutputFrame(&loud);
  for (int i = 1; i < EchoGuard::kWindowFrames; ++i) guard.OnOutputFrame(nullptr);
  EXPECT_NEAR(guard.GateDbfs(), -26, 0.01);  // 24 silent frames later: still in the window
  guard.OnOutputFrame(nullptr);              // the 25th overwrites it
  EXPECT_DOUBLE_EQ(guard.GateDbfs(), kSilenceDbfs - 6);
}

TEST(EchoGuardTest, OffGuardGatesNothingButDigitalSilence) {
  EchoGuard guard(/*guard_db=*/0);
  const Frame loud = ToneFrame(-10);
  guard.OnOutputFrame(&loud);
  EXPECT_DOUBLE_EQ(guard.GateDbfs(), kSilenceDbfs);
}

TEST(EchoGuardTest, TheSttHearsSilenceForEchoAndTheFrameForLouderSpeech) {
  EchoGuard guard(/*guard_db=*/10);
  const Frame caller = ToneFrame(-35, /*marker=*/7);
  EXPECT_TRUE(IsSilent(guard.SttInput(caller, -35, /*gate_dbfs=*/-30)));
  EXPECT_TRUE(IsSilent(guard.SttInput(caller, -30, /*gate_dbfs=*/-30)));  // at the gate: echo
  const Frame& passed = guard.SttInput(caller, -29.9, /*gate_dbfs=*/-30);
  EXPECT_EQ(&passed, &caller);
}

}  // namespace
}  // namespace callsim::agent
