#include "reports/turn_waterfall.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

#include "agent/runtime/events.h"
#include "harness/caller/caller_events.h"
#include "harness/measure/percentile.h"
#include "reports/html_text.h"
#include "reports/svg_frame.h"

namespace callsim::reports {
namespace {

using harness::EventRow;
using harness::TurnRow;

// The "turn" field of a caller event's detail, or -1.
int TurnOf(const EventRow& e) {
  const nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, false);
  if (!j.is_object() || !j.contains("turn") || !j["turn"].is_number_integer()) return -1;
  return j["turn"].get<int>();
}

bool Is(const EventRow& e, std::string_view source, std::string_view kind) {
  return e.source == source && e.kind == kind;
}

WaterfallStage Stage(const char* name, std::optional<double> ms) {
  return {name, ms.value_or(0), !ms.has_value()};
}

}  // namespace

std::optional<TurnRow> TurnAtPercentile(const std::vector<TurnRow>& turns, double q_percent) {
  std::vector<const TurnRow*> answered;
  for (const TurnRow& t : turns) {
    if (t.turn_latency_ms && std::isfinite(*t.turn_latency_ms)) answered.push_back(&t);
  }
  if (answered.empty()) return std::nullopt;
  std::sort(answered.begin(), answered.end(), [](const TurnRow* a, const TurnRow* b) {
    return std::tie(*a->turn_latency_ms, a->call_id, a->turn_index) <
           std::tie(*b->turn_latency_ms, b->call_id, b->turn_index);
  });
  return *answered[harness::NearestRank(q_percent, answered.size()) - 1];
}

std::optional<agent::TurnSpansEvent> FindTurnSpans(const std::vector<EventRow>& events,
                                                   int turn_index) {
  namespace caller = harness::caller_events;
  const auto kCaller = agent::event_sources::kCaller;
  bool in_turn = false;
  std::optional<agent::TurnSpansEvent> found;
  for (const EventRow& e : events) {
    if (Is(e, kCaller, caller::kUtteranceStart) && TurnOf(e) == turn_index) {
      in_turn = true;
      found.reset();
    } else if (in_turn && Is(e, agent::event_sources::kAgent, agent::agent_events::kTurnSpans)) {
      const nlohmann::json j = nlohmann::json::parse(e.detail_json, nullptr, false);
      agent::TurnSpansEvent spans;
      agent::FromJson(j.is_object() ? j : nlohmann::json::object(), &spans);
      found = spans;
    } else if (in_turn && Is(e, kCaller, caller::kReplyOnset) && TurnOf(e) == turn_index) {
      return found;
    }
  }
  return std::nullopt;
}

std::vector<WaterfallStage> WaterfallStages(double turn_latency_ms,
                                            const std::optional<agent::TurnSpansEvent>& spans) {
  if (!spans) return {{"not broken down (no stage spans)", turn_latency_ms, false}};
  if (spans->waterfall && spans->response_ms) {  // the agent's own: overlaps counted once
    const agent::TurnSpansEvent::Waterfall& w = *spans->waterfall;
    return {{"endpointing", w.endpointing_ms, false},
            {"STT final", w.stt_ms, false},
            {"LLM first token", w.llm_ms, false},
            {"first sentence", w.first_sentence_ms, false},
            {"TTS first byte", w.tts_ms, false},
            {"agent, other", w.other_ms, false},
            {"network and playout", turn_latency_ms - *spans->response_ms, false}};
  }
  std::optional<double> sentence_rest;
  if (spans->first_sentence_ms) sentence_rest = *spans->first_sentence_ms - spans->llm_ttft_ms.value_or(0);
  std::vector<WaterfallStage> stages = {
      Stage("endpointing", spans->endpointing_ms), Stage("STT final", spans->stt_final_ms),
      Stage("LLM first token", spans->llm_ttft_ms), Stage("first sentence", sentence_rest),
      Stage("TTS first byte", spans->tts_ttfb_ms)};
  double agent_ms = 0;
  for (const WaterfallStage& s : stages) agent_ms += s.ms;
  if (spans->response_ms) {
    stages.push_back({"agent, other", *spans->response_ms - agent_ms, false});
    agent_ms = *spans->response_ms;
  }
  stages.push_back({"network and playout", turn_latency_ms - agent_ms, false});
  return stages;
}

std::string SvgWaterfall(const std::vector<WaterfallStage>& stages, const std::string& title) {
  constexpr double kRowPx = 22;
  Frame f;
  f.left_px = 150;
  f.right_px = 80;
  f.top_px = 10;
  f.height_px = f.top_px + kRowPx * static_cast<double>(stages.size()) + f.bottom_px;
  double total_ms = 0, reach_ms = 0;
  for (const WaterfallStage& s : stages) {
    total_ms += s.ms;
    reach_ms = std::max(reach_ms, total_ms);
  }
  std::string out = SvgOpen(f, "waterfall", title,
                            " data-stages=\"" + std::to_string(stages.size()) +
                                "\" data-total-ms=\"" + FormatFixed(total_ms, 1) + "\"");
  const LinearScale x{0, reach_ms > 0 ? reach_ms : 1, f.PlotLeft(), f.PlotRight()};
  double start_ms = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    const WaterfallStage& s = stages[i];
    const double y = f.PlotTop() + kRowPx * static_cast<double>(i);
    const double x0 = x.At(std::max(0.0, start_ms));
    const double x1 = x.At(std::max(0.0, start_ms + s.ms));
    const std::string value = s.skipped ? "skipped" : FormatFixed(s.ms, 1) + " ms";
    out += "<g class=\"stage-row\"><text x=\"" + Px(f.PlotLeft() - 6) + "\" y=\"" + Px(y + 15) +
           "\" text-anchor=\"end\">" + HtmlEscape(s.name) + "</text><rect class=\"stage st" +
           std::to_string(i) + "\" x=\"" + Px(x0) + "\" y=\"" + Px(y + 3) + "\" width=\"" +
           Px(std::max(0.0, x1 - x0)) + "\" height=\"" + Px(kRowPx - 6) + "\" data-name=\"" +
           HtmlEscape(s.name) + "\" data-ms=\"" + FormatFixed(s.ms, 3) + "\"/><text x=\"" +
           Px(std::max(x0, x1) + 4) + "\" y=\"" + Px(y + 15) + "\">" + value + "</text></g>";
    start_ms += s.ms;
  }
  out += XAxis(f, x, NiceTicks(0, x.d1, 6), "ms, the stages end to end (their sum: the turn latency)");
  return out + "</svg>";
}

}  // namespace callsim::reports
