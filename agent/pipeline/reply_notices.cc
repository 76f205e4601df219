#include "agent/pipeline/reply_notices.h"

namespace callsim::agent {

bool ReplyNotices::Take(Flag& flag) {
  if (!flag.due || flag.said) return false;
  flag.said = true;
  return true;
}

std::optional<ReplyNotices::Notice> ReplyNotices::TakeNext(size_t next_segment) {
  if (Take(blocked_)) return Notice::kBlocked;
  if (Take(failed_)) return Notice::kToolFailed;
  if (question_.empty() || question_segment_.has_value()) return std::nullopt;
  question_segment_ = next_segment;
  return Notice::kConfirmation;
}

}  // namespace callsim::agent
