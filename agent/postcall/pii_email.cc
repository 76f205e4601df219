#include "agent/postcall/pii_email.h"

#include <array>
#include <string_view>

namespace callsim::agent {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
// An address has at most this many labels on either side of the "at": a bound on the scan, far
// above real addresses ("first dot middle dot last at mail dot example dot co dot uk").
constexpr int kMaxSteps = 24;

constexpr std::array<std::string_view, 27> kSpokenTlds = {
    "com", "net", "org", "edu", "gov", "mil", "io",  "co",  "us",   "uk",  "ca", "de", "fr", "es",
    "it",  "nl",  "au",  "in",  "jp",  "ai",  "app", "dev", "info", "biz", "me", "tv", "xyz"};
// A spoken domain is never one of these words alone: "look at the dot com bubble" is prose.
constexpr std::array<std::string_view, 11> kNotDomains = {
    "the", "a", "an", "my", "your", "our", "this", "that", "his", "her", "their"};
constexpr std::array<std::string_view, 5> kLocalConnectors = {"dot", "underscore", "dash", "hyphen",
                                                              "plus"};

class EmailScanner {
 public:
  EmailScanner(const std::vector<PiiToken>& tokens, const std::vector<bool>& claimed)
      : tokens_(tokens), claimed_(claimed) {}

  // The match whose "at" ('@' or the word) is token `m`; begin == end when there is none.
  std::pair<size_t, size_t> MatchAt(size_t m) const {
    const bool spoken = IsWord(tokens_[m], "at");
    const size_t last = DomainEnd(m, spoken);
    if (last == kNone) return {0, 0};
    const size_t first = LocalStart(m, spoken);
    if (first == kNone) return {0, 0};
    return {first, last};
  }

 private:
  bool Label(size_t i) const {
    return i < tokens_.size() && !claimed_[i] &&
           (tokens_[i].kind == PiiTokenKind::kWord || tokens_[i].kind == PiiTokenKind::kDigits);
  }
  bool Space(size_t i) const {
    return i < tokens_.size() && tokens_[i].kind == PiiTokenKind::kSpace;
  }
  bool WordIs(size_t i, std::string_view w) const {
    return i < tokens_.size() && IsWord(tokens_[i], w);
  }
  bool PunctIs(size_t i, char c) const { return i < tokens_.size() && IsPunct(tokens_[i], c); }
  bool SingleChar(size_t i) const { return Label(i) && tokens_[i].text.size() == 1; }

  bool Tld(size_t i, bool spoken) const {
    const PiiToken& t = tokens_[i];
    if (t.kind != PiiTokenKind::kWord) return false;
    if (!spoken) return t.text.size() >= 2 && t.text.find('\'') == std::string::npos;
    for (std::string_view tld : kSpokenTlds) {
      if (t.text == tld) return true;
    }
    return false;
  }

  // A domain label that starts at `i` runs over hyphens ("my-shop", "my dash shop") and joined
  // tokens ("web2"); returns its last token.
  size_t LabelEnd(size_t i) const {
    for (int step = 0; step < kMaxSteps; ++step) {
      if (Label(i + 1)) {
        i += 1;
      } else if (PunctIs(i + 1, '-') && Label(i + 2)) {
        i += 2;
      } else if (Space(i + 1) && (WordIs(i + 2, "dash") || WordIs(i + 2, "hyphen")) &&
                 Space(i + 3) && Label(i + 4)) {
        i += 4;
      } else {
        break;
      }
    }
    return i;
  }

  // After a label ending at `k`: where the next label starts, if a dot ('.' or "dot") joins them.
  size_t AfterDot(size_t k) const {
    if (PunctIs(k + 1, '.') && Label(k + 2)) return k + 2;
    if (Space(k + 1) && WordIs(k + 2, "dot") && Space(k + 3) && Label(k + 4)) return k + 4;
    return kNone;
  }

  // The last token of the domain after the "at" at `m`: the last label that is a top-level
  // domain, after at least one dot. kNone when there is none.
  size_t DomainEnd(size_t m, bool spoken) const {
    size_t j = m + 1;
    if (spoken) {
      if (!Space(j)) return kNone;
      ++j;
      if ((WordIs(j, "sign") || WordIs(j, "symbol")) && Space(j + 1)) j += 2;
    } else if (Space(j)) {
      ++j;
    }
    if (!Label(j)) return kNone;
    size_t k = LabelEnd(j);
    if (spoken && k == j) {
      for (std::string_view w : kNotDomains) {
        if (tokens_[j].text == w) return kNone;
      }
    }
    size_t best = kNone;
    for (int step = 0; step < kMaxSteps; ++step) {
      const size_t next = AfterDot(k);
      if (next == kNone) break;
      k = LabelEnd(next);
      if (k == next && Tld(k, spoken)) best = k;
    }
    return best;
  }

  bool LocalConnector(size_t i) const {
    for (std::string_view w : kLocalConnectors) {
      if (WordIs(i, w)) return true;
    }
    return false;
  }

  // The first token of the local part before the "at" at `m`, or kNone.
  size_t LocalStart(size_t m, bool spoken) const {
    if (m == 0) return kNone;
    size_t first = m - 1;
    if (Space(first)) {
      if (first == 0) return kNone;
      --first;
    } else if (spoken) {
      return kNone;
    }
    if (!Label(first)) return kNone;
    for (int step = 0; step < kMaxSteps && first > 0; ++step) {
      const size_t t = first - 1;
      if (Label(t)) {
        first = t;  // "smith99"
      } else if (t >= 1 && tokens_[t].kind == PiiTokenKind::kPunct && Label(t - 1) &&
                 tokens_[t].text.find_first_of("._-+") == 0) {
        first = t - 1;  // "john.smith", "john_smith"
      } else if (Space(t) && t >= 3 && LocalConnector(t - 1) && Space(t - 2) && Label(t - 3)) {
        first = t - 3;  // "john dot smith"
      } else if (Space(t) && t >= 1 && SingleChar(first) && SingleChar(t - 1)) {
        first = t - 1;  // spelled out: "j o h n"
      } else {
        break;
      }
    }
    return first;
  }

  const std::vector<PiiToken>& tokens_;
  const std::vector<bool>& claimed_;
};

}  // namespace

std::vector<PiiSpan> FindEmails(const std::vector<PiiToken>& tokens, std::vector<bool>* claimed) {
  std::vector<PiiSpan> spans;
  const EmailScanner scanner(tokens, *claimed);
  for (size_t m = 0; m < tokens.size(); ++m) {
    if ((*claimed)[m] || !(IsPunct(tokens[m], '@') || IsWord(tokens[m], "at"))) continue;
    const auto [first, last] = scanner.MatchAt(m);
    if (first == last) continue;
    spans.push_back(PiiSpan{tokens[first].begin, tokens[last].end, PiiKind::kEmail});
    for (size_t i = first; i <= last; ++i) (*claimed)[i] = true;
    m = last;
  }
  return spans;
}

}  // namespace callsim::agent
