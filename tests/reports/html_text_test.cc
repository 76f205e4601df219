#include "reports/html_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace callsim::reports {
namespace {

TEST(HtmlText, MarkupAndBothQuotesBecomeCharacterReferences) {
  EXPECT_EQ(HtmlEscape("<script>alert(\"x\") && 'y'</script>"),
            "&lt;script&gt;alert(&quot;x&quot;) &amp;&amp; &#39;y&#39;&lt;/script&gt;");
}

TEST(HtmlText, InvalidUtf8AndControlCharactersBecomeTheReplacementCharacter) {
  // A stray byte, an overlong '/', a NUL and an escape; tab and newline stay.
  const std::string in = std::string("a\xFF") + "b\xC0\xAF" + std::string(1, '\0') + "\x1B\t\n";
  EXPECT_EQ(HtmlEscape(in), "a\uFFFDb\uFFFD\uFFFD\uFFFD\uFFFD\t\n");
}

TEST(HtmlText, ValidMultibyteTextPassesThrough) {
  EXPECT_EQ(HtmlEscape("caf\u00E9 \u65E5\u672C \U0001F600"), "caf\u00E9 \u65E5\u672C \U0001F600");
}

TEST(HtmlText, ClipNeverSplitsACharacterAndMarksTheCut) {
  // Each e-acute is two bytes: three bytes hold one of them, not one and a half.
  EXPECT_EQ(Clip("\u00E9\u00E9\u00E9", 3), "\u00E9\u2026");
  EXPECT_EQ(Clip("abc", 3), "abc");
  EXPECT_EQ(HtmlText("<<<<", 2), "&lt;&lt;\u2026");
}

TEST(HtmlText, FormatFixedSaysNotAvailableForNaN) {
  EXPECT_EQ(FormatFixed(1425.94, 1), "1425.9");
  EXPECT_EQ(FormatFixed(std::nan(""), 1), "n/a");
}

}  // namespace
}  // namespace callsim::reports
