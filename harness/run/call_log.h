// The event log of one simulated call: every event from the agent, the caller and the fakes, in
// the order they happened, plus a running hash of the log. It also hands the agent's final
// transcripts to whoever attributes them to the caller's turns.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/runtime/events.h"

namespace callsim::harness {

struct EventEntry {
  int64_t t_us = 0;
  std::string source;
  std::string kind;
  std::string detail_json;
};

class CallLog final : public agent::EventSink {
 public:
  // Called for each agent "stt_final" event with its text.
  using FinalFn = std::function<void(const std::string& text)>;

  explicit CallLog(size_t max_events) : max_events_(max_events) {}

  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override;

  void set_on_final(FinalFn fn) { on_final_ = std::move(fn); }
  const std::vector<EventEntry>& entries() const { return entries_; }
  std::vector<EventEntry> TakeEntries() { return std::move(entries_); }
  // FNV-1a over every event (kept, or dropped at the bound), in order.
  uint64_t hash() const { return hash_; }
  uint64_t dropped() const { return dropped_; }

 private:
  size_t max_events_;
  std::vector<EventEntry> entries_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t dropped_ = 0;
  FinalFn on_final_;
};

}  // namespace callsim::harness
