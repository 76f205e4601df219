#include "reports/html_failed_calls.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/runtime/events.h"
#include "harness/caller/caller_events.h"
#include "reports/call_timeline_svg.h"
#include "reports/html_table.h"
#include "reports/html_text.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::EventRow;
using harness::ExpectationRow;
using harness::TurnRow;

// What the timelines' colours mean (reports/html_style.h draws the swatches).
constexpr std::string_view kTimelineLegend =
    "<p class=\"legend\">Timelines: <span class=\"swatch caller-speech\"></span>caller speaking "
    "<span class=\"swatch agent-speech\"></span>agent speaking "
    "<span class=\"swatch interrupted\"></span>agent reply interrupted "
    "<span class=\"swatch tool\"></span>tool call <span class=\"swatch blocked\"></span>tool "
    "call blocked, failed or declined <span class=\"swatch barge-in\"></span>barge-in "
    "(caller times at the mouth, agent times at the agent)</p>";

// Far more failed expectations than max_calls calls can show; bounds the read.
constexpr size_t kMaxExpectationsRead = 100000;

// What the caller's ear decoded per turn ("reply_end" {turn, heard}); the last one wins.
std::map<int, std::string> HeardByTurn(const std::vector<EventRow>& events) {
  std::map<int, std::string> out;
  for (const EventRow& e : events) {
    if (e.source != agent::event_sources::kCaller || e.kind != harness::caller_events::kReplyEnd) {
      continue;
    }
    const nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, false);
    if (!j.is_object() || !j.contains("turn") || !j["turn"].is_number_integer()) continue;
    if (j.contains("heard") && j["heard"].is_string()) {
      out[j["turn"].get<int>()] = j["heard"].get<std::string>();
    }
  }
  return out;
}

std::string ExpectationTable(const std::vector<ExpectationRow>& failed, const FailedCallsOptions& o) {
  std::vector<HtmlRow> rows;
  for (size_t i = 0; i < failed.size() && i < o.max_expectations_per_call; ++i) {
    const ExpectationRow& e = failed[i];
    rows.push_back({{std::to_string(e.turn_index), HtmlText(e.kind, 64),
                     HtmlText(e.detail, o.max_text_bytes)}, "fail"});
  }
  std::string out = HtmlTable({"turn", "expectation", "what failed"}, rows, "expectations", {0});
  if (failed.size() > o.max_expectations_per_call) {
    out += "<p class=\"more\">" + std::to_string(failed.size() - o.max_expectations_per_call) +
           " more failed expectations in the expectations table.</p>";
  }
  return out;
}

std::string TurnTable(const std::vector<TurnRow>& turns, const std::vector<ExpectationRow>& failed,
                      const std::map<int, std::string>& heard, const FailedCallsOptions& o) {
  std::vector<HtmlRow> rows;
  for (size_t i = 0; i < turns.size() && i < o.max_turns_per_call; ++i) {
    const TurnRow& t = turns[i];
    const bool failing = std::any_of(failed.begin(), failed.end(), [&](const ExpectationRow& e) {
      return e.turn_index == t.turn_index;
    });
    const auto h = heard.find(t.turn_index);
    rows.push_back({{std::to_string(t.turn_index), HtmlText(t.reference_text, o.max_text_bytes),
                     HtmlText(t.hypothesis_text, o.max_text_bytes),
                     h == heard.end() ? "" : HtmlText(h->second, o.max_text_bytes),
                     t.turn_latency_ms ? FormatFixed(*t.turn_latency_ms, 1) : "no reply",
                     t.barge_in_stop_ms ? FormatFixed(*t.barge_in_stop_ms, 1) : ""},
                    failing ? "fail" : ""});
  }
  return HtmlTable({"turn", "caller said", "agent transcribed", "caller heard", "latency ms",
                    "barge-in stop ms"},
                   rows, "turns", {0, 4, 5});
}

// A relative URL for a file path: unreserved characters and '/' as they are, the rest
// percent-encoded, so a stored path can neither leave the attribute nor name another scheme.
std::string PathUrl(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string RecordingPlayer(const std::string& path) {
  const std::string url = PathUrl(path);
  return "<p class=\"recording\"><audio controls preload=\"none\" src=\"" + url +
         "\"></audio> <a href=\"" + url + "\">" + HtmlText(path, 300) +
         "</a> (stereo: left the caller's microphone, right what the caller heard)</p>";
}

std::string CallArticle(const harness::Store& store, const CallRow& call,
                        const std::vector<ExpectationRow>& failed,
                        const std::vector<TurnRow>& turns,
                        const std::vector<harness::ToolCallRow>& tool_calls,
                        const FailedCallsOptions& o) {
  const std::vector<EventRow> events = store.LoadEvents(call.run_id, call.call_id);
  std::string out = "<article class=\"failed-call\" data-call=\"" + std::to_string(call.call_id) +
                    "\"><h4>call " + std::to_string(call.call_id) + " <span class=\"badge fail\">" +
                    "task failed</span> <span class=\"badge\">status " +
                    HtmlText(call.status, 32) + "</span> " + HtmlText(call.scenario, 200) + "</h4>";
  if (!call.failure_reason.empty()) {
    out += "<p>reason: " + HtmlText(call.failure_reason, o.max_text_bytes) + "</p>";
  }
  if (!failed.empty()) out += ExpectationTable(failed, o);
  if (!turns.empty()) out += TurnTable(turns, failed, HeardByTurn(events), o);
  if (!call.recording.empty()) out += RecordingPlayer(o.recordings_url_prefix + call.recording);
  return out + SvgCallTimeline(call, events, tool_calls) + "</article>";
}

}  // namespace

std::string FailedCallsHtml(const harness::Store& store, int64_t run_id,
                            const std::vector<CallRow>& calls, const std::vector<TurnRow>& turns,
                            const FailedCallsOptions& options) {
  std::vector<const CallRow*> failed_calls;
  for (const CallRow& c : calls) {
    if (!c.task_completed) failed_calls.push_back(&c);
  }
  if (failed_calls.empty()) return "";
  std::map<int64_t, std::vector<ExpectationRow>> failed_by_call;
  for (ExpectationRow& e : store.LoadFailedExpectations(run_id, kMaxExpectationsRead)) {
    failed_by_call[e.call_id].push_back(std::move(e));
  }
  std::map<int64_t, std::vector<TurnRow>> turns_by_call;
  for (const TurnRow& t : turns) turns_by_call[t.call_id].push_back(t);
  const std::vector<harness::ToolCallRow> tool_calls = store.LoadToolCalls(run_id);
  const size_t shown = std::min(failed_calls.size(), options.max_calls);
  std::string out = "<h3>Failed calls</h3><p class=\"note\">" +
                    std::to_string(failed_calls.size()) + " calls did not complete their task" +
                    (shown < failed_calls.size() ? "; the first " + std::to_string(shown) +
                                                       " are shown, <span class=\"more-calls\">" +
                                                       std::to_string(failed_calls.size() - shown) +
                                                       "</span> more are in the store"
                                                 : "") +
                    ".</p>" + std::string(kTimelineLegend);
  for (size_t i = 0; i < shown; ++i) {
    const CallRow& c = *failed_calls[i];
    out += CallArticle(store, c, failed_by_call[c.call_id], turns_by_call[c.call_id], tool_calls,
                       options);
  }
  return out;
}

}  // namespace callsim::reports
