#include "harness/run/call_log.h"

#include "agent/runtime/rng.h"

namespace callsim::harness {

void CallLog::Emit(int64_t t_us, std::string_view source, std::string_view kind,
                   const nlohmann::json& detail) {
  std::string detail_json = detail.is_null() ? "{}" : detail.dump();
  const std::string line = std::to_string(t_us) + "|" + std::string(source) + "|" +
                           std::string(kind) + "|" + detail_json + "\n";
  hash_ = agent::Fnv1a64(line, hash_);
  if (entries_.size() >= max_events_) {
    ++dropped_;  // bounded: the hash still covers the event
  } else {
    entries_.push_back(
        EventEntry{t_us, std::string(source), std::string(kind), std::move(detail_json)});
  }
  for (size_t i = 0; i < observers_.size(); ++i) observers_[i](t_us, source, kind, detail);
}

}  // namespace callsim::harness
