// The machine's wake-up floor: how late a thread that sleeps until a deadline wakes, with nothing
// else running. Anything real-time here (the fakes over the wire, the harness's media clock) can
// do no better at p99.
//   build/callsim_bench --benchmark_filter=WakeFloor
//   ClockNanosleep: 3,000 sleeps to an absolute deadline 1 ms ahead.
//   RealtimeScheduler/N: 5,000 tasks N us apart on one RealtimeScheduler, alone in its io_context.
#include <benchmark/benchmark.h>
#include <time.h>

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <vector>

#include "agent/runtime/realtime_scheduler.h"

namespace {

void Report(benchmark::State& state, const char* what, std::vector<double> late_ms) {
  std::sort(late_ms.begin(), late_ms.end());
  const double p50 = late_ms[late_ms.size() / 2];
  const double p99 = late_ms[late_ms.size() * 99 / 100];
  state.counters["late_p50_ms"] = p50;
  state.counters["late_p99_ms"] = p99;
  state.counters["late_max_ms"] = late_ms.back();
  std::printf("%s: late p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", what, p50, p99, late_ms.back());
}

void BM_WakeFloorClockNanosleep(benchmark::State& state) {
  for (auto _ : state) {
    std::vector<double> late;
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < 3000; ++i) {
      next += std::chrono::milliseconds(1);
      const auto ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
      timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      late.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - next).count());
    }
    Report(state, "clock_nanosleep, 1 ms ahead", late);
  }
}
BENCHMARK(BM_WakeFloorClockNanosleep)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_WakeFloorRealtimeScheduler(benchmark::State& state) {
  const int64_t spacing_us = state.range(0);
  for (auto _ : state) {
    boost::asio::io_context io;
    std::vector<double> late;
    {
      callsim::agent::RealtimeScheduler scheduler(io);
      const int64_t t0 = scheduler.NowUs() + 10000;
      for (int i = 0; i < 5000; ++i) {
        const int64_t due = t0 + i * spacing_us;
        scheduler.At(due, [&, due] { late.push_back((scheduler.NowUs() - due) / 1000.0); });
      }
      io.run();
    }
    Report(state, "RealtimeScheduler", late);
  }
}
BENCHMARK(BM_WakeFloorRealtimeScheduler)
    ->Arg(1000)
    ->Arg(20000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
