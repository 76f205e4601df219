// ReadRegularFile names what a path is when it is not a regular file, never blocks on a FIFO,
// and never reads past its bound.
#include "agent/runtime/input_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

namespace fs = std::filesystem;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("callsim_input_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(InputFileTest, ReadsARegularFileWhole) {
  std::ofstream(Path("a.yaml")) << "name: a\n";
  std::string text, error;
  ASSERT_TRUE(ReadRegularFile(Path("a.yaml"), 100, &text, &error)) << error;
  EXPECT_EQ(text, "name: a\n");
  EXPECT_EQ(RegularFileProblem(Path("a.yaml")), "");
}

TEST_F(InputFileTest, SaysWhatAPathIsWhenItIsNotARegularFile) {
  ASSERT_EQ(::mkfifo(Path("pipe").c_str(), 0600), 0);
  std::string text, error;
  // A FIFO with no writer: this would block forever if the file were opened the usual way.
  EXPECT_FALSE(ReadRegularFile(Path("pipe"), 100, &text, &error));
  EXPECT_EQ(error, "is not a regular file (a FIFO)");
  EXPECT_FALSE(ReadRegularFile(dir_.string(), 100, &text, &error));
  EXPECT_EQ(error, "is a directory");
  EXPECT_FALSE(ReadRegularFile("/dev/null", 100, &text, &error));
  EXPECT_EQ(error, "is not a regular file (a character device)");
  EXPECT_FALSE(ReadRegularFile(Path("missing.yaml"), 100, &text, &error));
  EXPECT_EQ(error, "no such file");
  EXPECT_EQ(RegularFileProblem(Path("pipe")), "is not a regular file (a FIFO)");
  EXPECT_EQ(RegularFileProblem(dir_.string()), "is a directory");
  EXPECT_EQ(RegularFileProblem(Path("missing.yaml")), "no such file");
  EXPECT_EQ(RegularFileProblem(""), "no such file (the path is empty)");
}

TEST_F(InputFileTest, RefusesAFileOverItsBound) {
  std::ofstream(Path("big.yaml")) << std::string(101, 'x');
  std::string text, error;
  EXPECT_FALSE(ReadRegularFile(Path("big.yaml"), 100, &text, &error));
  EXPECT_EQ(error, "larger than 100 bytes (the limit for this file)");
  std::ofstream(Path("edge.yaml")) << std::string(100, 'x');
  EXPECT_TRUE(ReadRegularFile(Path("edge.yaml"), 100, &text, &error)) << error;
}

}  // namespace
}  // namespace callsim::agent
