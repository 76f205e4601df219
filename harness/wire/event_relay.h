// The agent's events, from `callsim serve` running in the same process (--target self) to the
// caller of the same call, matched by the callSid the caller sent in its start message. A foreign
// agent sends no events over Twilio Media Streams; with it, the caller judges only what it hears.
//
// Thread-safe: the agent publishes from its server worker, the caller receives on its own
// io_context (the relay posts to it), and nothing else is shared. Each posted delivery checks,
// on the subscriber's thread, that the subscription is still alive, so no callback runs after
// Unsubscribe() (called on that thread) returns.
// Bounded: at most kMaxSubscriptions calls at once (Subscribe refuses more).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace callsim::harness {

class EventRelay {
 public:
  using Clock = std::chrono::steady_clock;
  // The event's kind and detail, and when the agent emitted it.
  using Fn = std::function<void(Clock::time_point when, const std::string& kind,
                                const nlohmann::json& detail)>;
  static constexpr size_t kMaxSubscriptions = 100000;

  // Delivers the agent events of `call_sid` to `fn` on `io`'s thread. False when the sid is
  // already subscribed or the bound is reached.
  bool Subscribe(const std::string& call_sid, boost::asio::io_context& io, Fn fn);
  // Called on the subscriber's thread: no delivery runs after this returns.
  void Unsubscribe(const std::string& call_sid);
  // From any thread; an event of a call nobody subscribed to is dropped.
  void Publish(const std::string& call_sid, std::string_view kind, const nlohmann::json& detail);

 private:
  struct Subscription {
    boost::asio::io_context* io;
    std::shared_ptr<Fn> fn;  // reset on Unsubscribe; deliveries hold a weak_ptr
  };
  std::mutex mutex_;
  std::map<std::string, Subscription, std::less<>> subscriptions_;
};

}  // namespace callsim::harness
