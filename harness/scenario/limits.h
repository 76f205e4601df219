// Every bound the scenario loader enforces, in one place: value ranges and the largest lists it
// accepts. Upper bounds are generous; they exist so that a typo cannot become a day-long wait or an
// out-of-memory, and the loader names the bound in its error. scenarios/schema.json states the
// same bounds (a test checks that every bound the schema allows, the typed parser allows too).
#pragma once

#include <cstddef>
#include <cstdint>

#include "harness/scenario/yaml_reader.h"

namespace callsim::harness::limits {

inline constexpr NumberRange kProbability{0, 1};
inline constexpr NumberRange kLinkDelayMs{0, 60'000};
inline constexpr NumberRange kTimeMs{0, 86'400'000};
inline constexpr NumberRange kPositiveTimeMs{0, 86'400'000, true};
inline constexpr NumberRange kPipelineMs{0, 60'000};  // VAD, endpointing, jitter buffer
inline constexpr NumberRange kLatencyMs{0, 600'000};
inline constexpr NumberRange kPositiveLatencyMs{0, 600'000, true};
inline constexpr NumberRange kSnrDb{-20, 100};
inline constexpr NumberRange kDbfs{-120, 0};
inline constexpr NumberRange kWordsPerMinute{0, 1000, true};
inline constexpr NumberRange kTokensPerS{0, 1'000'000, true};
inline constexpr NumberRange kRatePerS{0, 1'000'000};
inline constexpr NumberRange kReturnLossDb{0, 80};
inline constexpr NumberRange kEchoDelayMs{0, 1000};
inline constexpr NumberRange kVariation{0, 0.5};
inline constexpr NumberRange kRunDurationS{0, 86'400};
inline constexpr NumberRange kPhaseDurationS{0, 86'400, true};
inline constexpr NumberRange kMixWeight{0, 1'000'000, true};
inline constexpr NumberRange kPauseMarkerMs{0, 60'000, true};

inline constexpr int64_t kMaxCallers = 1'000'000;
inline constexpr size_t kMaxOutages = 1000;
inline constexpr size_t kMaxTurns = 10000;
// A `user:` utterance, in characters (about 400 words, two and a half minutes of speech): a
// caller renders its utterance to audio before speaking, so a megabyte of text would take
// gigabytes per caller.
inline constexpr size_t kMaxUtteranceChars = 2000;
inline constexpr size_t kMaxExpectationsPerTurn = 100;
inline constexpr int64_t kMinTalkers = 1;
inline constexpr int64_t kMaxTalkers = 16;
inline constexpr int64_t kMaxCapacity = 1'000'000;  // max_concurrent and queue
inline constexpr size_t kMaxDtmfKeys = 100;
inline constexpr size_t kMaxRegexChars = 1000;
inline constexpr size_t kMaxPhases = 1000;
inline constexpr size_t kMaxMixEntries = 100;
inline constexpr size_t kMaxThresholdExprs = 100;
inline constexpr int64_t kMaxToolSteps = 100;       // tools.max_steps_per_turn, breaker failures
inline constexpr int64_t kMaxBargeInWords = 20;
inline constexpr int64_t kMaxFirstClauseWords = 50;
inline constexpr int64_t kMaxSilencePrompts = 10;
inline constexpr int64_t kMaxRetries = 5;

}  // namespace callsim::harness::limits
