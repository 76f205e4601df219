#include "reports/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/reports/occurrences.h"

namespace callsim::reports {
namespace {

using testing::Count;

std::vector<double> Range(int from, int to) {
  std::vector<double> v;
  for (int i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TEST(BinSamples, AHundredSamplesGetTenBinsOfTen) {
  const std::vector<HistogramBin> bins = BinSamples(Range(0, 99));
  ASSERT_EQ(bins.size(), 10u);
  for (size_t i = 0; i < bins.size(); ++i) {
    EXPECT_DOUBLE_EQ(bins[i].lo, 10.0 * static_cast<double>(i));
    EXPECT_DOUBLE_EQ(bins[i].hi, 10.0 * static_cast<double>(i + 1));
    EXPECT_EQ(bins[i].count, 10u) << "bin " << i;
  }
}

TEST(BinSamples, ManySamplesStayWithinTheBoundAndAllAreCounted) {
  std::vector<double> v;
  for (int i = 0; i < 10000; ++i) v.push_back(800 + std::fmod(i * 7.31, 2000.0));
  v.push_back(std::nan(""));  // ignored
  const std::vector<HistogramBin> bins = BinSamples(v);
  EXPECT_LE(bins.size(), kMaxBins);
  EXPECT_GE(bins.size(), 20u);
  size_t total = 0;
  for (const HistogramBin& b : bins) total += b.count;
  EXPECT_EQ(total, 10000u);
}

TEST(BinSamples, EqualSamplesGetOneBinAndNoSamplesNone) {
  const std::vector<HistogramBin> bins = BinSamples({5, 5, 5});
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_EQ(bins[0].count, 3u);
  EXPECT_TRUE(BinSamples({}).empty());
}

TEST(SvgHistogram, DrawsOneBarPerBinAndSaysHowMany) {
  const std::vector<HistogramBin> bins = BinSamples(Range(0, 99));
  const std::string svg = SvgHistogram(bins, {}, {"t", "x", "y"});
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 10u);
  EXPECT_NE(svg.find("data-bars=\"10\""), std::string::npos);
}

// 1..20 fall in five bins of 5 from 0 to 25, so the plot's 488 px (56 to 544) hold 25 ms and the
// p95 marker (nearest rank: the 19th value, 19) sits at 56 + 19 / 25 * 488 = 426.9.
TEST(SvgHistogram, AMarkerSitsAtItsValue) {
  const std::vector<HistogramBin> bins = BinSamples(Range(1, 20));
  ASSERT_EQ(bins.size(), 5u);
  const std::string svg = SvgHistogram(bins, {{"p95", 19}}, {"t", "x", "y"});
  EXPECT_NE(svg.find("<g class=\"marker\" data-label=\"p95\" data-value=\"19.0\"><line "
                     "x1=\"426.9\""),
            std::string::npos)
      << svg;
}

TEST(SvgCdf, KeepsAtMostTheBoundOfPointsEndingAtTheLargestSample) {
  const std::vector<double> samples = Range(1, 10000);
  const std::string svg = SvgCdf(samples, {}, {"t", "x", "y"});
  EXPECT_NE(svg.find("data-points=\"400\""), std::string::npos);
  EXPECT_EQ(Count(svg, "H"), 400u);
  // The last step reaches share 1 at the top of the plot (y = 28) at the right edge (x = 544).
  EXPECT_NE(svg.find("H544.0V28.0\""), std::string::npos);
  EXPECT_NE(SvgCdf(Range(1, 7), {}, {"t", "x", "y"}).find("data-points=\"7\""), std::string::npos);
}

TEST(SvgLineChart, AMissingValueBreaksTheLine) {
  const std::string svg = SvgLineChart({10, 25, 50}, {{"p95", "s1", {1000, std::nan(""), 3000}}},
                                       {{"knee", 25}}, {"t", "x", "y"});
  EXPECT_NE(svg.find("data-series=\"1\" data-points=\"3\""), std::string::npos);
  EXPECT_EQ(Count(svg, "<circle class=\"dot\""), 2u);
  EXPECT_EQ(Count(svg, "d=\"M"), 1u);
  EXPECT_EQ(Count(svg, "M"), 2u) << svg;  // two pen-downs, no line across the gap
  EXPECT_NE(svg.find("data-label=\"knee\" data-value=\"25.0\""), std::string::npos);
}

}  // namespace
}  // namespace callsim::reports
