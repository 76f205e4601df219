#include "harness/measure/wer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "agent/runtime/rng.h"

namespace callsim::harness {

// Readable failures: "S=1 D=0 I=1 N=3".
void PrintTo(const WerCounts& c, std::ostream* os) {
  *os << "S=" << c.substitutions << " D=" << c.deletions << " I=" << c.insertions
      << " N=" << c.ref_words;
}

namespace {

WerCounts Counts(int s, int d, int i, int n) { return WerCounts{s, d, i, n}; }

TEST(WerTest, KnownExamples) {
  EXPECT_EQ(ComputeWer("the cat sat", "the cat sat"), Counts(0, 0, 0, 3));
  EXPECT_EQ(ComputeWer("the cat sat", "the bat sat on"), Counts(1, 0, 1, 3));
  EXPECT_DOUBLE_EQ(ComputeWer("the cat sat", "the bat sat on").Rate(), 2.0 / 3.0);
  EXPECT_EQ(ComputeWer("the cat sat", ""), Counts(0, 3, 0, 3));
  EXPECT_DOUBLE_EQ(ComputeWer("the cat sat", "").Rate(), 1.0);
  EXPECT_EQ(ComputeWer("one two three four", "one three four"), Counts(0, 1, 0, 4));
}

TEST(WerTest, NormalizesCaseAndPunctuationButKeepsContractions) {
  EXPECT_EQ(ComputeWer("Hello, World!", "hello world"), Counts(0, 0, 0, 2));
  EXPECT_EQ(ComputeWer("don't", "dont"), Counts(1, 0, 0, 1));
  EXPECT_EQ(ComputeWer("I don't know.", "i DON'T know"), Counts(0, 0, 0, 3));
  EXPECT_EQ(ComputeWer("I don't know", "I do not know"), Counts(1, 0, 1, 3));
}

// Non-ASCII words count like any others (they were dropped or split at every non-ASCII byte).
TEST(WerTest, UkrainianWordsAreCountedAndCaseFolded) {
  // ref: я хочу замовити п'ять піц у київ на вулицю шевченка            N = 10
  // hyp: ну я хочу замовити п'ять піца у київ на вулицю
  //      "ну" inserted (I), піц -> піца (S), "шевченка" deleted (D); п’ять (U+2019) is п'ять and
  //      Київ is КИЇВ after case folding.
  EXPECT_EQ(ComputeWer("Я ХОЧУ ЗАМОВИТИ П'ЯТЬ ПІЦ У КИЇВ НА ВУЛИЦЮ ШЕВЧЕНКА",
                       "ну я хочу замовити п’ять піца у Київ на вулицю"),
            Counts(1, 1, 1, 10));
  // Near is not equal: їжак/їжаки and ґанок/ганок (ґ is not г) are two substitutions, N = 2.
  EXPECT_EQ(ComputeWer("Їжак ґанок", "їжаки ганок"), Counts(2, 0, 0, 2));
  EXPECT_EQ(ComputeWer("Добрий день", ""), Counts(0, 2, 0, 2));
}

TEST(WerTest, TurkishWordsStayWhole) {
  // ref: yarın istanbul'a uçakla gideceğim                 N = 4 (İ folds to i)
  // hyp: yarin istanbul'a ucakla gideceğim ve
  //      yarın -> yarin (S), uçakla -> ucakla (S), "ve" inserted (I).
  EXPECT_EQ(ComputeWer("Yarın İstanbul'a uçakla gideceğim.", "yarin istanbul'a ucakla gideceğim ve"),
            Counts(2, 0, 1, 4));
  // ŞOFÖR ÇOK İYİ folds to şoför çok iyi: no errors, N = 3.
  EXPECT_EQ(ComputeWer("ŞOFÖR ÇOK İYİ", "şoför çok iyi"), Counts(0, 0, 0, 3));
  // Folding is language-neutral: I folds to i, never to dotless ı, so Turkish IŞIK and ışık
  // differ (S = 1, N = 1).
  EXPECT_EQ(ComputeWer("IŞIK", "ışık"), Counts(1, 0, 0, 1));
}

TEST(WerTest, TiesPreferSubstitutions) {
  // S=2 and D=1 I=1 both cost 2 errors; the documented choice is the most substitutions.
  EXPECT_EQ(ComputeWer("a b", "b c"), Counts(2, 0, 0, 2));
  // Fewer errors always win over the tie-break: D=1 I=1 (2 errors) beats S=3.
  EXPECT_EQ(ComputeWer("a b c", "b c d"), Counts(0, 1, 1, 3));
  EXPECT_EQ(ComputeWer("x y a b", "a b z w"), Counts(4, 0, 0, 4));  // tie at 4: S=4
  EXPECT_EQ(ComputeWer("x a b", "y z a b"), Counts(1, 0, 1, 3));
}

TEST(WerTest, EmptyReferenceRate) {
  EXPECT_EQ(ComputeWer("", ""), Counts(0, 0, 0, 0));
  EXPECT_DOUBLE_EQ(ComputeWer("", "").Rate(), 0.0);
  EXPECT_EQ(ComputeWer("...", "uh huh"), Counts(0, 0, 2, 0));
  EXPECT_DOUBLE_EQ(ComputeWer("", "uh huh").Rate(), 1.0);
  EXPECT_DOUBLE_EQ(ComputeWer("a", "b c d").Rate(), 3.0);  // insertions push it past 1
}

TEST(WerTest, CorpusRateIsPooledNotAveraged) {
  WerCounts total;
  total += ComputeWer("one two three four five six seven eight nine ten",
                      "one two three four five six seven eight nine tan");
  total += ComputeWer("hello", "goodbye");
  EXPECT_EQ(total, Counts(2, 0, 0, 11));
  EXPECT_DOUBLE_EQ(total.Rate(), 2.0 / 11.0);  // the mean of rates would be 0.55
}

TEST(WerTest, AlignmentShowsTheWords) {
  std::vector<WerAlignedWord> a;
  ASSERT_TRUE(AlignWords({"the", "cat", "sat"}, {"the", "bat", "sat", "on"}, &a));
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].op, WerOp::kMatch);
  EXPECT_EQ(a[1].op, WerOp::kSubstitution);
  EXPECT_EQ(a[1].ref, "cat");
  EXPECT_EQ(a[1].hyp, "bat");
  EXPECT_EQ(a[2].op, WerOp::kMatch);
  EXPECT_EQ(a[3].op, WerOp::kInsertion);
  EXPECT_EQ(a[3].hyp, "on");
  ASSERT_TRUE(AlignWords({"a", "b"}, {}, &a));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].op, WerOp::kDeletion);
  EXPECT_EQ(a[1].ref, "b");
}

