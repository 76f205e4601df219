#include "agent/pipeline/turn_completion.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

TEST(TurnCompletionTest, LastWordLeavesASentenceOpenOrNot) {
  EXPECT_TRUE(SoundsUnfinished("my order number is"));
  EXPECT_TRUE(SoundsUnfinished("and, um"));
  EXPECT_FALSE(SoundsUnfinished("number four five six seven"));
  EXPECT_FALSE(SoundsUnfinished(""));
}

TEST(TurnCompletionTest, PunctuationDecidesBeforeTheLastWord) {
  EXPECT_EQ(HowTurnSounds(""), TurnSounds::kUnknown);
  EXPECT_EQ(HowTurnSounds("  ,. "), TurnSounds::kUnknown);  // no words
  EXPECT_EQ(HowTurnSounds("number four five six seven"), TurnSounds::kUnknown);
  EXPECT_EQ(HowTurnSounds("number four five six seven."), TurnSounds::kFinished);
  EXPECT_EQ(HowTurnSounds("my card number is"), TurnSounds::kUnfinished);
  // An STT that punctuates: a clause mark keeps the turn open, a sentence end closes it, whatever
  // the word before (a caller may well end on "is.").
  EXPECT_EQ(HowTurnSounds("Hi,"), TurnSounds::kUnfinished);
  EXPECT_EQ(HowTurnSounds("I want to check on my order -"), TurnSounds::kUnfinished);
  EXPECT_EQ(HowTurnSounds("Is it the one I ordered?"), TurnSounds::kFinished);
  EXPECT_EQ(HowTurnSounds("Thank you. "), TurnSounds::kFinished);
  EXPECT_EQ(HowTurnSounds("That is what it is."), TurnSounds::kFinished);
}

}  // namespace
}  // namespace callsim::agent
