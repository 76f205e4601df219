// Hostile scenario input: every case is an error with a location, found before anything runs:
// bytes that are not UTF-8, nesting past the bound, files that are not regular files, a huge
// utterance, and hundreds of thousands of keys (found in linear time, not quadratic).
#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/scenario/limits.h"
#include "harness/scenario/loader.h"
#include "harness/scenario/yaml_json.h"
#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

using testing::ErrorStrings;
using testing::LoadAs;
using testing::OnlyErrorOf;
using testing::TempDir;

constexpr const char* kMinimal = "name: t\nturns:\n  - user: hello there\n";

TEST(LoaderInputTest, InvalidUtf8InTheFileIsReportedAtItsByte) {
  EXPECT_EQ(OnlyErrorOf("name: caf\xc3\xa9 \xff\nturns:\n  - user: hello there\n"),
            "s.yaml:1:12: invalid UTF-8 (byte 0xff); a scenario must be UTF-8 text");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "caller: { repeat_phrase: \"say \xc0\xaf\" }\n"),
            "s.yaml:4:31: invalid UTF-8 (byte 0xc0); a scenario must be UTF-8 text");
}

TEST(LoaderInputTest, InvalidUtf8InASetValueNamesTheOverride) {
  EXPECT_EQ(OnlyErrorOf(kMinimal, {"name=ab\xfe"}),
            "--set name=ab\xfe: name: the value is not UTF-8 text: invalid UTF-8 (byte 0xfe) at "
            "character 3");
}

TEST(LoaderInputTest, DeepNestingIsBoundedWithALocation) {
  // Deeper than the loader's bound but within yaml-cpp's: the converter finds it, at the node.
  std::string deep = std::string(kMinimal) + "x: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  const LoadResult r = LoadAs(deep + "\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where.line, 4);
  EXPECT_EQ(r.errors[0].where.column, 4 + static_cast<int>(kMaxYamlDepth));
  EXPECT_EQ(r.errors[0].message, "the scenario nests deeper than 64 levels (an alias to an "
                                 "enclosing node?)");
  // Deeper than yaml-cpp's own guard, which on its own says only "bad file" (at the point its
  // scanner reached, here the end of the file).
  std::string deeper = std::string(kMinimal) + "x: ";
  for (int i = 0; i < 5000; ++i) deeper += "[";
  const LoadResult r2 = LoadAs(deeper + "\n");
  ASSERT_EQ(r2.errors.size(), 1u);
  EXPECT_EQ(r2.errors[0].where.line, 5);
  EXPECT_EQ(r2.errors[0].message, "the scenario nests deeper than 64 levels");
}

TEST(LoaderInputTest, AnUtteranceHasABoundInCharacters) {
  const std::string at_bound(limits::kMaxUtteranceChars, 'a');
  EXPECT_TRUE(LoadAs("name: t\nturns:\n  - user: " + at_bound + "\n").ok());
  // 1,001 two-byte characters: under the bound in characters, over it in bytes.
  std::string accented;
  for (int i = 0; i < 1001; ++i) accented += "\xc3\xa9";
  EXPECT_TRUE(LoadAs("name: t\nturns:\n  - user: a" + accented + "\n").ok());
  EXPECT_EQ(OnlyErrorOf("name: t\nturns:\n  - user: " + at_bound + "b\n"),
            "s.yaml:3:11: turns.0.user: expected at most 2000 characters, got 2001");
  const std::string huge(1'000'000, 'w');  // 4.3 GB of audio for one caller, unbounded
  EXPECT_EQ(OnlyErrorOf(kMinimal, {"turns.0.user=" + huge}),
            "--set turns.0.user=" + huge +
                ": turns.0.user: expected at most 2000 characters, got 1000000");
}

TEST(LoaderInputTest, ManyUnknownKeysAreReportedFirstToLastInLinearTime) {
  // 50,000 unknown keys took about 28 s when each key was compared with every earlier one; with
  // hash and ordered sets it is a fraction of a second.
  std::string text = kMinimal;
  constexpr int kKeys = 50'000;
  for (int i = 0; i < kKeys; ++i) text += "k" + std::to_string(i) + ": 1\n";
  text += "k17: 2\n";  // a duplicate at the end
  const LoadResult r = LoadAs(text);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 51u);  // 50 shown, then "too many errors"
  EXPECT_EQ(r.errors[0].ToString().rfind("s.yaml:4:1: k0: unknown key k0 (expected one of: ", 0),
            0u)
      << r.errors[0].ToString();
  EXPECT_EQ(r.errors[49].ToString().rfind("s.yaml:53:1: k49: unknown key k49 (", 0), 0u)
      << r.errors[49].ToString();
  EXPECT_EQ(r.errors[50].message, "too many errors; the rest are left out");
}

TEST(LoaderInputTest, ADuplicateKeyNamesTheFirstLine) {
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "codec: l16\nseed: 3\ncodec: pcmu\n"),
            "s.yaml:6:1: codec: duplicate key codec (first at line 4)");
}

TEST(LoaderInputTest, ADirectoryOrFifoGivenAsTheScenarioSaysWhatItIs) {
  TempDir dir;
  const LoadResult r = LoadScenarioFile(dir.path().string());
  EXPECT_EQ(ErrorStrings(r), std::vector<std::string>{dir.path().string() +
                                                      ": cannot read the scenario: is a "
                                                      "directory"});
  const std::string fifo = (dir.path() / "s.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const LoadResult r2 = LoadScenarioFile(fifo);  // returns at once: nothing writes the FIFO
  EXPECT_EQ(ErrorStrings(r2),
            std::vector<std::string>{fifo +
                                     ": cannot read the scenario: is not a regular file (a FIFO)"});
}

TEST(LoaderInputTest, AFifoOrDirectoryReferencedByTheScenarioSaysWhatItIs) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "llm");
  const std::string fifo = (dir.path() / "script.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string base = (dir.path() / "s.yaml").string();
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes: { llm: { script: llm } }\n", {}, base),
            base + ":4:17: fakes.llm.script: " + (dir.path() / "llm").string() +
                ": is a directory");
  EXPECT_EQ(OnlyErrorOf(std::string(kMinimal) + "fakes: { llm: { script: script.yaml } }\n", {},
                        base),
            base + ":4:17: fakes.llm.script: " + fifo + ": is not a regular file (a FIFO)");
}

TEST(LoaderInputTest, TheFileSizeBoundIsNamed) {
  TempDir dir;
  const std::string path =
      dir.Write("big.yaml", std::string(kMinimal) + "# " + std::string(kMaxScenarioBytes, 'x'));
  EXPECT_EQ(ErrorStrings(LoadScenarioFile(path)),
            std::vector<std::string>{path + ": cannot read the scenario: larger than 4194304 "
                                            "bytes (the limit for this file)"});
}

}  // namespace
}  // namespace callsim::harness
