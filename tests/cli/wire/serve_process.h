// `callsim serve` in its own process on ephemeral ports, for the wire tests: its stdout is read
// for the ports it printed, its stderr goes to a log file.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace callsim::testing {

struct ServeProcess {
  pid_t pid = -1;
  int port = 0;      // HTTP and WebSocket
  int sip_port = 0;  // with --sip
  FILE* out = nullptr;
};

// Starts `callsim serve ARGS...` and waits for the line naming its HTTP port (and, with --sip,
// the one naming its SIP port).
inline ServeProcess StartServe(std::vector<std::string> args, const std::string& log_path) {
  ServeProcess p;
  const bool sip = std::find(args.begin(), args.end(), "--sip") != args.end();
  int fds[2];
  if (pipe(fds) != 0) return p;
  p.pid = fork();
  if (p.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDERR_FILENO);
    close(fds[0]);
    args.insert(args.begin(), {CALLSIM_BINARY, "serve"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(CALLSIM_BINARY, argv.data());
    _exit(127);
  }
  close(fds[1]);
  p.out = fdopen(fds[0], "r");
  char line[512];
  const std::regex http(R"(listening on http://[0-9.]+:([0-9]+))");
  const std::regex sip_line(R"(SIP on udp [0-9.]+:([0-9]+))");
  for (int lines = sip ? 2 : 1; lines > 0 && fgets(line, sizeof line, p.out); --lines) {
    std::cmatch m;
    if (std::regex_search(line, m, http)) p.port = std::stoi(m[1].str());
    if (std::regex_search(line, m, sip_line)) p.sip_port = std::stoi(m[1].str());
  }
  return p;
}

// SIGTERM (a drain) and the exit status; -1 when it did not exit normally.
inline int StopServe(ServeProcess& p) {
  kill(p.pid, SIGTERM);
  int status = 0;
  waitpid(p.pid, &status, 0);
  if (p.out) fclose(p.out);
  p.out = nullptr;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace callsim::testing
