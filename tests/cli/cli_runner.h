// Runs the built callsim binary as a user would, for the command-line tests: its exit code and
// everything it printed. A time bound (under ctest's 300 s) turns a blocking open or a hang into a
// failed test.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace callsim::testing {

struct CliOutput {
  int exit_code = -1;
  std::string text;  // stdout and stderr together
};

// `args` are shell words after the binary's name; `cwd`, if given, is the working directory.
inline CliOutput RunCli(const std::string& args, const std::string& cwd = "") {
  const std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + "timeout 280 " +
                          std::string(CALLSIM_BINARY) + " " + args + " 2>&1";
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

}  // namespace callsim::testing
