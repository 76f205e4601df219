#include "agent/pipeline/dtmf_collector.h"

#include <algorithm>
#include <utility>

namespace callsim::agent {

DtmfCollector::DtmfCollector(Scheduler& scheduler, int max_keys, double timeout_ms,
                             std::function<void()> on_timeout)
    : max_keys_(static_cast<size_t>(std::max(0, max_keys))),
      timeout_us_(MsToUs(timeout_ms)),
      on_timeout_(std::move(on_timeout)),
      timer_(scheduler) {}

DtmfCollector::Added DtmfCollector::Add(char key, int64_t t_us) {
  last_key_us_ = t_us;
  if (key == '#') return Added::kTerminator;
  const bool kept = keys_.size() < max_keys_;
  if (kept) keys_.push_back(key);
  timer_.After(timeout_us_, [this] { on_timeout_(); });
  return kept ? Added::kKept : Added::kDropped;
}

std::string DtmfCollector::TakeMessage() {
  timer_.Cancel();
  std::string text = "DTMF: " + (keys_.empty() ? std::string("#") : keys_);
  keys_.clear();
  return text;
}

void DtmfCollector::Reset() {
  timer_.Cancel();
  keys_.clear();
}

}  // namespace callsim::agent
