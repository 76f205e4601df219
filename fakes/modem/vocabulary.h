// The vocabulary shared by every word-modem sender and receiver: a fixed list of about 2,800
// normalized English words (see agent::NormalizeWords), each named on the wire by its index.
// Index 0 is reserved for the unknown word "<unk>": words outside the list travel as index 0.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::fakes {

inline constexpr int kUnknownWordIndex = 0;
inline constexpr std::string_view kUnknownWord = "<unk>";

class Vocabulary {
 public:
  // The list compiled into the binary. Built once on first use; immutable afterwards.
  static const Vocabulary& Builtin();

  // Number of entries, including "<unk>" at index 0.
  size_t size() const { return words_.size(); }

  // The index of a normalized word (lowercase, as agent::NormalizeWords yields it), or
  // kUnknownWordIndex (0) when the word is not in the list. O(log n), no allocation.
  int IndexOf(std::string_view normalized_word) const;

  // The word at `index`; "<unk>" for index 0 and for any index out of range.
  const std::string& WordAt(int index) const;

 private:
  Vocabulary();

  std::vector<std::string> words_;
  // Indices into words_ sorted by word, for binary search.
  std::vector<int> sorted_indices_;
};

}  // namespace callsim::fakes
