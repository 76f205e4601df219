#include "reports/svg_frame.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "reports/html_text.h"

namespace callsim::reports {

double LinearScale::At(double v) const {
  if (d1 == d0) return (r0 + r1) / 2;
  return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

double NiceStep(double raw_step) {
  const double power = std::pow(10.0, std::floor(std::log10(raw_step)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw_step * (1 - 1e-9)) return m * power;
  }
  return 10 * power;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (hi <= lo) return {lo};
  const double step = NiceStep((hi - lo) / std::max(1, target));
  std::vector<double> ticks;
  // A bound on the count keeps a pathological range from looping long.
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 50; ++i) {
    const double t = first + i * step;
    if (t > hi + step * 1e-9) break;
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string Px(double v) { return FormatFixed(std::isfinite(v) ? v : 0.0, 1); }

std::string TickLabel(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return FormatFixed(v, 0);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  return s;
}

std::string SvgOpen(const Frame& f, const std::string& css_class, const std::string& title,
                    const std::string& attrs) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart " + css_class +
         "\" viewBox=\"0 0 " + Px(f.width_px) + " " + Px(f.height_px) + "\" width=\"" +
         Px(f.width_px) + "\" height=\"" + Px(f.height_px) + "\" role=\"img\"" + attrs +
         "><title>" + HtmlEscape(title) + "</title>";
}

std::string XAxis(const Frame& f, const LinearScale& x, const std::vector<double>& ticks,
                  const std::string& label) {
  const std::string y = Px(f.PlotBottom());
  std::string out = "<g class=\"axis x\"><line x1=\"" + Px(f.PlotLeft()) + "\" y1=\"" + y +
                    "\" x2=\"" + Px(f.PlotRight()) + "\" y2=\"" + y + "\"/>";
  for (const double t : ticks) {
    const std::string px = Px(x.At(t));
    out += "<line x1=\"" + px + "\" y1=\"" + y + "\" x2=\"" + px + "\" y2=\"" +
           Px(f.PlotBottom() + 4) + "\"/><text x=\"" + px + "\" y=\"" + Px(f.PlotBottom() + 16) +
           "\" text-anchor=\"middle\">" + TickLabel(t) + "</text>";
  }
  out += "<text class=\"label\" x=\"" + Px((f.PlotLeft() + f.PlotRight()) / 2) + "\" y=\"" +
         Px(f.height_px - 6) + "\" text-anchor=\"middle\">" + HtmlEscape(label) + "</text></g>";
  return out;
}

std::string YAxis(const Frame& f, const LinearScale& y, const std::vector<double>& ticks,
                  const std::string& label) {
  const std::string x = Px(f.PlotLeft());
  std::string out = "<g class=\"axis y\"><line x1=\"" + x + "\" y1=\"" + Px(f.PlotTop()) +
                    "\" x2=\"" + x + "\" y2=\"" + Px(f.PlotBottom()) + "\"/>";
  for (const double t : ticks) {
    const std::string py = Px(y.At(t));
    out += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + py + "\" x2=\"" + Px(f.PlotRight()) +
           "\" y2=\"" + py + "\"/><text x=\"" + Px(f.PlotLeft() - 6) + "\" y=\"" + py +
           "\" dy=\"4\" text-anchor=\"end\">" + TickLabel(t) + "</text>";
  }
  out += "<text class=\"label\" x=\"" + Px(f.PlotLeft()) + "\" y=\"" + Px(f.PlotTop() - 10) +
         "\" text-anchor=\"start\">" + HtmlEscape(label) + "</text></g>";
  return out;
}

}  // namespace callsim::reports
