#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>

#include "reports/html_text.h"
#include "reports/svg_frame.h"

namespace callsim::reports {
namespace {

std::vector<double> Finite(const std::vector<double>& samples) {
  std::vector<double> out;
  out.reserve(samples.size());
  for (const double v : samples) {
    if (std::isfinite(v)) out.push_back(v);
  }
  return out;
}

// Vertical lines across the plot at each marker, labels staggered in three rows so that close
// percentiles (p95 and p99 often are) stay readable.
std::string MarkersSvg(const Frame& f, const LinearScale& x, const std::vector<ChartMarker>& markers) {
  std::string out;
  for (size_t i = 0; i < markers.size(); ++i) {
    const ChartMarker& m = markers[i];
    const double px = std::clamp(x.At(m.value), f.PlotLeft(), f.PlotRight());
    const std::string value = FormatFixed(m.value, 1);
    const double label_y = f.PlotTop() + 10 + 12 * static_cast<double>(i % 3);
    const bool right_half = px > (f.PlotLeft() + f.PlotRight()) / 2;
    out += "<g class=\"marker\" data-label=\"" + HtmlEscape(m.label) + "\" data-value=\"" + value +
           "\"><line x1=\"" + Px(px) + "\" y1=\"" + Px(f.PlotTop()) + "\" x2=\"" + Px(px) +
           "\" y2=\"" + Px(f.PlotBottom()) + "\"/><text x=\"" + Px(px + (right_half ? -3 : 3)) +
           "\" y=\"" + Px(label_y) + "\" text-anchor=\"" + (right_half ? "end" : "start") + "\">" +
           HtmlEscape(m.label) + " " + value + "</text></g>";
  }
  return out;
}

LinearScale XScale(const Frame& f, double lo, double hi) {
  if (hi <= lo) {
    lo -= 1;
    hi += 1;
  }
  return {lo, hi, f.PlotLeft(), f.PlotRight()};
}

// The y scale from 0 to a nice value at or above `max_value`, and its ticks.
LinearScale YScale(const Frame& f, double max_value, std::vector<double>* ticks) {
  const double top = max_value > 0 ? max_value : 1;
  *ticks = NiceTicks(0, top, 4);
  const double step = ticks->size() > 1 ? (*ticks)[1] - (*ticks)[0] : top;
  const double nice_top = std::ceil(top / step - 1e-9) * step;
  if (ticks->empty() || ticks->back() < nice_top) ticks->push_back(nice_top);
  return {0, nice_top, f.PlotBottom(), f.PlotTop()};
}

}  // namespace

std::vector<HistogramBin> BinSamples(const std::vector<double>& samples, size_t max_bins) {
  const std::vector<double> v = Finite(samples);
  if (v.empty()) return {};
  const auto [min_it, max_it] = std::minmax_element(v.begin(), v.end());
  const double lo = *min_it, hi = *max_it;
  if (lo == hi) return {{lo, hi, v.size()}};
  max_bins = std::max<size_t>(max_bins, 2);
  const size_t target = std::min<size_t>(
      static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(v.size())))), max_bins - 1);
  double width = NiceStep((hi - lo) / static_cast<double>(target));
  double start = std::floor(lo / width) * width;
  size_t count = static_cast<size_t>(std::floor((hi - start) / width)) + 1;
  for (int guard = 0; count > max_bins && guard < 8; ++guard) {  // rounding at the edges
    width = NiceStep(width * 1.001);
    start = std::floor(lo / width) * width;
    count = static_cast<size_t>(std::floor((hi - start) / width)) + 1;
  }
  count = std::min(count, max_bins);
  std::vector<HistogramBin> bins(count);
  for (size_t i = 0; i < count; ++i) {
    bins[i].lo = start + static_cast<double>(i) * width;
    bins[i].hi = bins[i].lo + width;
  }
  for (const double x : v) {
    const double index = std::floor((x - start) / width);
    ++bins[static_cast<size_t>(std::clamp(index, 0.0, static_cast<double>(count - 1)))].count;
  }
  return bins;
}

std::string SvgHistogram(const std::vector<HistogramBin>& bins,
                         const std::vector<ChartMarker>& markers, const ChartText& text) {
  const Frame f;
  std::string out = SvgOpen(f, "histogram", text.title,
                            " data-bars=\"" + std::to_string(bins.size()) + "\"");
  if (bins.empty()) return out + "</svg>";
  size_t max_count = 0;
  for (const HistogramBin& b : bins) max_count = std::max(max_count, b.count);
  const LinearScale x = XScale(f, bins.front().lo, bins.back().hi);
  std::vector<double> y_ticks;
  const LinearScale y = YScale(f, static_cast<double>(max_count), &y_ticks);
  out += YAxis(f, y, y_ticks, text.y_label);
  for (const HistogramBin& b : bins) {
    const double x0 = x.At(b.lo), x1 = x.At(b.hi);
    const double top = y.At(static_cast<double>(b.count));
    out += "<rect class=\"bar\" x=\"" + Px(x0 + 0.5) + "\" y=\"" + Px(top) + "\" width=\"" +
           Px(std::max(0.5, x1 - x0 - 1)) + "\" height=\"" + Px(f.PlotBottom() - top) +
           "\" data-count=\"" + std::to_string(b.count) + "\"><title>" + TickLabel(b.lo) + " to " +
           TickLabel(b.hi) + ": " + std::to_string(b.count) + "</title></rect>";
  }
  out += XAxis(f, x, NiceTicks(bins.front().lo, bins.back().hi, 6), text.x_label);
  return out + MarkersSvg(f, x, markers) + "</svg>";
}

