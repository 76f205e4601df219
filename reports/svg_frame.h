// The frame every chart in the HTML report is drawn in: a fixed-size SVG canvas with a plot
// area inside margins, linear scales from data to pixels, "nice" tick values (1, 2 or 5 times a
// power of ten) and the two axes. Pure string building: no fonts, images or anything fetched.
#pragma once

#include <string>
#include <vector>

namespace callsim::reports {

// Maps [d0, d1] onto [r0, r1]; a zero-width domain maps everything to the middle of the range.
struct LinearScale {
  double d0 = 0, d1 = 1;
  double r0 = 0, r1 = 1;
  double At(double v) const;
};

// Round tick values covering [lo, hi], about `target` of them (at least two when lo < hi).
std::vector<double> NiceTicks(double lo, double hi, int target);
// The "nice" step (1, 2 or 5 times a power of ten) at or above `raw_step` (> 0).
double NiceStep(double raw_step);

// The pixel layout of one chart.
struct Frame {
  double width_px = 560, height_px = 240;
  double left_px = 56, right_px = 16, top_px = 28, bottom_px = 40;
  double PlotLeft() const { return left_px; }
  double PlotRight() const { return width_px - right_px; }
  double PlotTop() const { return top_px; }
  double PlotBottom() const { return height_px - bottom_px; }
};

// A coordinate as SVG text: one decimal ("12.5").
std::string Px(double v);

// `<svg class="chart CLASS" ... data-ATTR...>` with a <title>; `attrs` is added as is (already
// escaped, e.g. ` data-bars="12"`). Close it with "</svg>".
std::string SvgOpen(const Frame& f, const std::string& css_class, const std::string& title,
                    const std::string& attrs);
// The x axis along the plot's bottom with ticks and their labels, `label` under it.
std::string XAxis(const Frame& f, const LinearScale& x, const std::vector<double>& ticks,
                  const std::string& label);
// The y axis along the plot's left with ticks, labels and grid lines, `label` beside it.
std::string YAxis(const Frame& f, const LinearScale& y, const std::vector<double>& ticks,
                  const std::string& label);
// A tick value as a label: whole numbers plain, others with up to two decimals.
std::string TickLabel(double v);

}  // namespace callsim::reports
