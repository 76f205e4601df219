#include "harness/measure/wer.h"

#include <algorithm>
#include <optional>

#include "agent/runtime/input_file.h"
#include "agent/text/utf8.h"
#include "agent/text/words.h"

namespace callsim::harness {
namespace {

// Alignment costs are pairs (errors, deletions + insertions) compared lexicographically, packed
// into one integer as errors * base + indels with base > any indel count. The DP then finds the
// fewest errors and, among those, the fewest indels, i.e. the most substitutions.
struct CostModel {
  int64_t base;
  int64_t Substitution() const { return base; }
  int64_t Indel() const { return base + 1; }
};

CostModel CostsFor(size_t n, size_t m) { return CostModel{static_cast<int64_t>(n + m + 1)}; }

// Turns the packed optimal cost into counts. I - D = M - N for every alignment, and D + I is the
// indel part, so both are fixed; S is the rest of the errors.
WerCounts CountsFromCost(int64_t cost, const CostModel& costs, size_t n, size_t m) {
  const int64_t errors = cost / costs.base;
  const int64_t indels = cost % costs.base;
  const int64_t surplus = static_cast<int64_t>(m) - static_cast<int64_t>(n);
  WerCounts c;
  c.insertions = static_cast<int>((indels + surplus) / 2);
  c.deletions = static_cast<int>((indels - surplus) / 2);
  c.substitutions = static_cast<int>(errors - indels);
  c.ref_words = static_cast<int>(n);
  return c;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A FIFO or a device could block the read or never end: only a regular file is read.
bool ReadFile(const std::string& path, std::string* text, std::string* error) {
  if (agent::ReadRegularFile(path, kMaxWerFileBytes, text, error)) return true;
  *error = path + ": " + *error;
  return false;
}

bool LineWords(const std::vector<std::string_view>& lines, size_t i, const std::string& name,
               std::vector<std::string>* words, std::string* error) {
  const std::string_view line = i < lines.size() ? lines[i] : std::string_view();
  if (const std::optional<size_t> bad = agent::FirstInvalidUtf8(line)) {
    *error = name + ":" + std::to_string(i + 1) + ":" +
             std::to_string(agent::PositionOf(line, *bad).column) + ": " +
             agent::InvalidUtf8Message(line, *bad);
    return false;
  }
  *words = agent::NormalizeWords(line);
  if (words->size() > kMaxWerLineWords) {
    *error = name + ":" + std::to_string(i + 1) + ": " + std::to_string(words->size()) +
             " words on one line; the limit is " + std::to_string(kMaxWerLineWords);
    return false;
  }
  return true;
}

}  // namespace

double WerCounts::Rate() const {
  if (ref_words == 0) return errors() == 0 ? 0.0 : 1.0;
  return static_cast<double>(errors()) / ref_words;
}

WerCounts& WerCounts::operator+=(const WerCounts& other) {
  substitutions += other.substitutions;
  deletions += other.deletions;
  insertions += other.insertions;
  ref_words += other.ref_words;
  return *this;
}

WerCounts ComputeWer(std::string_view reference, std::string_view hypothesis) {
  return ComputeWerWords(agent::NormalizeWords(reference), agent::NormalizeWords(hypothesis));
}

WerCounts ComputeWerWords(const std::vector<std::string>& reference,
                          const std::vector<std::string>& hypothesis) {
  const size_t n = reference.size();
  const size_t m = hypothesis.size();
  const CostModel costs = CostsFor(n, m);
  // Two rows of the DP: row[j] = best cost of aligning the first i reference words with the
  // first j hypothesis words.
  std::vector<int64_t> prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = static_cast<int64_t>(j) * costs.Indel();
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = static_cast<int64_t>(i) * costs.Indel();
    for (size_t j = 1; j <= m; ++j) {
      const int64_t diag =
          prev[j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : costs.Substitution());
      cur[j] = std::min({diag, prev[j] + costs.Indel(), cur[j - 1] + costs.Indel()});
    }
    std::swap(prev, cur);
  }
  return CountsFromCost(prev[m], costs, n, m);
}

bool AlignWords(const std::vector<std::string>& reference,
                const std::vector<std::string>& hypothesis, std::vector<WerAlignedWord>* out) {
  out->clear();
  const size_t n = reference.size();
  const size_t m = hypothesis.size();
  if (m + 1 > kMaxWerAlignCells / (n + 1)) return false;
  const CostModel costs = CostsFor(n, m);
  const size_t w = m + 1;
  std::vector<int64_t> c((n + 1) * w);
  auto sub = [&](size_t i, size_t j) {
    return reference[i - 1] == hypothesis[j - 1] ? 0 : costs.Substitution();
  };
  for (size_t j = 0; j <= m; ++j) c[j] = static_cast<int64_t>(j) * costs.Indel();
  for (size_t i = 1; i <= n; ++i) {
    c[i * w] = static_cast<int64_t>(i) * costs.Indel();
    for (size_t j = 1; j <= m; ++j) {
      c[i * w + j] =
          std::min({c[(i - 1) * w + j - 1] + sub(i, j), c[(i - 1) * w + j] + costs.Indel(),
                    c[i * w + j - 1] + costs.Indel()});
    }
  }
  size_t i = n, j = m;
  while (i > 0 || j > 0) {
    const int64_t here = c[i * w + j];
    if (i > 0 && j > 0 && here == c[(i - 1) * w + j - 1] + sub(i, j)) {
      const WerOp op = sub(i, j) == 0 ? WerOp::kMatch : WerOp::kSubstitution;
      out->push_back({op, reference[i - 1], hypothesis[j - 1]});
      --i, --j;
    } else if (i > 0 && here == c[(i - 1) * w + j] + costs.Indel()) {
      out->push_back({WerOp::kDeletion, reference[i - 1], ""});
      --i;
    } else {
      out->push_back({WerOp::kInsertion, "", hypothesis[j - 1]});
      --j;
    }
  }
  std::reverse(out->begin(), out->end());
  return true;
}

bool ComputeWerLines(std::string_view ref_text, std::string_view hyp_text,
                     const std::string& ref_name, const std::string& hyp_name, WerFileResult* out,
                     std::string* error) {
  const std::vector<std::string_view> ref_lines = SplitLines(ref_text);
  const std::vector<std::string_view> hyp_lines = SplitLines(hyp_text);
  const size_t count = std::max(ref_lines.size(), hyp_lines.size());
  WerFileResult result;
  result.ref_lines = ref_lines.size();
  result.hyp_lines = hyp_lines.size();
  result.lines.reserve(count);
  std::vector<std::string> ref_words, hyp_words;
  for (size_t i = 0; i < count; ++i) {
    if (!LineWords(ref_lines, i, ref_name, &ref_words, error) ||
        !LineWords(hyp_lines, i, hyp_name, &hyp_words, error)) {
      return false;
    }
    result.lines.push_back(ComputeWerWords(ref_words, hyp_words));
    result.total += result.lines.back();
  }
  *out = std::move(result);
  return true;
}

bool ComputeWerFiles(const std::string& ref_path, const std::string& hyp_path, WerFileResult* out,
                     std::string* error) {
  std::string ref_text, hyp_text;
  if (!ReadFile(ref_path, &ref_text, error) || !ReadFile(hyp_path, &hyp_text, error)) return false;
  return ComputeWerLines(ref_text, hyp_text, ref_path, hyp_path, out, error);
}

}  // namespace callsim::harness
