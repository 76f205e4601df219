// Word error rate as the store and `callsim wer` report it (docs/DESIGN.md, "Metric definitions"): both
// texts are normalized by agent::NormalizeWords, aligned by unit-cost Levenshtein distance, and
// counted as substitutions, deletions and insertions against N reference words. A corpus rate is
// sum(S+D+I) / sum(N): add WerCounts, then take Rate(); never average per-line rates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::harness {

struct WerCounts {
  int substitutions = 0;
  int deletions = 0;
  int insertions = 0;
  int ref_words = 0;

  int errors() const { return substitutions + deletions + insertions; }
  // (S+D+I) / N; may exceed 1 through insertions. With no reference words (N == 0) the rate is 0
  // when the hypothesis is empty too and 1 otherwise: words where none were expected are wholly
  // wrong, and a finite value keeps thresholds such as "value<0.08" meaningful.
  double Rate() const;
  WerCounts& operator+=(const WerCounts& other);
  bool operator==(const WerCounts&) const = default;
};

// Counts for one reference/hypothesis pair. Among the alignments with the fewest errors (S+D+I),
// the one with the most substitutions (hence the fewest deletions and insertions) is counted, so
// "a b" against "b c" is S=2, not D=1 I=1. This makes S, D and I unique, whatever the path.
// O(N*M) time and O(M) memory, M the hypothesis length; callers bound their inputs.
WerCounts ComputeWer(std::string_view reference, std::string_view hypothesis);
// The same on already normalized words.
WerCounts ComputeWerWords(const std::vector<std::string>& reference,
                          const std::vector<std::string>& hypothesis);

enum class WerOp : uint8_t { kMatch, kSubstitution, kDeletion, kInsertion };

struct WerAlignedWord {
  WerOp op;
  std::string ref;  // empty for an insertion
  std::string hyp;  // empty for a deletion
};

// The word-by-word alignment behind ComputeWerWords (for showing what was misheard), in reference
// order. Its counts equal ComputeWerWords'. Where optimal paths tie, the backtrace from the end
// prefers match/substitution, then deletion, then insertion. Needs (N+1)*(M+1) cells: returns
// false and leaves *out empty beyond kMaxWerAlignCells.
inline constexpr size_t kMaxWerAlignCells = size_t{1} << 24;
bool AlignWords(const std::vector<std::string>& reference,
                const std::vector<std::string>& hypothesis, std::vector<WerAlignedWord>* out);

// Line-by-line WER of two text files: line i of the reference against line i of the hypothesis; a
// line missing from the shorter file counts as empty. A final newline does not start a new line.
struct WerFileResult {
  std::vector<WerCounts> lines;
  WerCounts total;  // the sum of `lines`: total.Rate() is the corpus WER
  size_t ref_lines = 0;  // lines in each text; when they differ, the shorter text's missing
  size_t hyp_lines = 0;  // lines were scored as empty (callers should say so)
};

// Bounds on `callsim wer` input, so one bad file cannot run for hours.
inline constexpr size_t kMaxWerFileBytes = size_t{64} << 20;
inline constexpr size_t kMaxWerLineWords = 10000;

// Returns false and sets *error ("path: cannot open: ...", "path: is a FIFO; give a regular file",
// "path:17: 12000 words on one line; the limit is 10000", "path:3: invalid UTF-8 (byte 0xFF at
// column 5)") when a file cannot be read, is not a regular file (a FIFO or a device could block or
// never end; they are refused without waiting), is over a bound, or is not UTF-8.
bool ComputeWerFiles(const std::string& ref_path, const std::string& hyp_path, WerFileResult* out,
                     std::string* error);
// The same on texts already in memory; the names only label errors. Every line of both texts
// must be valid UTF-8 (agent/text/utf8.h).
bool ComputeWerLines(std::string_view ref_text, std::string_view hyp_text,
                     const std::string& ref_name, const std::string& hyp_name, WerFileResult* out,
                     std::string* error);

}  // namespace callsim::harness
