#include "agent/pipeline/sentence_chunker.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

using Sentences = std::vector<std::string>;

// Feeds `tokens` one by one; returns what came out after each push, then after Flush.
std::vector<Sentences> Feed(SentenceChunker& chunker, const std::vector<std::string>& tokens) {
  std::vector<Sentences> steps;
  for (const std::string& token : tokens) {
    Sentences out;
    chunker.Push(token, &out);
    steps.push_back(out);
  }
  Sentences out;
  chunker.Flush(&out);
  steps.push_back(out);
  return steps;
}

Sentences All(const std::vector<Sentences>& steps) {
  Sentences all;
  for (const Sentences& s : steps) all.insert(all.end(), s.begin(), s.end());
  return all;
}

TEST(SentenceChunkerTest, EmitsEachSentenceAsSoonAsItEnds) {
  SentenceChunker chunker;
  const auto steps = Feed(chunker, {"Your order", " has shipped", ".", " It will", " arrive."});
  EXPECT_EQ(steps[0], Sentences{});
  EXPECT_EQ(steps[2], Sentences{});  // "." could still be "3.5": wait for what follows
  EXPECT_EQ(steps[3], Sentences{"Your order has shipped."});
  EXPECT_EQ(steps[4], Sentences{});
  EXPECT_EQ(steps[5], Sentences{"It will arrive."});  // end of stream ends the last one
}

TEST(SentenceChunkerTest, FirstClauseEndsAfterItsWordsThenSentencesFollow) {
  SentenceChunker chunker;
  chunker.set_first_clause_words(3);
  const auto steps = Feed(chunker, {"Let", " me", " check", " that", " for", " you.", " Your",
                                    " order", " number", " four", " has", " shipped."});
  EXPECT_EQ(steps[2], Sentences{});  // "check" may go on ("checking"): two words are complete
  EXPECT_EQ(steps[3], Sentences{"Let me check"});
  EXPECT_EQ(steps[6], Sentences{"that for you."});  // sentence by sentence from here
  EXPECT_EQ(steps[10], Sentences{});                // not cut after three words again
  EXPECT_EQ(steps[12], Sentences{"Your order number four has shipped."});
}

TEST(SentenceChunkerTest, FirstClauseEndsAtAClauseMarkOrASentenceEndFirst) {
  SentenceChunker chunker;
  chunker.set_first_clause_words(4);
  EXPECT_EQ(All(Feed(chunker, {"Sure,", " your order", " has shipped. It", " left, today."})),
            (Sentences{"Sure,", "your order has shipped.", "It left, today."}));
  EXPECT_EQ(All(Feed(chunker, {"Yes. Your order", " number four five six", " has shipped."})),
            (Sentences{"Yes.", "Your order number four five six has shipped."}));
  EXPECT_EQ(All(Feed(chunker, {"It costs 4,567 dollars", " and", " more."})),
            (Sentences{"It costs 4,567 dollars", "and more."}));  // a digit comma is no mark
  // Each stream (after Flush or Reset) has a first clause of its own.
  Sentences out;
  chunker.Push("One two three four five six", &out);
  chunker.Reset();
  chunker.Push("Seven eight nine ten eleven", &out);
  EXPECT_EQ(out, (Sentences{"One two three four", "Seven eight nine ten"}));
}

TEST(SentenceChunkerTest, DecimalsDoNotEndASentence) {
  SentenceChunker chunker;
  EXPECT_EQ(All(Feed(chunker, {"It costs 3", ".", "5 dollars. Version 2.0.1 is out."})),
            (Sentences{"It costs 3.5 dollars.", "Version 2.0.1 is out."}));
}

TEST(SentenceChunkerTest, AbbreviationsAndInitialsDoNotEndASentence) {
  SentenceChunker chunker;
  EXPECT_EQ(All(Feed(chunker, {"Mr. Smith and Dr. J. Jones met, e.g. today. ",
                               "Mrs. Lee (St. Louis) left."})),
            (Sentences{"Mr. Smith and Dr. J. Jones met, e.g. today.",
                       "Mrs. Lee (St. Louis) left."}));
}

TEST(SentenceChunkerTest, PunctuationRunsAndClosingQuotes) {
  SentenceChunker chunker;
  EXPECT_EQ(All(Feed(chunker, {"Really?! ", "Yes... ", "He said \"done.\" Then", " left!"})),
            (Sentences{"Really?!", "Yes...", "He said \"done.\"", "Then left!"}));
}

TEST(SentenceChunkerTest, SeveralSentencesInOneToken) {
  SentenceChunker chunker;
  Sentences out;
  chunker.Push("One. Two? Three! Fou", &out);
  EXPECT_EQ(out, (Sentences{"One.", "Two?", "Three!"}));
  EXPECT_EQ(chunker.buffered_chars(), 3u);
}

TEST(SentenceChunkerTest, OverlongSentenceIsCutAtLastCommaOrSpace) {
  SentenceChunker chunker(40);
  Sentences out;
  // 45 characters with a comma at 28: cut after the comma.
  chunker.Push("alpha beta gamma delta eta, theta iota kappa", &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "alpha beta gamma delta eta,");
  out.clear();
  chunker.Flush(&out);
  EXPECT_EQ(out, Sentences{"theta iota kappa"});

  // No comma in the second half: cut at the last space.
  SentenceChunker spaces(20);
  out.clear();
  spaces.Push("one, two three four five six", &out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], "one, two three four");
  for (const std::string& s : out) EXPECT_LE(s.size(), 20u);

  // One endless word: a hard cut at max_chars.
  SentenceChunker word(10);
  out.clear();
  word.Push(std::string(25, 'x'), &out);
  EXPECT_EQ(out, (Sentences{std::string(10, 'x'), std::string(10, 'x')}));
  EXPECT_EQ(word.buffered_chars(), 5u);
}

TEST(SentenceChunkerTest, FlushOfWhitespaceEmitsNothingAndResets) {
  SentenceChunker chunker;
  Sentences out;
  chunker.Push("Done.  \n ", &out);
  EXPECT_EQ(out, Sentences{"Done."});
  out.clear();
  chunker.Flush(&out);
  EXPECT_TRUE(out.empty());
  chunker.Push("Partial", &out);
  chunker.Reset();
  chunker.Flush(&out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace callsim::agent
