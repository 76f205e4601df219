// Builds call reports after calls end, in the background, so a report never competes with a live
// call's work: Enqueue only stores the job; jobs run one at a time, each as its own Scheduler
// task that fires a configured (virtual) processing time after the job starts. The queue is
// bounded: when `capacity` jobs are pending, Enqueue refuses and counts a drop; the caller decides
// what to record about the lost report. Reports are delivered, in the order jobs were accepted,
// through a callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "agent/postcall/call_report.h"
#include "agent/runtime/scheduler.h"

namespace callsim::agent {

struct PostCallQueueConfig {
  // Jobs accepted and not yet delivered (the one in progress included). 0 refuses every job.
  size_t capacity = 256;
  // How long one job takes, in virtual time: a real deployment spends this on the report (and on
  // summarizing with a model); here it spaces jobs out like the real thing. Negative counts as 0.
  int64_t processing_time_us = 200 * kMicrosPerMs;
  PriceTable prices;
};

struct PostCallJob {
  std::string call_id;
  CallReportInput input;
};

struct PostCallResult {
  std::string call_id;
  CallReport report;
  int64_t enqueued_us = 0;
  int64_t done_us = 0;  // when the report was delivered
};

class PostCallQueue {
 public:
  using DoneFn = std::function<void(PostCallResult result)>;

  // `scheduler` must outlive the queue. `done` may call Enqueue; it must not destroy the queue.
  PostCallQueue(Scheduler& scheduler, PostCallQueueConfig config, DoneFn done);
  // Cancels the scheduled task; jobs not yet delivered are discarded without a callback.
  ~PostCallQueue();
  PostCallQueue(const PostCallQueue&) = delete;
  PostCallQueue& operator=(const PostCallQueue&) = delete;

  // Accepts the job (true), or refuses it when `capacity` jobs are pending (false; counted in
  // dropped()). Never runs the job here.
  bool Enqueue(PostCallJob job);

  // Builds and delivers, now and in order, every job pending when called (the end of a run, when
  // nothing will advance the scheduler any more). Returns how many were delivered. Jobs that
  // callbacks enqueue meanwhile wait for the scheduler as usual.
  size_t Drain();

  size_t pending() const { return jobs_.size(); }
  bool busy() const { return task_ != kNoTask; }
  uint64_t accepted() const { return accepted_; }
  uint64_t completed() const { return completed_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Pending {
    PostCallJob job;
    int64_t enqueued_us = 0;
  };

  void ScheduleHead();  // the head job starts now and finishes processing_time_us later
  void OnHeadDone();    // the task: delivers the head job, starts the next
  PostCallResult BuildHead();
  void CancelTask();

  Scheduler& scheduler_;
  PostCallQueueConfig config_;
  DoneFn done_;
  std::deque<Pending> jobs_;  // bounded by config_.capacity; the head is in progress
  TaskId task_ = kNoTask;     // the head job's completion
  uint64_t accepted_ = 0;
  uint64_t completed_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace callsim::agent
