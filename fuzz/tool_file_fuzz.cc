// Tool files and their JSON Schemas: any bytes parse to tools or to a located error; every parsed
// schema compiles (or says why it cannot) and checks a few argument objects without crashing.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/tools/tool_schema.h"
#include "fuzz/fuzz_input.h"
#include "harness/scenario/tool_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<callsim::agent::ToolSpec> tools;
  std::string error;
  if (!callsim::harness::ParseToolFile(std::string(callsim::fuzz::AsText(data, size)), "fuzz.yaml",
                                       &tools, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  const nlohmann::json samples[] = {
      nlohmann::json::object(),
      {{"order_id", "4567"}},
      {{"order_id", std::string(2000, 'a')}, {"amount", 12.5}},
      {{"date", "2026-12-05"}, {"time", "10:30:00"}},
  };
  for (const callsim::agent::ToolSpec& tool : tools) {
    const callsim::agent::ToolSchema schema(tool.parameters);
    for (const nlohmann::json& args : samples) schema.Check(args);
  }
  return 0;
}
