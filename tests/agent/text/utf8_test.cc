#include "agent/text/utf8.h"

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

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

}  // namespace
}  // namespace callsim::agent
