#include "agent/pipeline/repeat_request.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

TEST(RepeatRequestTest, RecognizesThePhrasesAsWholeWords) {
  EXPECT_TRUE(IsRepeatRequest("Sorry, could you say that again?"));
  EXPECT_TRUE(IsRepeatRequest("can you REPEAT"));
  EXPECT_TRUE(IsRepeatRequest("say it again please"));
  EXPECT_TRUE(IsRepeatRequest("come again?"));
  EXPECT_TRUE(IsRepeatRequest("Pardon."));
  EXPECT_FALSE(IsRepeatRequest("i want to check on my order"));
  EXPECT_FALSE(IsRepeatRequest("repeated"));        // not the word "repeat"
  EXPECT_FALSE(IsRepeatRequest("say that"));        // half a phrase
  EXPECT_TRUE(IsRepeatRequest("say that, again"));  // punctuation is not a word
  EXPECT_FALSE(IsRepeatRequest("say again that"));
  EXPECT_FALSE(IsRepeatRequest(""));
}

}  // namespace
}  // namespace callsim::agent