TEST(WerTest, AlignmentRefusesOversizedInput) {
  const std::vector<std::string> big(5000, "w");
  std::vector<WerAlignedWord> a{{WerOp::kMatch, "x", "x"}};
  EXPECT_FALSE(AlignWords(big, big, &a));
  EXPECT_TRUE(a.empty());
}

int PlainLevenshtein(const std::vector<std::string>& r, const std::vector<std::string>& h) {
  std::vector<std::vector<int>> d(r.size() + 1, std::vector<int>(h.size() + 1));
  for (size_t i = 0; i <= r.size(); ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= h.size(); ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= r.size(); ++i) {
    for (size_t j = 1; j <= h.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (r[i - 1] == h[j - 1] ? 0 : 1)});
    }
  }
  return d[r.size()][h.size()];
}

std::vector<std::string> RandomWords(agent::Rng& rng) {
  static const char* kVocab[] = {"a", "b", "c", "d"};
  std::vector<std::string> w(rng.UniformInt(9));
  for (auto& s : w) s = kVocab[rng.UniformInt(4)];
  return w;
}

TEST(WerTest, CountsAgreeWithAlignmentAndMinimalDistance) {
  agent::Rng rng(2024);
  for (int trial = 0; trial < 500; ++trial) {
    const auto ref = RandomWords(rng);
    const auto hyp = RandomWords(rng);
    const WerCounts c = ComputeWerWords(ref, hyp);
    ASSERT_EQ(c.errors(), PlainLevenshtein(ref, hyp)) << "trial " << trial;
    ASSERT_EQ(c.ref_words, static_cast<int>(ref.size()));
    std::vector<WerAlignedWord> a;
    ASSERT_TRUE(AlignWords(ref, hyp, &a));
    WerCounts from_ops;
    from_ops.ref_words = static_cast<int>(ref.size());
    for (const auto& w : a) {
      from_ops.substitutions += w.op == WerOp::kSubstitution;
      from_ops.deletions += w.op == WerOp::kDeletion;
      from_ops.insertions += w.op == WerOp::kInsertion;
    }
    ASSERT_EQ(from_ops, c) << "trial " << trial;
  }
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/wer_test_" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

TEST(WerFilesTest, AlignsLineByLineAndPoolsTotals) {
  const std::string ref = WriteTemp("ref.txt", "the cat sat\nHello, World!\r\nthree more words\n");
  const std::string hyp = WriteTemp("hyp.txt", "the bat sat on\nhello world\n");
  WerFileResult r;
  std::string error;
  ASSERT_TRUE(ComputeWerFiles(ref, hyp, &r, &error)) << error;
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0], Counts(1, 0, 1, 3));
  EXPECT_EQ(r.lines[1], Counts(0, 0, 0, 2));
  EXPECT_EQ(r.lines[2], Counts(0, 3, 0, 3));  // missing hypothesis line: all deletions
  EXPECT_EQ(r.total, Counts(1, 3, 1, 8));
  EXPECT_DOUBLE_EQ(r.total.Rate(), 5.0 / 8.0);

  EXPECT_FALSE(ComputeWerFiles(ref, hyp + ".missing", &r, &error));
  EXPECT_EQ(error.rfind(hyp + ".missing: no such file", 0), 0u) << error;
  std::remove(ref.c_str());
  std::remove(hyp.c_str());
}

