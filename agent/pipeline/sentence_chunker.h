// Turns a stream of LLM tokens into sentences as soon as each one is complete, so TTS can start on
// the first sentence while the LLM is still writing. A sentence ends at '.', '?' or '!' (a run such
// as "?!" or "..." and closing quotes or brackets included) followed by whitespace, or at the end of
// the stream; "3.5" and abbreviations such as "Mr." or "e.g." do not end one. Bound: text that
// grows past max_chars without an end is cut at its last comma, else its last space.
//
// First clause (set_first_clause_words(n), n > 0): the first chunk of a stream does not wait for
// its sentence to end. It ends at the first clause mark (',', ';' or ':' followed by whitespace)
// or once n words are complete, whichever comes first (a sentence that ends sooner is a chunk as
// usual); the rest follows sentence by sentence. TTS can start speaking a few words in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::agent {

class SentenceChunker {
 public:
  explicit SentenceChunker(size_t max_chars = 300);

  // Appends a token; appends every sentence it completes to `out`, trimmed, in order.
  void Push(std::string_view token, std::vector<std::string>* out);
  // End of stream: appends the remainder (if any non-space text is left) and resets.
  void Flush(std::vector<std::string>* out);
  // Drops everything buffered (an interrupted reply); the next chunk is a stream's first again.
  void Reset();
  // 0: sentences only. Kept across Reset().
  void set_first_clause_words(size_t words) { first_clause_words_ = words; }

  size_t buffered_chars() const { return buffer_.size(); }

 private:
  // Emits every complete sentence in the buffer; returns once the rest needs more input.
  void Scan(std::vector<std::string>* out);
  void CutOverlong(std::vector<std::string>* out);
  // Before the stream's first chunk: cuts it at a clause mark or after first_clause_words_.
  void CutFirstClause(std::vector<std::string>* out);
  void EmitPrefix(size_t end, std::vector<std::string>* out);
  bool IsAbbreviationBefore(size_t dot) const;

  size_t max_chars_;
  std::string buffer_;
  size_t scan_pos_ = 0;  // everything before this has been looked at and holds no sentence end
  size_t first_clause_words_ = 0;
  bool emitted_any_ = false;  // a chunk of this stream has been emitted
};

}  // namespace callsim::agent
