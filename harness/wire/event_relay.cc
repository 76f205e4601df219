#include "harness/wire/event_relay.h"

#include <boost/asio/post.hpp>

namespace callsim::harness {

bool EventRelay::Subscribe(const std::string& call_sid, boost::asio::io_context& io, Fn fn) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (subscriptions_.size() >= kMaxSubscriptions || subscriptions_.count(call_sid) > 0) {
    return false;
  }
  subscriptions_.emplace(call_sid, Subscription{&io, std::make_shared<Fn>(std::move(fn))});
  return true;
}

void EventRelay::Unsubscribe(const std::string& call_sid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = subscriptions_.find(call_sid);
  if (it == subscriptions_.end()) return;
  it->second.fn.reset();  // pending deliveries find their weak_ptr expired
  subscriptions_.erase(it);
}

void EventRelay::Publish(const std::string& call_sid, std::string_view kind,
                         const nlohmann::json& detail) {
  const Clock::time_point when = Clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = subscriptions_.find(call_sid);
  if (it == subscriptions_.end()) return;
  std::weak_ptr<Fn> weak = it->second.fn;
  boost::asio::post(*it->second.io, [weak, when, kind = std::string(kind), detail] {
    if (const std::shared_ptr<Fn> fn = weak.lock()) (*fn)(when, kind, detail);
  });
}

}  // namespace callsim::harness
