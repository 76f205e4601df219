#include "agent/postcall/pii_numbers.h"

#include <optional>
#include <string_view>

namespace callsim::agent {
namespace {

constexpr int kMaxGapPunct = 3;  // "(555) 123" has 1; more is prose, not a number
constexpr int kMaxGapWords = 2;  // "uh", "dash" between groups
constexpr size_t kMinDotGroupDigits = 3;  // "555.123.4567", "4111.1111...", not "19.99"
constexpr size_t kMaxDotGroupDigits = 4;
constexpr int kSsnLookbackWords = 8;

// A run of digit items read as one number.
struct DigitRun {
  size_t first = 0;  // token indices, inclusive
  size_t last = 0;
  int digits = 0;
  // Digits per group, up to the first few groups (only the 3-2-4 shape is ever asked about).
  int groups[4] = {0, 0, 0, 0};
  int group_count = 1;

  void Add(int digits_added, bool new_group) {
    if (new_group) ++group_count;
    if (group_count <= 4) groups[group_count - 1] += digits_added;
    digits += digits_added;
  }
  bool SsnShape() const {
    return group_count == 3 && groups[0] == 3 && groups[1] == 2 && groups[2] == 4;
  }
};

// The separators between two items.
struct Gap {
  size_t next = 0;        // the token after them
  bool ok = true;         // false: they end the run whatever follows
  bool has_mark = false;  // punctuation or "dash": the number's own grouping
  bool has_space = false;
};

bool IsFiller(const PiiToken& t) {
  return IsWord(t, "uh") || IsWord(t, "um") || IsWord(t, "er") || IsWord(t, "erm") ||
         IsWord(t, "hmm");
}

class NumberScanner {
 public:
  NumberScanner(const std::vector<PiiToken>& tokens, const std::vector<bool>& claimed)
      : tokens_(tokens), claimed_(claimed) {}

  // The item at `i` if none of its tokens is claimed.
  std::optional<DigitItem> ItemAt(size_t i) const {
    if (i >= tokens_.size() || claimed_[i]) return std::nullopt;
    std::optional<DigitItem> item = ParseDigitItem(tokens_, i);
    if (!item) return std::nullopt;
    for (size_t k = item->first; k <= item->last; ++k) {
      if (claimed_[k]) return std::nullopt;
    }
    return item;
  }

  // "oh," and "oh!" are interjections, not zeros, when they would start a number. Digits right
  // after "<digits>." are a decimal fraction ("3.14159265358979"): they start nothing either
  // (what follows them still can).
  bool CanStart(const DigitItem& item) const {
    const size_t i = item.first;
    if (i >= 2 && tokens_[i].kind == PiiTokenKind::kDigits && IsPunct(tokens_[i - 1], '.') &&
        tokens_[i - 2].kind == PiiTokenKind::kDigits) {
      return false;
    }
    if (!item.weak) return true;
    const size_t after = item.last + 1;
    return after >= tokens_.size() || tokens_[after].kind != PiiTokenKind::kPunct ||
           IsPunct(tokens_[after], '-');
  }

  DigitRun ReadRun(const DigitItem& start) const {
    DigitRun run{start.first, start.last, 0};
    run.Add(start.digits, false);
    DigitItem prev = start;
    while (true) {
      const Gap gap = ScanGap(prev);
      if (!gap.ok) break;
      const std::optional<DigitItem> next = ItemAt(gap.next);
      if (!next || !DotJoins(prev, *next)) break;
      // Spaces group written digits ("123 45 6789") but not spoken ones ("one two three").
      const bool new_group = gap.has_mark || gap.next == prev.last + 1 ||
                             (gap.has_space && !(prev.spoken && next->spoken));
      run.Add(next->digits, new_group);
      run.last = next->last;
      prev = *next;
    }
    return run;
  }

  bool SsnWordsBefore(size_t first) const {
    std::string_view words[kSsnLookbackWords];  // nearest first
    int n = 0;
    for (size_t k = first; k > 0 && n < kSsnLookbackWords; --k) {
      const PiiToken& t = tokens_[k - 1];
      if (t.kind == PiiTokenKind::kWord) words[n++] = t.text;
    }
    for (int i = 0; i < n; ++i) {
      if (words[i] == "ssn" || words[i] == "social") return true;
      if (i + 2 < n && words[i] == "n" && words[i + 1] == "s" && words[i + 2] == "s") return true;
    }
    return false;
  }

