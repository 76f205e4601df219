#include "fakes/wire/shared_capacity.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "agent/runtime/realtime_scheduler.h"

namespace callsim::fakes {

namespace asio = boost::asio;

// Everything on the limiter's thread. Members are destroyed in reverse order: tickets give their
// slots back to the limiter before it goes, and the limiter's timers before the scheduler.
struct SharedCapacity::Core {
  explicit Core(const CapacityConfig& c) : config(c) {}

  CapacityConfig config;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::unique_ptr<agent::RealtimeScheduler> scheduler;  // made and destroyed on `thread`
  std::shared_ptr<CapacityLimiter> limiter;
  std::unordered_map<uint64_t, CapacityTicket> tickets;  // granted or waiting
  uint64_t next_id = 1;  // on the caller's side, under `ids`
  std::mutex ids;
  std::thread thread;
};

SharedCapacity::Claim::~Claim() { Release(); }

void SharedCapacity::Claim::Release() {
  if (!held_) return;
  held_.reset();
  asio::post(core_->io, [core = core_, id = id_] { core->tickets.erase(id); });
}

SharedCapacity::SharedCapacity(CapacityConfig config)
    : config_(config), core_(std::make_shared<Core>(config)) {
  std::promise<void> ready;
  core_->thread = std::thread([core = core_.get(), &ready] {
    core->scheduler = std::make_unique<agent::RealtimeScheduler>(core->io);
    core->limiter = std::make_shared<CapacityLimiter>(*core->scheduler, core->config);
    ready.set_value();
    core->io.run();
    core->tickets.clear();
    core->limiter.reset();
    core->scheduler.reset();
  });
  ready.get_future().wait();
}

SharedCapacity::~SharedCapacity() {
  core_->work.reset();
  asio::post(core_->io, [core = core_.get()] { core->io.stop(); });
  core_->thread.join();
}

std::unique_ptr<SharedCapacity::Claim> SharedCapacity::Acquire(
    asio::io_context& io, std::function<void()> on_grant,
    std::function<void(const std::string& error)> on_fail) {
  std::unique_ptr<Claim> claim(new Claim());
  claim->core_ = core_;
  {
    std::lock_guard<std::mutex> lock(core_->ids);
    claim->id_ = core_->next_id++;
  }
  struct Answer {
    asio::io_context* io;
    std::weak_ptr<bool> held;
    std::function<void()> on_grant;
    std::function<void(const std::string&)> on_fail;
  };
  auto answer = std::make_shared<const Answer>(
      Answer{&io, claim->held_, std::move(on_grant), std::move(on_fail)});
  asio::post(core_->io, [core = core_.get(), id = claim->id_, answer] {
    auto grant = [answer] {
      asio::post(*answer->io, [answer] {
        if (!answer->held.expired() && answer->on_grant) answer->on_grant();
      });
    };
    auto fail = [core, id, answer](const std::string& error) {
      asio::post(*answer->io, [answer, error] {
        if (!answer->held.expired() && answer->on_fail) answer->on_fail(error);
      });
      core->tickets.erase(id);  // last: this callback may belong to that ticket
    };
    // Kept whatever its state: a refused request hears on_fail from a later task of the limiter,
    // which runs only while its ticket lives.
    CapacityTicket ticket = core->limiter->Acquire(grant, fail);
    if (ticket.granted()) grant();
    core->tickets.emplace(id, std::move(ticket));
  });
  return claim;
}

std::unique_ptr<SharedCapacity> MakeSharedCapacity(const CapacityConfig& config) {
  if (config.max_concurrent <= 0 && config.rate_limit_per_s <= 0) return nullptr;
  return std::make_unique<SharedCapacity>(config);
}

}  // namespace callsim::fakes
