// Call tokens fetched off the media thread: a token service's HTTP round trip (or its slowness)
// must never stall the callers' 20 ms clock. One thread runs the blocking fetches in order and
// posts each result back to the callers' io_context.
//
// Bounded: at most kMaxPending fetches wait; Fetch() refuses more. Destroying it stops the thread
// after the fetch in progress; results not yet delivered are dropped.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

namespace callsim::harness {

class TokenThread {
 public:
  // Returns a fresh token ("" with *error set when it cannot).
  using FetchFn = std::function<std::string(std::string* error)>;
  // Called on the io_context's thread with the token, or "" and the reason.
  using DoneFn = std::function<void(const std::string& token, const std::string& error)>;
  static constexpr size_t kMaxPending = 10000;

  TokenThread(boost::asio::io_context& io, FetchFn fetch);
  ~TokenThread();
  TokenThread(const TokenThread&) = delete;
  TokenThread& operator=(const TokenThread&) = delete;

  // False when kMaxPending fetches wait already (`done` is not called).
  bool Fetch(DoneFn done);

 private:
  void Loop();

  boost::asio::io_context& io_;
  FetchFn fetch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<DoneFn> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace callsim::harness
