// Bad input from outside, through the built binary: every case exits 2 with a message that says
// where and what, before a database is opened (so no run is left `running`), and nothing blocks.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/cli/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using Output = callsim::testing::CliOutput;
using callsim::testing::RunCli;

bool Has(const Output& out, const std::string& text) {
  return out.text.find(text) != std::string::npos;
}

class CliInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("callsim_cli_input_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "llm");
    fs::copy_file(fs::path(CALLSIM_SOURCE_DIR) / "scenarios/llm/support.yaml",
                  dir_ / "llm/support.yaml");
    db_ = (dir_ / "runs.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string Scenario(const std::string& name = "hello") {
    return Write("s.yaml", "name: " + name +
                               "\ncodec: l16\nfakes:\n  stt: { profile: perfect }\n"
                               "  llm: { script: llm/support.yaml }\nturns:\n"
                               "  - user: \"i want to check on my order\"\n  - hangup: {}\n");
  }
  bool NoDatabase() const { return !fs::exists(db_); }
  fs::path dir_;
  std::string db_;
};

TEST_F(CliInput, SeedOutsideUint64IsRefusedNotWrapped) {
  const std::string path = Scenario();
  for (const char* seed : {"-1", "18446744073709551616", "1e3", "0x10", "''", "' 5'"}) {
    const Output out = RunCli("run " + path + " --db " + db_ + " --seed " + seed);
    EXPECT_EQ(out.exit_code, 2) << seed << ": " << out.text;
    EXPECT_TRUE(Has(out, "callsim: --seed: expected a whole number in [0, "
                         "18446744073709551615], got \""))
        << out.text;
    EXPECT_TRUE(NoDatabase());
  }
  const Output max = RunCli("run " + path + " --db " + db_ + " --seed 18446744073709551615");
  EXPECT_EQ(max.exit_code, 0) << max.text;
  EXPECT_TRUE(Has(max, "--seed 18446744073709551615")) << max.text;  // the replay line
}

TEST_F(CliInput, CallersMustBeAWholeNumberInRange) {
  const std::string path = Scenario();
  for (const char* callers : {"0", "-3", "2.5", "1000001", "4294967297"}) {
    const Output out = RunCli("run " + path + " --db " + db_ + " --callers " + callers);
    EXPECT_EQ(out.exit_code, 2) << callers << ": " << out.text;
    EXPECT_TRUE(Has(out, "callsim: --callers: expected a whole number in [1, 1000000], got \""))
        << out.text;
  }
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, AnEmptyDatabasePathIsRefused) {
  const Output out = RunCli("run " + Scenario() + " --db ''");
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_TRUE(Has(out, "callsim: --db: the path is empty")) << out.text;
  const Output sweep = RunCli("sweep " + Write("plan.yaml", "x: 1\n") + " --db ''");
  EXPECT_EQ(sweep.exit_code, 2) << sweep.text;
  EXPECT_TRUE(Has(sweep, "callsim: --db: the path is empty")) << sweep.text;
}

