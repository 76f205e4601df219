// The event log of one simulated call: every event from the agent, the caller and the fakes, in
// the order they happened, plus a running hash of the log. Observers see each event as it is
// logged (the call uses them to attribute the agent's transcripts and tool events to the caller's
// turns).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/runtime/events.h"

namespace callsim::harness {

// The simulated call's own events (source event_sources::kCall), declared once.
namespace call_events {
inline constexpr std::string_view kStart = "start";  // {call_id}
inline constexpr std::string_view kEnd = "end";      // {reason, status, by}
// Over the wire: the agent's clear emptied the caller's playout buffer {dropped_ms, marks}.
inline constexpr std::string_view kPlayoutClear = "playout_clear";
// Over SIP: the signalling's steps {step ("provisional", "answered", "failed", "bye"), code,
// reason} and media trouble {error} (an SRTP authentication failure, a replay, a bad datagram).
inline constexpr std::string_view kSip = "sip";
inline constexpr std::string_view kMediaError = "media_error";
inline constexpr std::string_view kAll[] = {kStart, kEnd, kPlayoutClear, kSip, kMediaError};
}  // namespace call_events

// The events kept per call (the event-log hash still covers every event past it).
inline constexpr size_t kMaxEventsPerCall = 20000;

struct EventEntry {
  int64_t t_us = 0;
  std::string source;
  std::string kind;
  std::string detail_json;
};

class CallLog final : public agent::EventSink {
 public:
  // Sees every event, after it is logged; it may emit further events (logged after this one).
  using Observer = std::function<void(int64_t t_us, std::string_view source, std::string_view kind,
                                      const nlohmann::json& detail)>;

  explicit CallLog(size_t max_events) : max_events_(max_events) {}

  void Emit(int64_t t_us, std::string_view source, std::string_view kind,
            const nlohmann::json& detail) override;

  void AddObserver(Observer fn) { observers_.push_back(std::move(fn)); }
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
  std::vector<Observer> observers_;
};

}  // namespace callsim::harness
