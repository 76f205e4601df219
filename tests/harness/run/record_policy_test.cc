// `--record failed|all|N`: what the flag accepts, which calls get a tape, which tapes are kept.
#include "harness/run/record_policy.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

using Mode = RecordPolicy::Mode;

RecordPolicy Parse(const std::string& text) {
  RecordPolicy p;
  std::string error;
  EXPECT_TRUE(ParseRecordPolicy(text, 1000, &p, &error)) << text << ": " << error;
  return p;
}

std::string Refusal(const std::string& text) {
  RecordPolicy p{Mode::kAll, 0};
  std::string error;
  EXPECT_FALSE(ParseRecordPolicy(text, 1000, &p, &error)) << text;
  EXPECT_EQ(p.mode, Mode::kAll) << "left as it was";
  return error;
}

TEST(RecordPolicyTest, OffByDefault) {
  const RecordPolicy p;
  EXPECT_FALSE(p.on());
  EXPECT_FALSE(TapesCall(p, 0));
  EXPECT_FALSE(KeepsTape(p, CallStatus::kFailed, false));
  EXPECT_EQ(RecordPolicyText(p), "off");
}

TEST(RecordPolicyTest, ParsesFailedAllAndAWholeNumber) {
  EXPECT_EQ(Parse("failed").mode, Mode::kFailed);
  EXPECT_EQ(Parse("all").mode, Mode::kAll);
  EXPECT_EQ(Parse("1").mode, Mode::kFirst);
  EXPECT_EQ(Parse("1").first_calls, 1);
  EXPECT_EQ(Parse("1000").first_calls, 1000);
  EXPECT_EQ(RecordPolicyText(Parse("37")), "37");
  EXPECT_EQ(RecordPolicyText(Parse("failed")), "failed");
}

TEST(RecordPolicyTest, RefusesAnythingElseSayingWhatItTakes) {
  EXPECT_EQ(Refusal("0"), "expected failed, all or a whole number of calls in [1, 1000], got \"0\"");
  for (const char* bad : {"", "1001", "-1", "+3", " 3", "3 ", "3x", "0x10", "1e3", "2.5", "FAILED",
                          "fail", "none", "99999999999999999999999"}) {
    EXPECT_NE(Refusal(bad).find("got \"" + std::string(bad) + "\""), std::string::npos) << bad;
  }
}

TEST(RecordPolicyTest, FirstNTapesCallIdsBelowN) {
  const RecordPolicy p = Parse("3");
  EXPECT_TRUE(TapesCall(p, 0));
  EXPECT_TRUE(TapesCall(p, 2));
  EXPECT_FALSE(TapesCall(p, 3));
  EXPECT_FALSE(TapesCall(p, -1));
  EXPECT_TRUE(KeepsTape(p, CallStatus::kCompleted, true));
}

TEST(RecordPolicyTest, FailedTapesEveryCallAndKeepsOnlyThoseThatDidNotPass) {
  const RecordPolicy p = Parse("failed");
  EXPECT_TRUE(TapesCall(p, 0));
  EXPECT_TRUE(TapesCall(p, 999999));
  EXPECT_FALSE(KeepsTape(p, CallStatus::kCompleted, true));
  EXPECT_TRUE(KeepsTape(p, CallStatus::kCompleted, false)) << "an expectation failed";
  EXPECT_TRUE(KeepsTape(p, CallStatus::kFailed, false));
  EXPECT_TRUE(KeepsTape(p, CallStatus::kDropped, false));
  EXPECT_FALSE(KeepsTape(p, CallStatus::kAborted, false)) << "interrupted, not failed";
}

TEST(RecordPolicyTest, AllKeepsEveryCallEvenAborted) {
  const RecordPolicy p = Parse("all");
  EXPECT_TRUE(KeepsTape(p, CallStatus::kCompleted, true));
  EXPECT_TRUE(KeepsTape(p, CallStatus::kAborted, false));
}

}  // namespace
}  // namespace callsim::harness
