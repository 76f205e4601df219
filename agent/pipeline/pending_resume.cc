#include "agent/pipeline/pending_resume.h"

#include <utility>

namespace callsim::agent {

PendingResume::PendingResume(Scheduler& scheduler, double timeout_ms,
                             std::function<void()> on_timeout)
    : timeout_us_(MsToUs(timeout_ms)), on_timeout_(std::move(on_timeout)), timer_(scheduler) {}

void PendingResume::Arm(std::string text) {
  text_ = std::move(text);
  pending_ = true;
  timer_.After(timeout_us_, [this] { on_timeout_(); });
}

void PendingResume::Drop() {
  pending_ = false;
  text_.clear();
  timer_.Cancel();
}

std::string PendingResume::Take() {
  std::string text = std::move(text_);
  Drop();
  return text;
}

}  // namespace callsim::agent
