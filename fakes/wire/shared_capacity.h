// A provider's capacity (fakes/capacity/capacity_limiter.h) shared by requests that arrive on
// several server workers, as a fake provider served over the wire sees them: the CapacityLimiter
// and its timers live on a thread of their own (an io_context with a RealtimeScheduler), requests
// ask from their worker, and the answer comes back on that worker. The limiter's rules are
// unchanged: the concurrency, the FIFO queue with its timeout and the token bucket.
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "fakes/capacity/capacity_limiter.h"

namespace callsim::fakes {

class SharedCapacity {
 public:
  struct Core;

  // One request's claim, used on the worker that asked. Releasing it (or destroying it) gives back
  // the slot or the place in the queue; after that neither callback runs.
  class Claim {
   public:
    ~Claim();
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    void Release();

   private:
    friend class SharedCapacity;
    Claim() = default;
    std::shared_ptr<Core> core_;
    uint64_t id_ = 0;
    // Held while the claim is: the callbacks posted to the worker hold it weakly and run only
    // while it lives (both sides on the worker's thread).
    std::shared_ptr<bool> held_ = std::make_shared<bool>(true);
  };

  // Starts the limiter's thread.
  explicit SharedCapacity(CapacityConfig config);
  // Stops and joins the thread; claims still held become inert.
  ~SharedCapacity();
  SharedCapacity(const SharedCapacity&) = delete;
  SharedCapacity& operator=(const SharedCapacity&) = delete;

  // Asks for a slot for a request running on `io`'s thread. Exactly one of `on_grant` or
  // `on_fail` (with kOverCapacityError, kRateLimitedError or kQueueTimeoutError) runs later on
  // `io`, unless the claim was released first. Never calls back from inside Acquire.
  std::unique_ptr<Claim> Acquire(boost::asio::io_context& io, std::function<void()> on_grant,
                                 std::function<void(const std::string& error)> on_fail);

  const CapacityConfig& config() const { return config_; }

 private:
  CapacityConfig config_;
  std::shared_ptr<Core> core_;
};

// Null when `config` limits nothing (no concurrency bound and no rate limit).
std::unique_ptr<SharedCapacity> MakeSharedCapacity(const CapacityConfig& config);

}  // namespace callsim::fakes
