#include "harness/wire/token_thread.h"

#include <boost/asio/post.hpp>

namespace callsim::harness {

TokenThread::TokenThread(boost::asio::io_context& io, FetchFn fetch)
    : io_(io), fetch_(std::move(fetch)), thread_([this] { Loop(); }) {}

TokenThread::~TokenThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

bool TokenThread::Fetch(DoneFn done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pending_.size() >= kMaxPending || stopping_) return false;
  pending_.push_back(std::move(done));
  cv_.notify_one();
  return true;
}

void TokenThread::Loop() {
  for (;;) {
    DoneFn done;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    std::string error;
    std::string token = fetch_(&error);
    boost::asio::post(io_, [done = std::move(done), token = std::move(token),
                            error = std::move(error)] { done(token, error); });
  }
}

}  // namespace callsim::harness
