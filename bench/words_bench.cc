// Word normalization (agent::NormalizeWords), run on every caller turn by the agent and on every
// line `callsim wer` scores: ASCII text takes a byte-at-a-time path, other scripts decode UTF-8
// and look letters and case folding up in tables.
//   build/callsim_bench --benchmark_filter=NormalizeWords
#include <benchmark/benchmark.h>

#include <string>

#include "agent/text/words.h"

namespace {

void RunNormalize(benchmark::State& state, const std::string& text) {
  for (auto _ : state) benchmark::DoNotOptimize(callsim::agent::NormalizeWords(text));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}

void BM_NormalizeWordsAscii(benchmark::State& state) {
  RunNormalize(state, "Hi, I'd like to check on my order, it's number four five six; when will it "
                      "arrive? Thanks!");
}

void BM_NormalizeWordsUkrainian(benchmark::State& state) {
  RunNormalize(state, "Добрий день, я хочу перевірити своє замовлення, номер чотири п'ять шість; "
                      "коли воно прибуде? Дякую!");
}

BENCHMARK(BM_NormalizeWordsAscii);
BENCHMARK(BM_NormalizeWordsUkrainian);

}  // namespace
