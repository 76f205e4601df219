#include "harness/run/call_timeline.h"

#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/pipeline/reply.h"
#include "agent/runtime/json_fields.h"
#include "harness/caller/caller_events.h"

namespace callsim::harness {
namespace {

using nlohmann::json;

namespace agent_events = agent::agent_events;
namespace event_sources = agent::event_sources;

const std::string_view kAnswer = agent::ReplyKindName(agent::ReplyKind::kAnswer);

json ParseDetail(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : json::object();
}

// Builds the agent's replies: sentences wait in `pending` until their reply starts playing (the
// first sentence is always ready before the first audio), later ones join the playing reply.
class ReplyTracker {
 public:
  explicit ReplyTracker(CallTimeline* out) : out_(out) {}

  void OnSentence(const std::string& text) {
    std::string& target = open_ >= 0 ? out_->replies[static_cast<size_t>(open_)].text : pending_;
    if (text.empty()) return;
    if (!target.empty()) target += ' ';
    target += text;
  }
  void OnSpeechStart(int64_t t_us, std::string kind) {
    Close(t_us, /*interrupted=*/true, /*ended=*/false);  // a start without an end: cut short
    AgentReply r;
    r.kind = std::move(kind);
    r.start_us = t_us;
    r.text = std::move(pending_);
    pending_.clear();
    out_->replies.push_back(std::move(r));
    open_ = static_cast<int>(out_->replies.size()) - 1;
  }
  void OnSpeechEnd(int64_t t_us, bool interrupted) { Close(t_us, interrupted, /*ended=*/true); }
  // reply_cancelled / empty_reply: what was prepared and never played is forgotten.
  void OnDiscard() { pending_.clear(); }
  void Finish(int64_t call_end_us) { Close(call_end_us, /*interrupted=*/true, /*ended=*/false); }

 private:
  void Close(int64_t t_us, bool interrupted, bool ended) {
    if (open_ < 0) return;
    AgentReply& r = out_->replies[static_cast<size_t>(open_)];
    r.end_us = std::max(t_us, r.start_us);
    r.ended = ended;
    r.interrupted = interrupted;
    open_ = -1;
  }

  CallTimeline* out_;
  std::string pending_;
  int open_ = -1;
};

void OnAgentEvent(const EventEntry& e, ReplyTracker& replies, CallTimeline& t) {
  const std::string_view kind = e.kind;
  if (kind == agent_events::kSentence) {
    replies.OnSentence(agent::JsonString(ParseDetail(e.detail_json), "text"));
  } else if (kind == agent_events::kSpeechStart) {
    replies.OnSpeechStart(e.t_us, agent::JsonString(ParseDetail(e.detail_json), "kind"));
  } else if (kind == agent_events::kSpeechEnd) {
    const json d = ParseDetail(e.detail_json);
    auto it = d.find("interrupted");
    replies.OnSpeechEnd(e.t_us, it == d.end() || !it->is_boolean() || it->get<bool>());
  } else if (kind == agent_events::kReplyCancelled || kind == agent_events::kEmptyReply) {
    replies.OnDiscard();
  } else if (kind == agent_events::kBargeIn) {
    t.barge_in_us.push_back(e.t_us);
  } else if (kind == agent_events::kTurnSpans) {
    agent::FromJson(ParseDetail(e.detail_json), &t.spans.emplace_back());
  } else if (kind == agent_events::kProviderError) {
    ++t.provider_errors;
  }
}

}  // namespace

CallTimeline BuildCallTimeline(const std::vector<EventEntry>& events, int64_t call_start_us,
                               int64_t call_end_us) {
  CallTimeline t;
  t.call_start_us = call_start_us;
  t.call_end_us = std::max(call_end_us, call_start_us);
  ReplyTracker replies(&t);
  bool utterance_open = false;
  for (const EventEntry& e : events) {
    if (e.source == event_sources::kAgent) {
      OnAgentEvent(e, replies, t);
    } else if (e.source == event_sources::kCaller && e.kind == caller_events::kUtteranceStart) {
      if (utterance_open) t.caller_speech.back().end_us = e.t_us;  // no end logged: cut there
      t.caller_speech.push_back(SpeechInterval{e.t_us, t.call_end_us});
      utterance_open = true;
    } else if (e.source == event_sources::kCaller && e.kind == caller_events::kUtteranceEnd &&
               utterance_open) {
      t.caller_speech.back().end_us = std::max(e.t_us, t.caller_speech.back().start_us);
      utterance_open = false;
    }
  }
  replies.Finish(t.call_end_us);
  return t;
}

int CountFalseBargeIns(const CallTimeline& timeline) {
  int count = 0;
  for (int64_t t : timeline.barge_in_us) {
    const bool caused = std::any_of(
        timeline.caller_speech.begin(), timeline.caller_speech.end(), [t](const SpeechInterval& u) {
          return u.start_us <= t && t <= u.end_us + kBargeInDetectionSlackUs;
        });
    if (!caused) ++count;
  }
  return count;
}

int CountAgentCutIns(const CallTimeline& timeline) {
  int count = 0;
  for (const SpeechInterval& u : timeline.caller_speech) {
    const bool cut = std::any_of(
        timeline.replies.begin(), timeline.replies.end(), [&u](const AgentReply& r) {
          return r.kind == kAnswer && u.start_us < r.start_us && r.start_us < u.end_us;
        });
    if (cut) ++count;
  }
  return count;
}

int64_t DeadAirUs(const CallTimeline& timeline, int64_t min_gap_us) {
  std::vector<SpeechInterval> speech = timeline.caller_speech;
  for (const AgentReply& r : timeline.replies) speech.push_back({r.start_us, r.end_us});
  std::sort(speech.begin(), speech.end(), [](const SpeechInterval& a, const SpeechInterval& b) {
    return a.start_us != b.start_us ? a.start_us < b.start_us : a.end_us < b.end_us;
  });
  int64_t dead_us = 0;
  int64_t covered_until = timeline.call_start_us;  // everything before this is accounted for
  auto gap = [&](int64_t until_us) {
    const int64_t g = std::min(until_us, timeline.call_end_us) - covered_until;
    if (g > min_gap_us) dead_us += g;
  };
  for (const SpeechInterval& s : speech) {
    if (s.start_us > covered_until) gap(s.start_us);
    covered_until = std::max(covered_until, std::min(s.end_us, timeline.call_end_us));
    if (covered_until >= timeline.call_end_us) break;
  }
  if (covered_until < timeline.call_end_us) gap(timeline.call_end_us);
  return dead_us;
}

int FindHeardReply(const CallTimeline& timeline, int64_t onset_us) {
  int found = -1;
  for (size_t i = 0; i < timeline.replies.size(); ++i) {
    if (timeline.replies[i].start_us <= onset_us) found = static_cast<int>(i);
  }
  if (found < 0) return -1;
  const AgentReply& r = timeline.replies[static_cast<size_t>(found)];
  return onset_us <= r.end_us + kHeardPairSlackUs ? found : -1;
}

}  // namespace callsim::harness
