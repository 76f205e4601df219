// Runs the built callsim binary as a user would, for the command-line tests: its exit code and
// everything it printed. A time bound (under ctest's 300 s) turns a blocking open or a hang into a
// failed test.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace callsim::testing {

struct CliOutput {
  int exit_code = -1;
  std::string text;  // stdout and stderr together
};

// Runs `cmd` through the shell as it is.
inline CliOutput RunPipe(const std::string& cmd) {
  CliOutput out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.text.append(buf, n);
  const int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A command (a checker script, say) under the time bound, stderr with stdout.
inline CliOutput RunShell(const std::string& command) {
  return RunPipe("timeout 280 " + command + " 2>&1");
}

// `args` are shell words after the binary's name; `cwd`, if given, is the working directory.
inline CliOutput RunCli(const std::string& args, const std::string& cwd = "") {
  return RunPipe((cwd.empty() ? "" : "cd '" + cwd + "' && ") + "timeout 280 " +
                 std::string(CALLSIM_BINARY) + " " + args + " 2>&1");
}

// The whole file; "" when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace callsim::testing
