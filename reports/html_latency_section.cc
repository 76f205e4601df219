#include "reports/html_latency_section.h"

#include <cmath>
#include <optional>

#include "harness/measure/percentile.h"
#include "reports/html_table.h"
#include "reports/html_text.h"
#include "reports/svg_chart.h"
#include "reports/svg_frame.h"
#include "reports/turn_waterfall.h"

namespace callsim::reports {
namespace {

using harness::TurnRow;

constexpr double kMarked[] = {50, 95, 99};

std::vector<ChartMarker> PercentileMarkers(const std::vector<double>& samples) {
  std::vector<ChartMarker> out;
  for (const double q : kMarked) {
    std::string label = "p";
    out.push_back({label.append(FormatFixed(q, 0)), harness::NearestRankPercentile(samples, q)});
  }
  return out;
}

std::string PercentileTable(const std::vector<double>& samples) {
  HtmlRow row;
  for (const double q : {50.0, 95.0, 99.0, 100.0}) {
    row.cells_html.push_back(FormatFixed(harness::NearestRankPercentile(samples, q), 1));
  }
  row.cells_html.push_back(std::to_string(samples.size()));
  return HtmlTable({"p50 ms", "p95 ms", "p99 ms", "max ms", "samples"}, {row}, "percentiles",
                   {0, 1, 2, 3, 4});
}

std::string WaterfallFigure(const harness::Store& store, int64_t run_id, const TurnRow& turn,
                            const std::string& which) {
  const std::optional<agent::TurnSpansEvent> spans =
      FindTurnSpans(store.LoadEvents(run_id, turn.call_id), turn.turn_index);
  const std::string title = which + ": call " + std::to_string(turn.call_id) + ", turn " +
                            std::to_string(turn.turn_index) + ", " +
                            FormatFixed(*turn.turn_latency_ms, 1) + " ms";
  return "<figure class=\"waterfall-figure\" data-call=\"" + std::to_string(turn.call_id) +
         "\" data-turn=\"" + std::to_string(turn.turn_index) + "\" data-latency-ms=\"" +
         FormatFixed(*turn.turn_latency_ms, 3) + "\">" +
         SvgWaterfall(WaterfallStages(*turn.turn_latency_ms, spans), title) + "<figcaption>" +
         HtmlEscape(title) + "</figcaption></figure>";
}

}  // namespace

std::string DistributionHtml(const std::vector<double>& samples, const std::string& what,
                             const std::string& unit_of) {
  if (samples.empty()) return "";
  const std::vector<HistogramBin> bins = BinSamples(samples);
  const std::vector<ChartMarker> markers = PercentileMarkers(samples);
  const double width = bins.empty() ? 0 : bins.front().hi - bins.front().lo;
  const std::string count = std::to_string(samples.size());
  return "<figure class=\"distribution\" data-samples=\"" + count + "\">" +
         "<div class=\"charts\">" +
         SvgHistogram(bins, markers, {what + " histogram", what + " (ms)", unit_of}) +
         SvgCdf(samples, markers, {what + " CDF", what + " (ms)", "share at or below"}) +
         "</div><figcaption>" + HtmlEscape(what) + " of " + count + " " + HtmlEscape(unit_of) +
         " in <span class=\"bin-count\">" + std::to_string(bins.size()) + "</span> bins of " +
         TickLabel(width) + " ms; p50, p95 and p99 are nearest-rank values.</figcaption>" +
         PercentileTable(samples) + "</figure>";
}

std::string TurnLatencyHtml(const std::vector<TurnRow>& turns) {
  std::vector<double> latencies_ms;
  for (const TurnRow& t : turns) {
    if (t.turn_latency_ms) latencies_ms.push_back(*t.turn_latency_ms);
  }
  if (latencies_ms.empty()) return "<h3>Turn latency</h3><p>No turn was answered.</p>";
  return "<h3>Turn latency</h3><p class=\"note\">At the caller's ear: from the last sample of the "
         "caller's utterance to the first sample of the agent's reply.</p>" +
         DistributionHtml(latencies_ms, "turn latency", "answered turns");
}

std::string WaterfallHtml(const harness::Store& store, int64_t run_id,
                          const std::vector<TurnRow>& turns) {
  const std::optional<TurnRow> p50 = TurnAtPercentile(turns, 50);
  const std::optional<TurnRow> p95 = TurnAtPercentile(turns, 95);
  if (!p50 || !p95) return "";
  return "<h3>Where the time went</h3><p class=\"note\">The agent's stage spans of the turns whose "
         "latency is the p50 and the p95, laid end to end; what the spans do not cover is "
         "network and playout (uplink, jitter buffer, the VAD's hangover, downlink). The stages "
         "sum to the turn latency.</p><div class=\"charts\">" +
         WaterfallFigure(store, run_id, *p50, "p50 turn") +
         WaterfallFigure(store, run_id, *p95, "p95 turn") + "</div>";
}

std::string BargeInHtml(const std::vector<TurnRow>& turns) {
  size_t barge_ins = 0;
  std::vector<double> stop_ms;
  for (const TurnRow& t : turns) {
    if (!t.barge_in) continue;
    ++barge_ins;
    if (t.barge_in_stop_ms) stop_ms.push_back(*t.barge_in_stop_ms);
  }
  if (barge_ins == 0) return "";
  return "<h3>Barge-in</h3><p class=\"note\">" + std::to_string(barge_ins) +
         " barge-ins, " + std::to_string(stop_ms.size()) +
         " with the stop observed. Stop latency: from the first sample of the caller's "
         "interruption to the last sample of agent audio at the caller's ear.</p>" +
         DistributionHtml(stop_ms, "barge-in stop latency", "barge-ins");
}

}  // namespace callsim::reports
