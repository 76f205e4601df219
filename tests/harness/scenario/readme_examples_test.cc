// Every YAML example in scenarios/README.md loads: the format guide cannot drift from the loader.
// A snippet without `name` gets one, and one without `turns` (and without a mix) gets a turn;
// the files the examples name exist in a scratch folder.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "harness/scenario/loader.h"
#include "tests/harness/scenario/temp_dir.h"
#include "tests/harness/scenario/test_util.h"

namespace callsim::harness {
namespace {

std::vector<std::string> YamlBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  const std::string open = "```yaml\n";
  for (size_t at = markdown.find(open); at != std::string::npos; at = markdown.find(open, at)) {
    at += open.size();
    const size_t end = markdown.find("```", at);
    blocks.push_back(markdown.substr(at, end - at));
    at = end;
  }
  return blocks;
}

TEST(ScenarioReadmeTest, EveryExampleLoads) {
  std::ifstream in(std::filesystem::path(CALLSIM_SOURCE_DIR) / "scenarios/README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  testing::TempDir dir;
  for (const char* file : {"llm/support.yaml", "tools/standard.yaml"}) dir.Write(file, "x");
  for (const char* file : {"audio/thanks.wav", "noise/cafe.wav"}) dir.WriteAudio(file);
  for (const char* file : {"order_status.yaml", "barge_in.yaml"})
    dir.Write(file, "name: x\nturns: [ { user: hi } ]\n");
  size_t examples = 0;
  for (std::string block : YamlBlocks(readme)) {
    if (block.rfind("rules:", 0) == 0) continue;  // the fake LLM's script, not a scenario
    if (block.rfind("- name:", 0) == 0) continue;  // a tool file, not a scenario
    ++examples;
    if (block.find("\nname:") == std::string::npos && block.rfind("name:", 0) != 0) {
      block = "name: example\n" + block;
    }
    if (block.find("turns:") == std::string::npos && block.find("mix:") == std::string::npos) {
      block += "\nturns: [ { user: hi } ]\n";
    }
    const LoadResult r = LoadScenarioText(block, (dir.path() / "example.yaml").string());
    EXPECT_EQ(testing::ErrorStrings(r), std::vector<std::string>{}) << block;
  }
  EXPECT_GE(examples, 10u);
}

}  // namespace
}  // namespace callsim::harness
