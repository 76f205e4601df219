// The ASR STT's word error rate against noise: white and babble (real voices) at 20, 10, 5 and
// 0 dB SNR, through PCMU and Opus (harness::MeasureAsrUnderNoise). Each cell: six caller lines in
// two espeak-ng voices, three noise draws each (36 utterances, 260 reference words). The counters
// are the figures (wer in percent, measured SNR); the time is what a cell costs.
//   build/callsim_bench --benchmark_filter=AsrNoise
#include <benchmark/benchmark.h>

#include <string>

#include "harness/run/asr_noise_table.h"

namespace {

using callsim::agent::CodecKind;
using callsim::harness::NoiseType;

callsim::harness::AsrNoiseSpec Spec(NoiseType noise, CodecKind codec, double snr_db) {
  callsim::harness::AsrNoiseSpec spec;
  spec.lines = {"hi, i want to check on my order, number four five six seven",
                "great, thank you. bye",
                "i would like to change my delivery address",
                "can you tell me when it will arrive",
                "no, that is all for today",
                "yes, please cancel the second item"};
  spec.voices = {"en-us+f2", "en-us+m3"};
  spec.draws = 3;
  spec.noise = noise;
  spec.codec = codec;
  spec.snr_db = snr_db;
  return spec;
}

void Run(benchmark::State& state, NoiseType noise, CodecKind codec) {
  const double snr_db = static_cast<double>(state.range(0));
  callsim::harness::AsrNoiseResult result;
  for (auto _ : state) {
    std::string error;
    if (!callsim::harness::MeasureAsrUnderNoise(Spec(noise, codec, snr_db), &result, &error)) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  state.counters["wer_pct"] = 100 * result.wer.Rate();
  state.counters["S"] = result.wer.substitutions;
  state.counters["D"] = result.wer.deletions;
  state.counters["I"] = result.wer.insertions;
  state.counters["N"] = result.wer.ref_words;
  state.counters["snr_measured_db"] = result.measured_snr_db;
  state.counters["audio_s"] = result.audio_seconds;
}

void BM_AsrNoiseWhitePcmu(benchmark::State& s) { Run(s, NoiseType::kWhite, CodecKind::kPcmu); }
void BM_AsrNoiseBabblePcmu(benchmark::State& s) { Run(s, NoiseType::kBabble, CodecKind::kPcmu); }
void BM_AsrNoiseWhiteOpus(benchmark::State& s) { Run(s, NoiseType::kWhite, CodecKind::kOpus); }
void BM_AsrNoiseBabbleOpus(benchmark::State& s) { Run(s, NoiseType::kBabble, CodecKind::kOpus); }

#define CALLSIM_SNR_LEVELS ->Arg(20)->Arg(10)->Arg(5)->Arg(0)->Iterations(1)->Unit(benchmark::kSecond)
BENCHMARK(BM_AsrNoiseWhitePcmu) CALLSIM_SNR_LEVELS;
BENCHMARK(BM_AsrNoiseBabblePcmu) CALLSIM_SNR_LEVELS;
BENCHMARK(BM_AsrNoiseWhiteOpus) CALLSIM_SNR_LEVELS;
BENCHMARK(BM_AsrNoiseBabbleOpus) CALLSIM_SNR_LEVELS;
#undef CALLSIM_SNR_LEVELS

}  // namespace
