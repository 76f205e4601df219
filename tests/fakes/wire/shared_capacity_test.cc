// SharedCapacity: one CapacityLimiter for requests from several worker threads; each answer
// comes back on the thread that asked, and a released claim hears nothing more.
#include "fakes/wire/shared_capacity.h"

#include <gtest/gtest.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace callsim::fakes {
namespace {

using namespace std::chrono_literals;

// An io_context on a thread of its own, as a server worker.
struct Worker {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::thread thread{[this] { io.run(); }};
  ~Worker() {
    work.reset();
    thread.join();
  }
  // Runs `fn` on the worker and waits for it.
  template <typename Fn>
  void Run(Fn fn) {
    std::promise<void> done;
    boost::asio::post(io, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
};

TEST(SharedCapacity, OneSlotAcrossTwoWorkersQueuesThenRefuses) {
  auto capacity = MakeSharedCapacity(CapacityConfig{1, 1, 5000, 0});
  ASSERT_NE(capacity, nullptr);
  Worker a;
  Worker b;
  std::promise<std::thread::id> first_granted, second_granted;
  std::promise<std::string> third_failed;
  std::unique_ptr<SharedCapacity::Claim> first, second, third;
  a.Run([&] {
    first = capacity->Acquire(a.io, [&] { first_granted.set_value(std::this_thread::get_id()); },
                              [](const std::string&) { ADD_FAILURE() << "first refused"; });
  });
  EXPECT_EQ(first_granted.get_future().get(), a.thread.get_id());  // on the worker that asked
  b.Run([&] {
    second = capacity->Acquire(b.io, [&] { second_granted.set_value(std::this_thread::get_id()); },
                               [](const std::string&) { ADD_FAILURE() << "second refused"; });
  });
  std::future<std::thread::id> second_grant = second_granted.get_future();
  EXPECT_EQ(second_grant.wait_for(100ms), std::future_status::timeout);  // waits for the slot
  b.Run([&] {
    third = capacity->Acquire(b.io, [] { ADD_FAILURE() << "third granted"; },
                              [&](const std::string& e) { third_failed.set_value(e); });
  });
  EXPECT_EQ(third_failed.get_future().get(), kOverCapacityError);  // the queue of one is full
  a.Run([&] { first->Release(); });
  ASSERT_EQ(second_grant.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(second_grant.get(), b.thread.get_id());
  b.Run([&] {
    second.reset();
    third.reset();
  });
  a.Run([&] { first.reset(); });
}

TEST(SharedCapacity, AReleasedClaimHearsNothingAndARateLimitRefuses) {
  auto capacity = MakeSharedCapacity(CapacityConfig{0, 0, 5000, 1});  // one a second
  ASSERT_NE(capacity, nullptr);
  Worker w;
  std::atomic<int> granted{0};
  std::promise<std::string> refused;
  std::unique_ptr<SharedCapacity::Claim> released, limited;
  std::this_thread::sleep_for(1100ms);  // the bucket fills to its one token
  w.Run([&] {
    // Granted on the limiter's thread, but released here before the answer can arrive.
    released = capacity->Acquire(w.io, [&] { ++granted; }, [&](const std::string&) { ++granted; });
    released->Release();
    limited = capacity->Acquire(w.io, [&] { ++granted; },
                                [&](const std::string& e) { refused.set_value(e); });
  });
  std::future<std::string> limit = refused.get_future();
  ASSERT_EQ(limit.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(limit.get(), kRateLimitedError);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(granted.load(), 0);
  w.Run([&] {
    released.reset();
    limited.reset();
  });
  EXPECT_EQ(MakeSharedCapacity(CapacityConfig{0, 0, 5000, 0}), nullptr);  // nothing to limit
}

}  // namespace
}  // namespace callsim::fakes
