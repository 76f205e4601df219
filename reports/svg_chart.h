// The distribution and trend charts of the HTML report as inline SVG: a histogram and a CDF of
// samples (turn latency, barge-in stop latency) with percentile markers, and a line chart of
// several series against a swept level. Every chart is bounded whatever the sample count
// (kMaxBins bars, kMaxCdfPoints points), and carries its counts as data attributes
// (data-bars, data-points, data-series) so a browser test can check what is drawn.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace callsim::reports {

inline constexpr size_t kMaxBins = 40;
inline constexpr size_t kMaxCdfPoints = 400;

// One bar: the samples v with lo <= v < hi.
struct HistogramBin {
  double lo = 0, hi = 0;
  size_t count = 0;
};

// Equal-width bins over the samples (NaN ignored): about sqrt(n) of them and at most
// `max_bins` (>= 2), each a "nice" width (1, 2 or 5 times a power of ten) starting at a multiple
// of it. All samples equal: one bin. No samples: no bins.
std::vector<HistogramBin> BinSamples(const std::vector<double>& samples, size_t max_bins = kMaxBins);

// A vertical line at `value` labelled "LABEL VALUE" (p50, p95, p99; the knee).
struct ChartMarker {
  std::string label;
  double value = 0;
};

struct ChartText {
  std::string title;    // the SVG's <title>
  std::string x_label;  // "turn latency (ms)"
  std::string y_label;  // "turns"
};

// One <rect class="bar"> per bin (empty bins too, at zero height) and one
// <g class="marker" data-label=.. data-value=..> per marker; the <svg> says data-bars="N".
std::string SvgHistogram(const std::vector<HistogramBin>& bins,
                         const std::vector<ChartMarker>& markers, const ChartText& text);

// The empirical CDF (a step line, y = share of samples <= x) through at most `max_points`
// points of the sorted samples (evenly spaced ranks, the last always kept), with the markers.
std::string SvgCdf(const std::vector<double>& samples, const std::vector<ChartMarker>& markers,
                   const ChartText& text, size_t max_points = kMaxCdfPoints);

struct LineSeries {
  std::string name;       // in the legend
  std::string css_class;  // "s0", "s1"...: the colour
  std::vector<double> y;  // one per x; NaN leaves a gap
};

// Series against x (ascending), a dot per point, a legend, and the markers; y from 0.
std::string SvgLineChart(const std::vector<double>& x, const std::vector<LineSeries>& series,
                         const std::vector<ChartMarker>& markers, const ChartText& text);

}  // namespace callsim::reports