TEST_F(CliInput, InvalidUtf8InTheScenarioIsAnInputErrorWithItsLocation) {
  const std::string path = Scenario("caf\xc3\xa9 \xff");
  const Output validate = RunCli("validate " + path);
  EXPECT_EQ(validate.exit_code, 2) << validate.text;
  EXPECT_TRUE(Has(validate, path + ":1:12: invalid UTF-8 (byte 0xff)")) << validate.text;
  const Output run = RunCli("run " + path + " --db " + db_);
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_FALSE(Has(run, "internal error")) << run.text;
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, InvalidUtf8InASetValueIsAnInputError) {
  // printf writes the byte 0xff: /bin/sh has no $'...' quoting.
  const Output run =
      RunCli("run " + Scenario() + " --db " + db_ + " --set \"$(printf 'name=x\\377')\"");
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_TRUE(Has(run, ": name: the value is not UTF-8 text: invalid UTF-8 (byte 0xff)"))
      << run.text;
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, InvalidUtf8InTheLlmScriptIsFoundByValidate) {
  const std::string script = Write("llm/support.yaml", "rules:\n  - say: \"ok \xc3\x28\"\n");
  const std::string path = Scenario();
  const Output validate = RunCli("validate " + path);
  EXPECT_EQ(validate.exit_code, 2) << validate.text;
  EXPECT_TRUE(Has(validate, script + ":2:14: invalid UTF-8 (byte 0xc3)")) << validate.text;
  const Output run = RunCli("run " + path + " --db " + db_);
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, ABadRecordingIsFoundByValidateAtItsReference) {
  Write("cough.wav", "RIFF....WAVEfmt but then nothing useful");
  const std::string path =
      Write("p.yaml", "name: p\nfakes:\n  llm: { script: llm/support.yaml }\nturns:\n"
                      "  - play: { file: cough.wav }\n");
  const Output validate = RunCli("validate " + path);
  EXPECT_EQ(validate.exit_code, 2) << validate.text;
  EXPECT_TRUE(Has(validate, path + ":5:19: turns.0.play.file: " + (dir_ / "cough.wav").string() +
                                ": cannot open: "))
      << validate.text;
  const Output run = RunCli("run " + path + " --db " + db_);
  EXPECT_EQ(run.exit_code, 2) << run.text;
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, ADirectoryOrFifoAsTheScenarioSaysWhatItIs) {
  const Output dir = RunCli("validate " + dir_.string());
  EXPECT_EQ(dir.exit_code, 2) << dir.text;
  EXPECT_TRUE(Has(dir, dir_.string() + ": cannot read the scenario: is a directory")) << dir.text;
  const std::string fifo = (dir_ / "fifo.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const Output pipe = RunCli("run " + fifo + " --db " + db_);  // returns at once
  EXPECT_EQ(pipe.exit_code, 2) << pipe.text;
  EXPECT_TRUE(Has(pipe, fifo + ": cannot read the scenario: is not a regular file (a FIFO)"))
      << pipe.text;
  EXPECT_TRUE(NoDatabase());
}

TEST_F(CliInput, MetricsOutWritesThroughASymlinkAndIntoStdout) {
  const std::string path = Scenario();
  const std::string target = (dir_ / "metrics.prom").string();
  const std::string link = (dir_ / "link.prom").string();
  Write("metrics.prom", "old\n");
  fs::create_symlink(target, link);
  const Output out = RunCli("run " + path + " --db " + db_ + " --metrics-out " + link);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_TRUE(fs::is_symlink(link));
  std::ifstream in(target);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("callsim_agent_calls_total"), std::string::npos) << text.str();
  const Output stdout_out = RunCli("run " + path + " --db " + db_ + " --metrics-out /dev/stdout");
  EXPECT_EQ(stdout_out.exit_code, 0) << stdout_out.text;
  EXPECT_TRUE(Has(stdout_out, "# TYPE callsim_agent_calls_total counter")) << stdout_out.text;
}

TEST_F(CliInput, MetricsOutThatCannotBeWrittenIsFoundBeforeTheRun) {
  const Output dir = RunCli("run " + Scenario() + " --db " + db_ + " --metrics-out " +
                            dir_.string());
  EXPECT_EQ(dir.exit_code, 2) << dir.text;
  EXPECT_TRUE(Has(dir, "callsim: --metrics-out: " + dir_.string() + " is a directory"))
      << dir.text;
  const Output empty = RunCli("run " + Scenario() + " --db " + db_ + " --metrics-out ''");
  EXPECT_EQ(empty.exit_code, 2) << empty.text;
  EXPECT_TRUE(Has(empty, "callsim: --metrics-out: the path is empty")) << empty.text;
  EXPECT_TRUE(NoDatabase());
}

}  // namespace
