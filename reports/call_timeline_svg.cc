#include "reports/call_timeline_svg.h"

#include <algorithm>
#include <cmath>

#include "harness/run/call_timeline.h"
#include "reports/html_text.h"
#include "reports/svg_frame.h"

namespace callsim::reports {
namespace {

constexpr double kLanePx = 26;
const char* const kLanes[] = {"caller", "agent", "tools"};

struct Span {
  double start_s = 0, end_s = 0;
  std::string css_class;
  std::string tip;   // the hover text, unescaped
  std::string text;  // drawn inside when it fits, unescaped
};

double Seconds(int64_t t_us, int64_t start_us) {
  return static_cast<double>(t_us - start_us) / 1e6;
}

harness::CallTimeline TimelineOf(const harness::CallRow& call,
                                 const std::vector<harness::EventRow>& events) {
  std::vector<harness::EventEntry> entries;
  entries.reserve(events.size());
  for (const harness::EventRow& e : events) {
    entries.push_back({std::llround(e.t_ms * 1000), e.source, e.kind, e.detail_json});
  }
  return harness::BuildCallTimeline(entries, std::llround(call.started_ms * 1000),
                                    std::llround(call.ended_ms * 1000));
}

std::vector<Span> ToolSpans(const harness::CallRow& call,
                            const std::vector<harness::ToolCallRow>& tool_calls) {
  std::vector<Span> out;
  for (const harness::ToolCallRow& t : tool_calls) {
    if (t.call_id != call.call_id || t.run_id != call.run_id) continue;
    const double end_s = (t.t_ms - call.started_ms) / 1000;
    out.push_back({end_s - std::max(0.0, t.duration_ms) / 1000, end_s, "tool " + t.decision,
                   t.name + ": " + t.decision + (t.reason.empty() ? "" : " (" + t.reason + ")"),
                   t.name});
  }
  return out;
}

// The spans of one lane, at most kMaxTimelineItems, then a note of how many were left out.
std::string LaneSvg(const Frame& f, const LinearScale& x, size_t lane, const std::vector<Span>& spans) {
  const double y = f.PlotTop() + kLanePx * static_cast<double>(lane);
  std::string out = "<g class=\"lane " + std::string(kLanes[lane]) + "\"><text x=\"" +
                    Px(f.PlotLeft() - 6) + "\" y=\"" + Px(y + 17) + "\" text-anchor=\"end\">" +
                    kLanes[lane] + "</text>";
  const size_t shown = std::min(spans.size(), kMaxTimelineItems);
  for (size_t i = 0; i < shown; ++i) {
    const Span& s = spans[i];
    const double x0 = x.At(s.start_s), x1 = std::max(x.At(s.end_s), x0 + 1);
    out += "<rect class=\"span " + HtmlEscape(s.css_class) + "\" x=\"" + Px(x0) + "\" y=\"" +
           Px(y + 4) + "\" width=\"" + Px(x1 - x0) + "\" height=\"" + Px(kLanePx - 8) +
           "\"><title>" + HtmlText(s.tip, 300) + " (" + FormatFixed(s.start_s, 2) + " s to " +
           FormatFixed(s.end_s, 2) + " s)</title></rect>";
    if (!s.text.empty() && x1 - x0 > 7.0 * static_cast<double>(std::min<size_t>(s.text.size(), 12))) {
      out += "<text class=\"in-span\" x=\"" + Px(x0 + 3) + "\" y=\"" + Px(y + 17) + "\">" +
             HtmlText(s.text, 12) + "</text>";
    }
  }
  if (spans.size() > shown) {
    out += "<text class=\"more\" x=\"" + Px(f.PlotRight()) + "\" y=\"" + Px(y + 17) +
           "\" text-anchor=\"end\">" + std::to_string(spans.size() - shown) +
           " more not drawn</text>";
  }
  return out + "</g>";
}

}  // namespace

std::string SvgCallTimeline(const harness::CallRow& call,
                            const std::vector<harness::EventRow>& events,
                            const std::vector<harness::ToolCallRow>& tool_calls) {
  const harness::CallTimeline t = TimelineOf(call, events);
  std::vector<Span> lanes[3];
  for (const harness::SpeechInterval& u : t.caller_speech) {
    lanes[0].push_back({Seconds(u.start_us, t.call_start_us), Seconds(u.end_us, t.call_start_us),
                        "caller-speech", "caller speaking", ""});
  }
  for (const harness::AgentReply& r : t.replies) {
    lanes[1].push_back({Seconds(r.start_us, t.call_start_us), Seconds(r.end_us, t.call_start_us),
                        r.interrupted ? "agent-speech interrupted" : "agent-speech",
                        r.kind + (r.interrupted ? ", interrupted: " : ": ") + r.text, r.kind});
  }
  lanes[2] = ToolSpans(call, tool_calls);
  double end_s = Seconds(t.call_end_us, t.call_start_us);
  for (const auto& lane : lanes) {
    for (const Span& s : lane) end_s = std::max(end_s, s.end_s);
  }
  Frame f;
  f.width_px = 1100;
  f.left_px = 56;
  f.top_px = 8;
  f.height_px = f.top_px + 3 * kLanePx + f.bottom_px;
  const LinearScale x{0, end_s > 0 ? end_s : 1, f.PlotLeft(), f.PlotRight()};
  const size_t barge_ins = std::min(t.barge_in_us.size(), kMaxTimelineItems);
  std::string out = SvgOpen(
      f, "timeline", "call " + std::to_string(call.call_id) + " timeline",
      " data-call=\"" + std::to_string(call.call_id) + "\" data-caller=\"" +
          std::to_string(std::min(lanes[0].size(), kMaxTimelineItems)) + "\" data-agent=\"" +
          std::to_string(std::min(lanes[1].size(), kMaxTimelineItems)) + "\" data-barge-ins=\"" +
          std::to_string(barge_ins) + "\" data-tools=\"" +
          std::to_string(std::min(lanes[2].size(), kMaxTimelineItems)) + "\"");
  for (size_t lane = 0; lane < 3; ++lane) out += LaneSvg(f, x, lane, lanes[lane]);
  for (size_t i = 0; i < barge_ins; ++i) {
    const double s = Seconds(t.barge_in_us[i], t.call_start_us);
    out += "<line class=\"barge-in\" x1=\"" + Px(x.At(s)) + "\" y1=\"" + Px(f.PlotTop()) +
           "\" x2=\"" + Px(x.At(s)) + "\" y2=\"" + Px(f.PlotTop() + 2 * kLanePx) + "\"><title>barge-in at " +
           FormatFixed(s, 2) + " s</title></line>";
  }
  out += XAxis(f, x, NiceTicks(0, x.d1, 8), "seconds since the call started");
  return out + "</svg>";
}

}  // namespace callsim::reports
