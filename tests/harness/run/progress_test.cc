// The progress line: its format, the ETA from the virtual-time rate, and how often it prints on a
// terminal (live, rewritten with \r) and in CI logs (plain lines).
#include "harness/run/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace callsim::harness {
namespace {

RunProgress At(double virtual_s, int done, int active) {
  RunProgress p;
  p.virtual_us = static_cast<int64_t>(virtual_s * 1e6);
  p.calls_total = 1000;
  p.calls_done = done;
  p.calls_active = active;
  p.calls_started = done + active;
  return p;
}

// Everything written to a temporary FILE*.
std::string ReadAll(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  return text;
}

TEST(ProgressTest, FormatLeavesOutWhatIsNotKnownYet) {
  RunProgress p = At(12, 512, 230);
  EXPECT_EQ(FormatProgress(p, -1), "calls 512/1000 done, 230 active");
  p.turn_latency_p95_ms = 1423;
  EXPECT_EQ(FormatProgress(p, 11.2), "calls 512/1000 done, 230 active, p95 1.42 s, eta 12 s");
}

TEST(ProgressTest, EtaIsTheVirtualTimeLeftOverTheVirtualTimeRate) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressPrinter printer(f, /*live=*/false);
  RunProgress first = At(1, 0, 10);
  printer.Report(first, 100.0);  // the origin: no rate yet
  RunProgress later = At(11, 100, 50);
  later.estimated_end_us = 31000000;
  printer.Report(later, 105.0);  // 10 virtual s in 5 wall s; 20 virtual s left: 10 s
  EXPECT_EQ(ReadAll(f),
            "calls 0/1000 done, 10 active\n"
            "calls 100/1000 done, 50 active, eta 10 s\n");
  std::fclose(f);
}

TEST(ProgressTest, PlainLinesAtMostEveryFiveWallSecondsAndAlwaysTheLast) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressPrinter printer(f, /*live=*/false);
  printer.Report(At(1, 1, 0), 0.0);
  printer.Report(At(2, 2, 0), 4.9);  // too soon
  printer.Report(At(3, 3, 0), 5.0);
  printer.Report(At(4, 4, 0), 6.0);  // too soon
  RunProgress last = At(5, 5, 0);
  last.finished = true;
  printer.Report(last, 6.5);  // the last report always prints
  EXPECT_EQ(ReadAll(f),
            "calls 1/1000 done, 0 active\n"
            "calls 3/1000 done, 0 active\n"
            "calls 5/1000 done, 0 active\n");
  std::fclose(f);
}

TEST(ProgressTest, LiveLineIsRewrittenAtMostTenTimesASecond) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressPrinter printer(f, /*live=*/true);
  printer.Report(At(1, 10, 100), 0.00);
  printer.Report(At(2, 20, 100), 0.05);  // too soon
  printer.Report(At(3, 9, 1), 0.10);     // a shorter line blanks out the rest of the longer one
  RunProgress last = At(4, 40, 0);
  last.finished = true;
  printer.Report(last, 0.12);
  EXPECT_EQ(ReadAll(f),
            "\rcalls 10/1000 done, 100 active"
            "\rcalls 9/1000 done, 1 active   "
            "\rcalls 40/1000 done, 0 active\n");
  std::fclose(f);
}

}  // namespace
}  // namespace callsim::harness
