#include "agent/pipeline/reply_notices.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

using Notice = ReplyNotices::Notice;

TEST(ReplyNoticesTest, NothingIsDueInAFreshReply) {
  ReplyNotices notices;
  EXPECT_EQ(notices.TakeNext(0), std::nullopt);
  EXPECT_EQ(notices.question(), "");
  EXPECT_EQ(notices.question_segment(), std::nullopt);
}

TEST(ReplyNoticesTest, RefusalThenApologyThenQuestionEachOnce) {
  ReplyNotices notices;
  notices.AskConfirmation("Shall I cancel the order?");
  notices.ToolFailed();
  notices.Block();
  EXPECT_EQ(notices.TakeNext(3), Notice::kBlocked);
  EXPECT_EQ(notices.TakeNext(4), Notice::kToolFailed);
  EXPECT_EQ(notices.TakeNext(5), Notice::kConfirmation);
  EXPECT_EQ(notices.question_segment(), 5u);
  EXPECT_EQ(notices.TakeNext(6), std::nullopt);
  notices.Block();  // a second blocked call in the same reply: no second refusal
  notices.ToolFailed();
  EXPECT_EQ(notices.TakeNext(6), std::nullopt);
  EXPECT_EQ(notices.question(), "Shall I cancel the order?");
}

TEST(ReplyNoticesTest, ANoticeDueLaterIsTakenThen) {
  ReplyNotices notices;
  notices.Block();
  EXPECT_EQ(notices.TakeNext(1), Notice::kBlocked);
  EXPECT_EQ(notices.TakeNext(2), std::nullopt);
  notices.ToolFailed();  // a tool of the same reply failed afterwards
  EXPECT_EQ(notices.TakeNext(2), Notice::kToolFailed);
}

}  // namespace
}  // namespace callsim::agent
