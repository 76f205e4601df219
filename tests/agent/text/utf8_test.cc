#include "agent/text/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "agent/text/unicode_tables.h"

namespace callsim::agent {
namespace {

TEST(Utf8Test, DecodesEachLengthAndRoundTrips) {
  const std::string text = "a\u00E9\u20AC\U0001F600";  // 1, 2, 3 and 4 bytes
  size_t pos = 0;
  char32_t cp = 0;
  const char32_t want[] = {0x61, 0xE9, 0x20AC, 0x1F600};
  std::string again;
  for (char32_t w : want) {
    ASSERT_TRUE(DecodeUtf8(text, &pos, &cp));
    EXPECT_EQ(cp, w);
    AppendUtf8(cp, &again);
  }
  EXPECT_EQ(pos, text.size());
  EXPECT_FALSE(DecodeUtf8(text, &pos, &cp));
  EXPECT_EQ(again, text);
  EXPECT_EQ(FirstInvalidUtf8(text), std::nullopt);
}

TEST(Utf8Test, RefusesWhatRfc3629Forbids) {
  const std::pair<std::string, size_t> bad[] = {
      {"\x80", 0},                  // a lone continuation byte
      {"ok\xC3", 2},                // truncated
      {"\xC3(", 0},                 // a continuation byte missing
      {"\xC0\xAF", 0},              // overlong '/'
      {"\xE0\x80\xAF", 0},          // overlong, three bytes
      {"\xED\xA0\x80", 0},          // a surrogate, U+D800
      {"\xF4\x90\x80\x80", 0},      // U+110000
      {"\xF8\x88\x80\x80\x80", 0},  // five bytes
      {"ab\xFF", 2},
  };
  for (const auto& [text, offset] : bad) {
    EXPECT_EQ(FirstInvalidUtf8(text), offset) << testing::PrintToString(text);
    size_t pos = offset;
    char32_t cp = 0x1234;
    EXPECT_FALSE(DecodeUtf8(text, &pos, &cp));
    EXPECT_EQ(pos, offset);
    EXPECT_EQ(cp, 0x1234u);
  }
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x8F\xBF\xBF"), std::nullopt);  // U+10FFFF is fine
}

TEST(UnicodeTablesTest, SimpleCaseFoldingForTheScriptsThatMatter) {
  const std::pair<char32_t, char32_t> folds[] = {
      {U'A', U'a'},         {U'a', U'a'},       {U'Z', U'z'},        {U'À', U'à'},
      {U'Ā', U'ā'},         {U'ā', U'ā'},       {U'Ǆ', U'ǆ'},        {U'ǅ', U'ǆ'},
      {U'Ĳ', U'ĳ'},         {U'Ÿ', U'ÿ'},       {U'ẞ', U'ß'},        {U'ß', U'ß'},
      {U'İ', U'i'},         {U'I', U'i'},       {U'ı', U'ı'},        {U'Ş', U'ş'},
      {U'Σ', U'σ'},         {U'ς', U'σ'},       {U'Ά', U'ά'},        {U'ᾈ', U'ᾀ'},
      {U'Ї', U'ї'},         {U'Я', U'я'},       {U'Ґ', U'ґ'},        {U'Ӂ', U'ӂ'},
      {U'Ա', U'ա'},         {U'Ⴀ', U'ⴀ'},       {U'Ა', U'ა'},        {U'Ꙁ', U'ꙁ'},
      {U'µ', U'μ'},         {U'K', U'k'},       {U'Ａ', U'ａ'},      {U'1', U'1'},
  };
  for (const auto& [from, to] : folds) EXPECT_EQ(FoldCase(from), to) << static_cast<uint32_t>(from);
}

TEST(UnicodeTablesTest, LettersAndMarks) {
  for (char32_t cp : {U'a', U'Z', U'ß', U'я', U'ʼ', U'ա', U'ა', U'ש', U'م', U'中', U'ก'}) {
    EXPECT_TRUE(IsLetter(cp)) << static_cast<uint32_t>(cp);
  }
  for (char32_t cp : {U'1', U'٣', U' ', U'’', U'.', U'\u0301', U'€', U'\U0001F600'}) {
    EXPECT_FALSE(IsLetter(cp)) << static_cast<uint32_t>(cp);
  }
  EXPECT_TRUE(IsMark(U'\u0301'));
  EXPECT_TRUE(IsMark(U'\u093F'));  // Devanagari vowel sign i
  EXPECT_FALSE(IsMark(U'a'));
}

TEST(Utf8Test, WellFormedTextHasNoInvalidByte) {
  EXPECT_EQ(FirstInvalidUtf8(""), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("plain ascii\n"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e"), std::nullopt);
  EXPECT_EQ(FirstInvalidUtf8("\xf4\x8f\xbf\xbf"), std::nullopt);  // U+10FFFF, the last
}

TEST(Utf8Test, FindsTheFirstBadByte) {
  EXPECT_EQ(FirstInvalidUtf8("ab\xff" "cd"), 2u);
  EXPECT_EQ(FirstInvalidUtf8("\xc3"), 0u);                      // truncated sequence
  EXPECT_EQ(FirstInvalidUtf8("ok \xc3\x28"), 3u);               // bad continuation
  EXPECT_EQ(FirstInvalidUtf8("\xc0\xaf"), 0u);                  // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xe0\x80\xaf"), 0u);              // overlong, 3 bytes
  EXPECT_EQ(FirstInvalidUtf8("x\xed\xa0\x80"), 1u);             // a UTF-16 surrogate
  EXPECT_EQ(FirstInvalidUtf8("\xf4\x90\x80\x80"), 0u);          // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\x80"), 0u);                      // a lone continuation byte
}

TEST(Utf8Test, CountsCharactersNotBytes) {
  EXPECT_EQ(CountCharacters(""), 0u);
  EXPECT_EQ(CountCharacters("abc"), 3u);
  EXPECT_EQ(CountCharacters("caf\xc3\xa9"), 4u);
  EXPECT_EQ(CountCharacters("\xf0\x9f\x93\x9e!"), 2u);
  EXPECT_EQ(CountCharacters("\xff\xfe"), 2u);
}

TEST(Utf8Test, PositionCountsLinesAndCharacters) {
  const std::string text = "name: x\nsay: \"caf\xc3\xa9 \xff\"\n";
  const size_t bad = *FirstInvalidUtf8(text);
  const TextPosition at = PositionOf(text, bad);
  EXPECT_EQ(at.line, 2u);
  EXPECT_EQ(at.column, 12u);  // s a y : space " c a f é space, then the bad byte
  EXPECT_EQ(InvalidUtf8Message(text, bad), "invalid UTF-8 (byte 0xff)");
}

TEST(Utf8Test, FileErrorNamesLineAndColumnOfTheFirstBadByte) {
  EXPECT_EQ(Utf8FileError("ok\nfine", "a.yaml"), std::nullopt);
  EXPECT_EQ(Utf8FileError("ok\n\xd0\xb4\xd0\xbe\xff!", "a.yaml"),
            "a.yaml:2:3: invalid UTF-8 (byte 0xff)");
}

}  // namespace
}  // namespace callsim::agent
