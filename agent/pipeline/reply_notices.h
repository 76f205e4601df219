// What the agent adds after the model's own words in a reply, once they are all queued (a tool
// call can come before the model's last sentence is complete): one refusal when a tool call of
// the reply was blocked, one apology when a tool failed, and the question that confirms a
// destructive call. Each is said at most once per reply, in that order.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

namespace callsim::agent {

class ReplyNotices {
 public:
  enum class Notice { kBlocked, kToolFailed, kConfirmation };

  void Block() { blocked_.due = true; }
  void ToolFailed() { failed_.due = true; }
  // A destructive call waits for the caller's yes or no: `question` asks for it.
  void AskConfirmation(std::string question) { question_ = std::move(question); }

  // The next notice due and not yet said, now marked said; nullopt when none is. `next_segment`
  // is the index of the reply sentence it becomes (remembered for the question).
  std::optional<Notice> TakeNext(size_t next_segment);

  // The confirmation question; empty when none was asked for.
  const std::string& question() const { return question_; }
  // The reply sentence the question became, once it was taken.
  std::optional<size_t> question_segment() const { return question_segment_; }

 private:
  struct Flag {
    bool due = false;
    bool said = false;
  };
  // Marks `flag` said if it is due and was not said yet; returns whether it did.
  static bool Take(Flag& flag);

  Flag blocked_;
  Flag failed_;
  std::string question_;
  std::optional<size_t> question_segment_;
};

}  // namespace callsim::agent
