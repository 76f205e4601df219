// Real time behind the Scheduler seam: the same tasks as in virtual time, run when a steady clock
// reaches them. Tasks live in the same TaskQueue as SimScheduler's, so ties and cancellations order
// exactly as they do in simulation; one boost::asio steady_timer is armed at the earliest deadline.
//
// One RealtimeScheduler belongs to one io_context and is used only from the thread that runs it
// (one per worker thread; each call stays on one thread, so nothing on the per-frame path locks).
// Other threads hand work in with boost::asio::post on the io_context. It must be destroyed before
// its io_context, on the io_context's thread (or with the io_context stopped).
//
// A task due in the past runs as soon as the thread is free; others run within kCoalesceUs after
// their time. Lateness (actual minus scheduled run time) is the caller's to measure: NowUs()
// inside a task minus the time it asked for.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/task_queue.h"

namespace callsim::agent {

class RealtimeScheduler final : public Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  // Time 0 is `epoch`; schedulers on several threads share one epoch so their times compare.
  RealtimeScheduler(boost::asio::io_context& io, Clock::time_point epoch = Clock::now());
  ~RealtimeScheduler() override;
  RealtimeScheduler(const RealtimeScheduler&) = delete;
  RealtimeScheduler& operator=(const RealtimeScheduler&) = delete;

  int64_t NowUs() const override;
  Clock::time_point epoch() const { return epoch_; }
  // The io_context it runs on: work for this thread is posted there.
  boost::asio::io_context& io() const { return io_; }
  TaskId At(int64_t when_us, std::function<void()> task) override;
  void Cancel(TaskId id) override;

  // Tasks scheduled and neither run nor cancelled.
  size_t pending() const { return queue_.pending(); }
  uint64_t tasks_run() const { return tasks_run_; }

  // At most this many due tasks run per timer wake-up before the thread goes back to its sockets;
  // the rest run on the next turn of the io_context (a bound against a burst starving I/O).
  static constexpr int kMaxTasksPerWake = 4096;
  // Wake-ups fall on a grid of this many microseconds: a task runs at most this much after its
  // time, and the tasks due within one slot run in one wake-up (one timer and one epoll round
  // trip, not one per task), which matters at hundreds of calls, each with a 20 ms media clock at
  // its own phase. A coarser grid saves more wake-ups but lets a slot's tasks queue behind each
  // other: at 100 SIP calls a 1 ms grid took harness lateness p99 from 3.8 to 6.1 ms, 250 us
  // kept it at 4.0 (bench/RESULTS.md).
  static constexpr int64_t kCoalesceUs = 250;

 private:
  // Arms the timer at the next task's due time, unless it is already armed at or before it.
  void Arm();
  void OnTimer(uint64_t generation);

  boost::asio::io_context& io_;
  Clock::time_point epoch_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // the timer handler checks it
  boost::asio::steady_timer timer_;
  TaskQueue queue_;
  int64_t armed_us_ = -1;    // the due time the timer waits for; -1: not armed
  uint64_t generation_ = 0;  // a wake-up from an older arming is ignored
  bool in_wake_ = false;     // running due tasks: At() leaves arming to the end of the wake
  uint64_t tasks_run_ = 0;
};

}  // namespace callsim::agent
