// The tool file is untrusted input: bad bytes, nesting and non-regular files are errors with a
// location, never an exception later.
#include "harness/scenario/tool_file.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/harness/scenario/temp_dir.h"

namespace callsim::harness {
namespace {

constexpr const char* kTool =
    "- name: lookup\n  description: look it up\n  backend: orders\n";

TEST(ToolFileTest, AValidFileLoads) {
  std::vector<agent::ToolSpec> tools;
  std::string error;
  ASSERT_TRUE(ParseToolFile(kTool, "t.yaml", &tools, &error)) << error;
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0].name, "lookup");
}

TEST(ToolFileTest, InvalidUtf8IsAnErrorAtItsByte) {
  std::vector<agent::ToolSpec> tools;
  std::string error;
  EXPECT_FALSE(ParseToolFile("- name: look\xff\n  description: x\n  backend: orders\n", "t.yaml",
                             &tools, &error));
  EXPECT_EQ(error, "t.yaml:1:13: invalid UTF-8 (byte 0xff); a tool file must be UTF-8 text");
}

TEST(ToolFileTest, NestingPastYamlCppsGuardIsNamed) {
  std::vector<agent::ToolSpec> tools;
  std::string error;
  EXPECT_FALSE(ParseToolFile(std::string(kTool) + "  parameters: " + std::string(5000, '['),
                             "t.yaml", &tools, &error));
  EXPECT_EQ(error.rfind("t.yaml:4:", 0), 0u) << error;
  EXPECT_NE(error.find(": nesting deeper than 64 levels"), std::string::npos) << error;
}

TEST(ToolFileTest, ADirectoryOrFifoSaysWhatItIs) {
  testing::TempDir dir;
  std::vector<agent::ToolSpec> tools;
  std::string error;
  EXPECT_FALSE(LoadToolFile(dir.path().string(), &tools, &error));
  EXPECT_EQ(error, dir.path().string() + ": cannot read the tool file: is a directory");
  const std::string fifo = (dir.path() / "tools.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(LoadToolFile(fifo, &tools, &error));
  EXPECT_EQ(error, fifo + ": cannot read the tool file: is not a regular file (a FIFO)");
}

}  // namespace
}  // namespace callsim::harness