TEST(WerFilesTest, ExtraHypothesisLinesAreInsertionsAndLongLinesRejected) {
  WerFileResult r;
  std::string error;
  ASSERT_TRUE(ComputeWerLines("a\n", "a\n\nb c\n", "r", "h", &r, &error));
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[2], Counts(0, 0, 2, 0));
  EXPECT_EQ(r.total, Counts(0, 0, 2, 1));

  std::string long_line;
  for (size_t i = 0; i <= kMaxWerLineWords; ++i) long_line += "w ";
  EXPECT_FALSE(ComputeWerLines("x\n", "y\n" + long_line, "r", "h", &r, &error));
  EXPECT_EQ(error, "h:2: 10001 words on one line; the limit is 10000");
}

TEST(WerFilesTest, InvalidUtf8IsAnErrorNamingTheLine) {
  WerFileResult r;
  std::string error;
  EXPECT_FALSE(ComputeWerLines("ok\nfine \xFF here\n", "ok\n", "ref.txt", "hyp.txt", &r, &error));
  EXPECT_EQ(error, "ref.txt:2:6: invalid UTF-8 (byte 0xff)");
  EXPECT_FALSE(ComputeWerLines("a\n", "a\nb\n\xED\xA0\x80\n", "r", "h", &r, &error));
  EXPECT_EQ(error, "h:3:1: invalid UTF-8 (byte 0xed)");  // a surrogate
  ASSERT_TRUE(ComputeWerLines("ok\n", "ок\n", "r", "h", &r, &error)) << error;
  EXPECT_EQ(r.total, Counts(1, 0, 0, 1));  // Latin "ok" against Cyrillic "ок"
}

TEST(WerFilesTest, ReportsLineCountsAndRefusesFilesThatAreNotRegular) {
  WerFileResult r;
  std::string error;
  ASSERT_TRUE(ComputeWerLines("a\nb\nc\n", "a\n", "r", "h", &r, &error));
  EXPECT_EQ(r.ref_lines, 3u);
  EXPECT_EQ(r.hyp_lines, 1u);

  const std::string fifo = ::testing::TempDir() + "/wer_fifo_" + std::to_string(::getpid());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string ref = WriteTemp("fifo_ref.txt", "a\n");
  EXPECT_FALSE(ComputeWerFiles(ref, fifo, &r, &error));  // returns at once: nobody writes to it
  EXPECT_EQ(error, fifo + ": is not a regular file (a FIFO)");
  EXPECT_FALSE(ComputeWerFiles(::testing::TempDir(), ref, &r, &error));
  EXPECT_NE(error.find(": is a directory"), std::string::npos) << error;
  std::remove(fifo.c_str());
  std::remove(ref.c_str());
}

}  // namespace
}  // namespace callsim::harness