  // The run's first byte, taking in a '(' and a '+' or "plus" before it; sets `plus`.
  size_t SpanBegin(size_t first, bool* plus) const {
    size_t b = first;
    if (b > 0 && !claimed_[b - 1] && IsPunct(tokens_[b - 1], '(')) --b;
    if (b > 0 && !claimed_[b - 1] && IsPunct(tokens_[b - 1], '+')) {
      --b;
      *plus = true;
    } else if (b > 1 && tokens_[b - 1].kind == PiiTokenKind::kSpace && !claimed_[b - 2] &&
               IsWord(tokens_[b - 2], "plus")) {
      b -= 2;
      *plus = true;
    }
    return tokens_[b].begin;
  }

 private:
  Gap ScanGap(const DigitItem& prev) const {
    Gap gap;
    int punct = 0;
    int words = 0;
    size_t k = prev.last + 1;
    for (; k < tokens_.size() && !claimed_[k]; ++k) {
      const PiiToken& t = tokens_[k];
      if (t.kind == PiiTokenKind::kSpace) {
        gap.has_space = true;
      } else if (t.kind == PiiTokenKind::kPunct && t.text.find_first_of("-.,()") == 0) {
        // "1,234" is an amount: a comma joins only when a pause (a space) follows it.
        const bool digit_next =
            k + 1 < tokens_.size() && tokens_[k + 1].kind == PiiTokenKind::kDigits;
        if (++punct > kMaxGapPunct || (t.text == "," && digit_next)) gap.ok = false;
        gap.has_mark = true;
      } else if (IsFiller(t) || IsWord(t, "dash") || IsWord(t, "hyphen")) {
        if (++words > kMaxGapWords) gap.ok = false;
        if (!IsFiller(t)) gap.has_mark = true;
      } else {
        break;
      }
      if (!gap.ok) break;
    }
    gap.next = k;
    return gap;
  }

  // A '.' right between digit characters joins only groups of 3 or 4: "555.123.4567" but not
  // the decimals "19.99" and "3.14159".
  bool DotJoins(const DigitItem& prev, const DigitItem& next) const {
    if (next.first != prev.last + 2 || !IsPunct(tokens_[prev.last + 1], '.')) return true;
    if (prev.spoken || next.spoken) return true;
    const size_t a = tokens_[prev.last].text.size();
    const size_t b = tokens_[next.first].text.size();
    return a >= kMinDotGroupDigits && a <= kMaxDotGroupDigits && b >= kMinDotGroupDigits &&
           b <= kMaxDotGroupDigits;
  }

  const std::vector<PiiToken>& tokens_;
  const std::vector<bool>& claimed_;
};

std::optional<PiiKind> Classify(const DigitRun& run, bool plus, bool ssn_context) {
  const int n = run.digits;
  if (plus && n >= 10 && n <= 15) return PiiKind::kPhone;  // E.164: at most 15 digits
  if (n >= 13) return PiiKind::kCard;
  if (n == 10 || n == 11) return PiiKind::kPhone;
  if (n == 9 && (run.SsnShape() || ssn_context)) return PiiKind::kSsn;
  return std::nullopt;
}

}  // namespace

std::vector<PiiSpan> FindNumberPii(const std::vector<PiiToken>& tokens,
                                   const std::vector<bool>& claimed, bool ssn_context) {
  std::vector<PiiSpan> spans;
  const NumberScanner scanner(tokens, claimed);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::optional<DigitItem> item = scanner.ItemAt(i);
    if (!item || !scanner.CanStart(*item)) continue;
    const DigitRun run = scanner.ReadRun(*item);
    i = run.last;
    bool plus = false;
    const size_t begin = scanner.SpanBegin(run.first, &plus);
    const bool ssn_words = run.digits == 9 && (ssn_context || scanner.SsnWordsBefore(run.first));
    const std::optional<PiiKind> kind = Classify(run, plus, ssn_words);
    if (kind) spans.push_back(PiiSpan{begin, tokens[run.last].end, *kind});
  }
  return spans;
}

}  // namespace callsim::agent
