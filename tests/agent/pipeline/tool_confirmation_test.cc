#include "agent/pipeline/tool_confirmation.h"

#include <gtest/gtest.h>

#include <string>

namespace callsim::agent {
namespace {

std::string Read(std::string_view text) { return ConfirmationAnswerName(ReadConfirmation(text)); }

TEST(ToolConfirmationTest, PlainAssentIsYesAndRefusalIsNo) {
  EXPECT_EQ(Read("Yes, please."), "yes");
  EXPECT_EQ(Read("okay go ahead"), "yes");
  EXPECT_EQ(Read("sure"), "yes");
  EXPECT_EQ(Read("No."), "no");
  EXPECT_EQ(Read("wait, don't do that"), "no");
  EXPECT_EQ(Read("dont"), "no");
}

TEST(ToolConfirmationTest, BothNeitherOrLooseWordsAreUnclear) {
  EXPECT_EQ(Read("yes, no, I am not sure"), "unclear");  // both
  EXPECT_EQ(Read("repeat that please"), "unclear");      // "please" alone is not assent
  EXPECT_EQ(Read("go back"), "unclear");
  EXPECT_EQ(Read("yesterday"), "unclear");  // whole words only
  EXPECT_EQ(Read(""), "unclear");
}

}  // namespace
}  // namespace callsim::agent
