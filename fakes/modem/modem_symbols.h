// The word modem's wire format, shared by the encoder and the decoder (internal to fakes/modem).
// A word is a burst of 4 symbols: 3 base-16 digits of its vocabulary index (most significant
// first) and a check symbol. The last word of an utterance carries its check symbol with the
// top bit flipped: the voice's turn-yielding cue (the falling end of a turn, as opposed to the
// level pitch of a pause the speaker will go on after), which the fake STT renders as a period. A symbol is one of 4 low tones plus one of 4 high tones (the DTMF
// frequencies, all well inside the 300-3,400 Hz telephone band), held for 55 ms.
#pragma once

#include <array>
#include <cstdint>

#include "agent/media/frame.h"

namespace callsim::fakes::modem {

inline constexpr std::array<double, 4> kLowTonesHz = {697, 770, 852, 941};
inline constexpr std::array<double, 4> kHighTonesHz = {1209, 1336, 1477, 1633};
inline constexpr int kToneCount = 8;  // low tones first, then high tones

inline constexpr int kSymbolCount = 16;
inline constexpr int kDigitSymbols = 3;
inline constexpr int kSymbolsPerWord = kDigitSymbols + 1;
inline constexpr int kMaxIndex = kSymbolCount * kSymbolCount * kSymbolCount - 1;  // 4095

// 55 ms: a lost 20 ms frame leaves at least 35 ms of every symbol it touches.
inline constexpr int kSymbolSamples = 880;
inline constexpr int kBurstSamples = kSymbolSamples * kSymbolsPerWord;  // 220 ms
// Raised-cosine ramps at both edges of every symbol keep the spectrum clean and give the burst
// a syllable-like amplitude dip between symbols.
inline constexpr int kEdgeRampSamples = 64;  // 4 ms

// The decoder analyses the middle of each symbol: 7.5 ms guards on both sides absorb the onset
// estimate's error and the edge ramps; 40 ms gives 25 Hz resolution (tones are >= 73 Hz apart).
inline constexpr int kWindowGuardSamples = 120;
inline constexpr int kWindowSamples = kSymbolSamples - 2 * kWindowGuardSamples;  // 640

// The decoder works in blocks of 2.5 ms; symbol, guard and window lengths are whole blocks.
inline constexpr int kBlockSamples = 40;
static_assert(agent::kFrameSamples % kBlockSamples == 0);
static_assert(kSymbolSamples % kBlockSamples == 0);
static_assert(kWindowGuardSamples % kBlockSamples == 0);

inline constexpr int LowTone(int symbol) { return symbol / 4; }
inline constexpr int HighTone(int symbol) { return symbol % 4; }
inline constexpr int SymbolOf(int low, int high) { return low * 4 + high; }

// Odd weights are invertible mod 16, so changing any single symbol always changes the check.
inline constexpr int CheckSymbol(int d0, int d1, int d2) { return (7 + d0 + 3 * d1 + 5 * d2) & 15; }

// The check symbol of a turn's last word. A corrupted digit still fails both checks unless it
// moves by 8 (its low tone two steps, its high tone unchanged); an error between neighbouring
// tones, the common kind, never does.
inline constexpr int kTurnEndCheckFlip = 8;

inline constexpr std::array<int, kSymbolsPerWord> SymbolsOf(int index, bool turn_end = false) {
  const int d0 = (index >> 8) & 15, d1 = (index >> 4) & 15, d2 = index & 15;
  return {d0, d1, d2, CheckSymbol(d0, d1, d2) ^ (turn_end ? kTurnEndCheckFlip : 0)};
}

}  // namespace callsim::fakes::modem
