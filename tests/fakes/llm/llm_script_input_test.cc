// The LLM script is untrusted input: text that is not UTF-8 would reach the run's JSON and end it
// with an exception, so it is refused where the script is read, with its position.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "fakes/llm/llm_script.h"

namespace callsim::fakes {
namespace {

TEST(LlmScriptInputTest, InvalidUtf8InASayIsAnErrorAtItsByte) {
  LlmScript script;
  std::string error;
  EXPECT_FALSE(ParseLlmScript("rules:\n  - say: \"hello \xe2\x82\"\n", "llm.yaml", &script,
                              &error));
  EXPECT_EQ(error, "llm.yaml:2:17: invalid UTF-8 (byte 0xe2); a script must be UTF-8 text");
}

TEST(LlmScriptInputTest, NestingPastYamlCppsGuardIsNamed) {
  LlmScript script;
  std::string error;
  EXPECT_FALSE(ParseLlmScript("rules: " + std::string(5000, '['), "llm.yaml", &script, &error));
  EXPECT_EQ(error.rfind("llm.yaml:1:", 0), 0u) << error;
  EXPECT_NE(error.find(": nesting too deep"), std::string::npos) << error;
}

TEST(LlmScriptInputTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string fifo = ::testing::TempDir() + "callsim_llm_fifo_" + std::to_string(getpid());
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  LlmScript script;
  std::string error;
  EXPECT_FALSE(LoadLlmScript(fifo, &script, &error));
  EXPECT_EQ(error, fifo + ": cannot read the LLM script: is not a regular file (a FIFO)");
  std::filesystem::remove(fifo);
}

}  // namespace
}  // namespace callsim::fakes
