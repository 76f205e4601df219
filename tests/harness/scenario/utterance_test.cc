#include "harness/scenario/utterance.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

TEST(UtteranceTest, SplitsAtMarkersAndJoinsTheWords) {
  Utterance u;
  std::string error;
  ASSERT_TRUE(ParseUtterance("my number is[pause 900]  four five [ pause 250 ] six.", &u, &error))
      << error;
  EXPECT_EQ(u.words, "my number is four five six.");
  ASSERT_EQ(u.segments.size(), 3u);
  EXPECT_EQ(u.segments[0].text, "my number is");
  EXPECT_EQ(u.segments[0].pause_after_ms, 900);
  EXPECT_EQ(u.segments[1].text, "four five");
  EXPECT_EQ(u.segments[1].pause_after_ms, 250);
  EXPECT_EQ(u.segments[2].text, "six.");
  EXPECT_EQ(u.segments[2].pause_after_ms, 0);
}

TEST(UtteranceTest, WithoutMarkersTheTextIsKeptAsWritten) {
  Utterance u;
  std::string error;
  ASSERT_TRUE(ParseUtterance("  hello,  there ", &u, &error));
  EXPECT_EQ(u.words, "  hello,  there ");
  ASSERT_EQ(u.segments.size(), 1u);
  EXPECT_EQ(u.segments[0].text, u.words);
}

TEST(UtteranceTest, RejectsAndLeavesOutputUntouched) {
  for (const char* bad :
       {"a [pause 60001] b", "a [pause -5] b", "a [pause 1e9] b", "a [[pause 5] b",
        "a [pause 5]] b", "a [] b", "a [pause5] b", "a [pause 5] , [pause 5] b"}) {
    Utterance u;
    u.words = "unchanged";
    std::string error;
    EXPECT_FALSE(ParseUtterance(bad, &u, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(u.words, "unchanged") << bad;
  }
}

}  // namespace
}  // namespace callsim::harness
