#include "fakes/modem/vocabulary.h"

#include <algorithm>

namespace callsim::fakes {
namespace {

constexpr const char* kBuiltinWords[] = {
#include "fakes/modem/vocabulary_words.inc"
};

}  // namespace

const Vocabulary& Vocabulary::Builtin() {
  // Never destroyed, so no static can outlive it at exit.
  static const Vocabulary* const vocabulary = new Vocabulary();
  return *vocabulary;
}

Vocabulary::Vocabulary() {
  words_.reserve(std::size(kBuiltinWords) + 1);
  words_.emplace_back(kUnknownWord);
  for (const char* word : kBuiltinWords) words_.emplace_back(word);
  sorted_indices_.resize(words_.size());
  for (size_t i = 0; i < words_.size(); ++i) sorted_indices_[i] = static_cast<int>(i);
  std::sort(sorted_indices_.begin(), sorted_indices_.end(),
            [this](int a, int b) { return words_[a] < words_[b]; });
}

int Vocabulary::IndexOf(std::string_view normalized_word) const {
  auto it =
      std::lower_bound(sorted_indices_.begin(), sorted_indices_.end(), normalized_word,
                       [this](int index, std::string_view word) { return words_[index] < word; });
  if (it == sorted_indices_.end() || words_[*it] != normalized_word) return kUnknownWordIndex;
  return *it;
}

const std::string& Vocabulary::WordAt(int index) const {
  if (index < 0 || static_cast<size_t>(index) >= words_.size()) return words_[kUnknownWordIndex];
  return words_[index];
}

}  // namespace callsim::fakes
