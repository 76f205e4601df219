// How the ASR STT's word error rate grows with noise: each line spoken by espeak-ng, mixed with
// noise at a chosen SNR exactly as a caller's microphone mixes it (MicMixer, babble in real
// voices), sent through a codec (encoder, then decoder, as on a call) and recognised by the ASR
// STT (fakes::AsrStt) with a grammar of the lines' clauses, as a scenario's real-voice caller
// would be. The agent's turn-taking is left out: this is the recogniser's share of what noise
// does, the figure a WER-against-SNR table shows. Deterministic: the same spec gives the same
// counts.
#pragma once

#include <string>
#include <vector>

#include "agent/media/codec.h"
#include "harness/measure/wer.h"
#include "harness/scenario/scenario.h"

namespace callsim::harness {

struct AsrNoiseSpec {
  std::vector<std::string> lines;                   // what the callers say (the WER reference)
  std::vector<std::string> voices = {"en-us+f2"};   // espeak-ng voices, each says every line
  double words_per_minute = 150;
  int draws = 2;              // noise draws (seeds) per line and voice
  NoiseType noise = NoiseType::kWhite;
  double snr_db = 20;
  agent::CodecKind codec = agent::CodecKind::kPcmu;
  int lead_ms = 1500;         // noise alone before each line (the line is already noisy)
  int tail_ms = 1000;         // and after it, before the STT is finalised
};

struct AsrNoiseResult {
  WerCounts wer;
  int utterances = 0;
  double audio_seconds = 0;
  double measured_snr_db = 0;  // the mixers' own measure, averaged over the utterances
};

// False with *error when espeak-ng, the recogniser or the noise cannot be set up.
bool MeasureAsrUnderNoise(const AsrNoiseSpec& spec, AsrNoiseResult* result, std::string* error);

}  // namespace callsim::harness
