#include "agent/postcall/postcall_queue.h"

#include <algorithm>
#include <utility>

namespace callsim::agent {

PostCallQueue::PostCallQueue(Scheduler& scheduler, PostCallQueueConfig config, DoneFn done)
    : scheduler_(scheduler), config_(std::move(config)), done_(std::move(done)) {
  config_.processing_time_us = std::max<int64_t>(config_.processing_time_us, 0);
}

PostCallQueue::~PostCallQueue() { CancelTask(); }

bool PostCallQueue::Enqueue(PostCallJob job) {
  if (jobs_.size() >= config_.capacity) {
    ++dropped_;
    return false;
  }
  jobs_.push_back(Pending{std::move(job), scheduler_.NowUs()});
  ++accepted_;
  if (task_ == kNoTask) ScheduleHead();
  return true;
}

size_t PostCallQueue::Drain() {
  const size_t n = jobs_.size();
  for (size_t i = 0; i < n; ++i) {
    // A callback's Enqueue may have scheduled the next head: this loop delivers it instead.
    CancelTask();
    PostCallResult result = BuildHead();
    if (done_) done_(std::move(result));
  }
  CancelTask();
  if (!jobs_.empty()) ScheduleHead();
  return n;
}

void PostCallQueue::ScheduleHead() {
  task_ = scheduler_.After(config_.processing_time_us, [this] { OnHeadDone(); });
}

void PostCallQueue::OnHeadDone() {
  task_ = kNoTask;
  if (jobs_.empty()) return;
  PostCallResult result = BuildHead();
  if (!jobs_.empty()) ScheduleHead();
  if (done_) done_(std::move(result));
}

PostCallResult PostCallQueue::BuildHead() {
  Pending head = std::move(jobs_.front());
  jobs_.pop_front();
  ++completed_;
  return PostCallResult{std::move(head.job.call_id),
                        BuildCallReport(head.job.input, config_.prices), head.enqueued_us,
                        scheduler_.NowUs()};
}

void PostCallQueue::CancelTask() {
  if (task_ == kNoTask) return;
  scheduler_.Cancel(task_);
  task_ = kNoTask;
}

}  // namespace callsim::agent
