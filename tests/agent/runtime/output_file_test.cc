// WriteOutputFile replaces regular files atomically and writes everything else in place: a FIFO
// keeps being a FIFO, a symlink keeps being a link, a device is never renamed over.
#include "agent/runtime/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace callsim::agent {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("callsim_output_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // The names in the folder: a leftover temporary file would show here.
  size_t Entries() const {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

TEST_F(OutputFileTest, CreatesAnAbsentFileAndReplacesARegularOneWhole) {
  const std::string path = Path("m.prom");
  std::string error;
  ASSERT_TRUE(WriteOutputFile(path, "first\n", &error)) << error;
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(WriteOutputFile(path, "second\n", &error)) << error;
  EXPECT_EQ(ReadAll(path), "second\n");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(Entries(), 1u);  // no temporary file left behind
}

TEST_F(OutputFileTest, WritesThroughASymlinkAndKeepsTheLink) {
  const std::string target = Path("target.prom");
  const std::string link = Path("link.prom");
  std::ofstream(target) << "old\n";
  fs::create_symlink(target, link);
  std::string error;
  ASSERT_TRUE(WriteOutputFile(link, "new\n", &error)) << error;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), target);
  EXPECT_EQ(ReadAll(target), "new\n");
  EXPECT_EQ(Entries(), 2u);
}

TEST_F(OutputFileTest, ADanglingSymlinkCreatesItsTarget) {
  const std::string target = Path("later.prom");
  const std::string link = Path("link.prom");
  fs::create_symlink(target, link);
  std::string error;
  ASSERT_TRUE(WriteOutputFile(link, "made\n", &error)) << error;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(ReadAll(target), "made\n");
}

TEST_F(OutputFileTest, WritesIntoAFifoAndLeavesItAFifo) {
  const std::string fifo = Path("metrics.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = ReadAll(fifo); });  // blocks until the writer opens
  std::string error;
  const bool ok = WriteOutputFile(fifo, "through the pipe\n", &error);
  reader.join();
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(received, "through the pipe\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(OutputFileTest, WritesIntoDevNullWithoutReplacingIt) {
  std::string error;
  ASSERT_TRUE(WriteOutputFile("/dev/null", "discarded\n", &error)) << error;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST_F(OutputFileTest, AFullDeviceIsAClearErrorAndStaysADevice) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string error;
  EXPECT_FALSE(WriteOutputFile("/dev/full", std::string(1 << 16, 'x'), &error));
  EXPECT_EQ(error, "cannot write /dev/full: No space left on device");
  EXPECT_TRUE(fs::is_character_file("/dev/full"));
}

TEST_F(OutputFileTest, ADirectoryIsRefusedAndNamed) {
  std::string error;
  EXPECT_FALSE(WriteOutputFile(dir_.string(), "x", &error));
  EXPECT_EQ(error, dir_.string() + " is a directory");
  EXPECT_EQ(OutputFileProblem(dir_.string()), dir_.string() + " is a directory");
}

TEST_F(OutputFileTest, AMissingFolderIsFoundBeforeWriting) {
  const std::string path = Path("no/such/folder/m.prom");
  EXPECT_EQ(OutputFileProblem(path),
            "cannot create " + path + ": no such folder " + Path("no/such/folder"));
  EXPECT_EQ(OutputFileProblem(Path("fresh.prom")), "");
  EXPECT_EQ(OutputFileProblem("/dev/null"), "");
  EXPECT_EQ(OutputFileProblem(""), "the path is empty");
}

}  // namespace
}  // namespace callsim::agent