std::string SvgCdf(const std::vector<double>& samples, const std::vector<ChartMarker>& markers,
                   const ChartText& text, size_t max_points) {
  std::vector<double> v = Finite(samples);
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const size_t shown = std::min(n, std::max<size_t>(max_points, 2));
  const Frame f;
  std::string out = SvgOpen(f, "cdf", text.title, " data-points=\"" + std::to_string(shown) + "\"");
  if (n == 0) return out + "</svg>";
  const LinearScale x = XScale(f, v.front(), v.back());
  std::vector<double> y_ticks = {0, 0.25, 0.5, 0.75, 1};
  const LinearScale y{0, 1, f.PlotBottom(), f.PlotTop()};
  out += YAxis(f, y, y_ticks, text.y_label);
  std::string path = "M";
  path.append(Px(x.At(v.front()))).append(",").append(Px(y.At(0)));
  for (size_t k = 0; k < shown; ++k) {
    // Evenly spaced ranks, the first and the last always among them.
    const size_t rank = shown == n ? k : static_cast<size_t>(std::llround(
        static_cast<double>(k) * static_cast<double>(n - 1) / static_cast<double>(shown - 1)));
    const double share = static_cast<double>(rank + 1) / static_cast<double>(n);
    path.append("H").append(Px(x.At(v[rank]))).append("V").append(Px(y.At(share)));
  }
  out += "<path class=\"cdf-line\" d=\"" + path + "\"/>";
  out += XAxis(f, x, NiceTicks(v.front(), v.back(), 6), text.x_label);
  return out + MarkersSvg(f, x, markers) + "</svg>";
}

std::string SvgLineChart(const std::vector<double>& x_values, const std::vector<LineSeries>& series,
                         const std::vector<ChartMarker>& markers, const ChartText& text) {
  const Frame f;
  std::string out = SvgOpen(f, "line-chart", text.title,
                            " data-series=\"" + std::to_string(series.size()) +
                                "\" data-points=\"" + std::to_string(x_values.size()) + "\"");
  if (x_values.empty()) return out + "</svg>";
  double y_max = 0;
  for (const LineSeries& s : series) {
    for (const double v : s.y) {
      if (std::isfinite(v)) y_max = std::max(y_max, v);
    }
  }
  const LinearScale x = XScale(f, x_values.front(), x_values.back());
  std::vector<double> y_ticks;
  const LinearScale y = YScale(f, y_max, &y_ticks);
  out += YAxis(f, y, y_ticks, text.y_label);
  out += XAxis(f, x, x_values.size() <= 12 ? x_values : NiceTicks(x_values.front(), x_values.back(), 6),
               text.x_label);
  for (size_t s = 0; s < series.size(); ++s) {
    const LineSeries& line = series[s];
    std::string path, dots;
    bool pen_down = false;
    for (size_t i = 0; i < x_values.size() && i < line.y.size(); ++i) {
      if (!std::isfinite(line.y[i])) {
        pen_down = false;
        continue;
      }
      const std::string px = Px(x.At(x_values[i])), py = Px(y.At(line.y[i]));
      path += (pen_down ? "L" : "M") + px + "," + py;
      pen_down = true;
      dots += "<circle class=\"dot\" cx=\"" + px + "\" cy=\"" + py + "\" r=\"3\"><title>" +
              HtmlEscape(line.name) + " at " + TickLabel(x_values[i]) + ": " +
              FormatFixed(line.y[i], 1) + "</title></circle>";
    }
    const std::string legend_y = Px(f.PlotTop() + 12 * static_cast<double>(s));
    out += "<g class=\"series " + HtmlEscape(line.css_class) + "\" data-name=\"" +
           HtmlEscape(line.name) + "\"><path d=\"" + path + "\"/>" + dots + "<text x=\"" +
           Px(f.PlotRight() - 4) + "\" y=\"" + legend_y + "\" dy=\"4\" text-anchor=\"end\">" +
           HtmlEscape(line.name) + "</text></g>";
  }
  return out + MarkersSvg(f, x, markers) + "</svg>";
}

}  // namespace callsim::reports
