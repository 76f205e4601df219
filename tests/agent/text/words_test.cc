#include "agent/text/words.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace callsim::agent {
namespace {

using Words = std::vector<std::string>;

TEST(WordsTest, AsciiTextGivesTheWordsItAlwaysDid) {
  EXPECT_EQ(NormalizeWords("Don't STOP, it's 3.5 o'clock!"),
            (Words{"don't", "stop", "it's", "3", "5", "o'clock"}));
  EXPECT_EQ(NormalizeWords("'quoted' rock'n'roll ends' x'"),
            (Words{"quoted", "rock'n'roll", "ends", "x"}));
  EXPECT_EQ(NormalizeWords("a_b-c\tD\r\n"), (Words{"a", "b", "c", "d"}));
  EXPECT_EQ(NormalizeText("  Hello,   World  "), "hello world");
  EXPECT_TRUE(NormalizeWords(" ... ").empty());
}

TEST(WordsTest, LettersOfEveryScriptMakeWordsAndFoldCase) {
  EXPECT_EQ(NormalizeWords("Добрий день, КИЇВ!"), (Words{"добрий", "день", "київ"}));
  EXPECT_EQ(NormalizeWords("ŞOFÖR ÇOK İYİ"), (Words{"şoför", "çok", "iyi"}));
  EXPECT_EQ(NormalizeWords("ΚΑΛΗΣΠΕΡΑ ΣΑΣ"), (Words{"καλησπερα", "σασ"}));
  EXPECT_EQ(NormalizeWords("καλησπερα σας"), (Words{"καλησπερα", "σασ"}));  // final sigma folds
  EXPECT_EQ(NormalizeWords("ԲԱՐԵՎ Ⴀ ᲐᲑᲒ"), (Words{"բարեվ", "ⴀ", "აბგ"}));  // Armenian, Georgian
  EXPECT_EQ(NormalizeWords("STRAẞE Ǆemal"), (Words{"straße", "ǆemal"}));
  EXPECT_EQ(NormalizeWords("שלום עולם مرحبا"), (Words{"שלום", "עולם", "مرحبا"}));
}

TEST(WordsTest, ApostrophesInsideWordsInAnyOfTheirForms) {
  // U+0027, U+2019 and U+02BC inside a word all read as "'"; at a word's edge they separate.
  EXPECT_EQ(NormalizeWords("п'ять п’ять пʼять"), (Words{"п'ять", "п'ять", "п'ять"}));
  EXPECT_EQ(NormalizeWords("don’t ’tis’"), (Words{"don't", "tis"}));
}

TEST(WordsTest, MarksStayWithTheirLetterAndOtherDigitsSeparate) {
  EXPECT_EQ(NormalizeWords("Cafe\u0301 \u0301x"), (Words{"cafe\u0301", "x"}));
  EXPECT_EQ(NormalizeWords("नमस्ते दुनिया"), (Words{"नमस्ते", "दुनिया"}));  // vowel signs are marks
  // Only ASCII digits are word characters, as before: Arabic-Indic three separates.
  EXPECT_EQ(NormalizeWords("abc٣def 42"), (Words{"abc", "def", "42"}));
  // A script without spaces comes out as one word per run.
  EXPECT_EQ(NormalizeWords("你好世界。再见"), (Words{"你好世界", "再见"}));
}

TEST(WordsTest, BytesThatAreNotUtf8SeparateWords) {
  EXPECT_EQ(NormalizeWords("ab\xFF" "cd"), (Words{"ab", "cd"}));
  EXPECT_EQ(NormalizeWords("ab\xD0"), (Words{"ab"}));            // truncated sequence
  EXPECT_EQ(NormalizeWords("x\xC0\xAFy"), (Words{"x", "y"}));    // overlong '/'
  EXPECT_EQ(NormalizeWords("x'\xFF"), (Words{"x"}));             // apostrophe before junk
}

}  // namespace
}  // namespace callsim::agent
