#include "reports/call_timeline_svg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/reports/occurrences.h"

namespace callsim::reports {
namespace {

using harness::CallRow;
using harness::EventRow;
using harness::ToolCallRow;

using testing::Count;

EventRow Event(double t_ms, const std::string& source, const std::string& kind,
               const std::string& detail = "{}") {
  EventRow e;
  e.t_ms = t_ms;
  e.source = source;
  e.kind = kind;
  e.detail_json = detail;
  return e;
}

CallRow Call() {
  CallRow c;
  c.run_id = 1;
  c.call_id = 7;
  c.started_ms = 1000;
  c.ended_ms = 11000;
  return c;
}

ToolCallRow Tool(int64_t call_id, double t_ms, double duration_ms, const std::string& decision) {
  ToolCallRow t;
  t.run_id = 1;
  t.call_id = call_id;
  t.t_ms = t_ms;
  t.duration_ms = duration_ms;
  t.name = "cancel_order";
  t.decision = decision;
  return t;
}

// Greeting, a question, an answer the caller interrupts (a barge-in at 6 s), a tool call.
TEST(SvgCallTimeline, DrawsEachLaneAndTheBargeInAtItsTime) {
  const std::vector<EventRow> events = {
      Event(1200, "agent", "speech_start", "{\"kind\":\"greeting\"}"),
      Event(2000, "agent", "speech_end", "{\"interrupted\":false}"),
      Event(2500, "caller", "utterance_start", "{\"turn\":1}"),
      Event(4000, "caller", "utterance_end", "{\"turn\":1}"),
      Event(5000, "agent", "speech_start", "{\"kind\":\"answer\"}"),
      Event(5800, "caller", "utterance_start", "{\"turn\":2}"),
      Event(6000, "agent", "barge_in"),
      Event(6000, "agent", "speech_end", "{\"interrupted\":true}"),
      Event(7000, "caller", "utterance_end", "{\"turn\":2}"),
  };
  const std::string svg = SvgCallTimeline(
      Call(), events, {Tool(7, 8000, 1500, "executed"), Tool(8, 8000, 100, "blocked")});
  EXPECT_NE(svg.find("data-call=\"7\" data-caller=\"2\" data-agent=\"2\" data-barge-ins=\"1\" "
                     "data-tools=\"1\""),
            std::string::npos)
      << svg;
  EXPECT_EQ(Count(svg, "class=\"span agent-speech interrupted\""), 1u);
  // The call's 10 s span the plot's 56 to 1084 px: 5 s in (6000 ms) is 570.0.
  EXPECT_NE(svg.find("<line class=\"barge-in\" x1=\"570.0\""), std::string::npos);
  // The tool ran from 5.5 s to 7 s of the call.
  EXPECT_NE(svg.find("<rect class=\"span tool executed\" x=\"621.4\""), std::string::npos) << svg;
}

TEST(SvgCallTimeline, ALaneDrawsAtMostTheBoundAndSaysHowManyItLeftOut) {
  std::vector<EventRow> events;
  for (int i = 0; i < 200; ++i) {
    events.push_back(Event(1000 + 40 * i, "caller", "utterance_start", "{}"));
    events.push_back(Event(1020 + 40 * i, "caller", "utterance_end", "{}"));
  }
  const std::string svg = SvgCallTimeline(Call(), events, {});
  EXPECT_NE(svg.find("data-caller=\"150\""), std::string::npos);
  EXPECT_EQ(Count(svg, "class=\"span caller-speech\""), 150u);
  EXPECT_NE(svg.find("50 more not drawn"), std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
