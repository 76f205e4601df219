#include "agent/runtime/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace callsim::agent {
namespace {

// What a stat result that is not a regular file is, in words; "" for a regular file.
std::string KindProblem(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return "";
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (S_ISFIFO(st.st_mode)) return "is not a regular file (a FIFO)";
  if (S_ISCHR(st.st_mode)) return "is not a regular file (a character device)";
  if (S_ISBLK(st.st_mode)) return "is not a regular file (a block device)";
  if (S_ISSOCK(st.st_mode)) return "is not a regular file (a socket)";
  return "is not a regular file";
}

std::string ErrnoProblem(const char* what, int err) {
  if (err == ENOENT) return "no such file";
  if (err == ENOTDIR) return "no such file (a parent is not a directory)";
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

std::string RegularFileProblem(const std::string& path) {
  if (path.empty()) return "no such file (the path is empty)";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoProblem("cannot access", errno);
  return KindProblem(st);
}

int OpenRegularFile(const std::string& path, std::string* error) {
  if (path.empty()) {
    *error = "no such file (the path is empty)";
    return -1;
  }
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. fstat on the open
  // descriptor, not stat on the path, so what is checked is what is read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *error = ErrnoProblem("cannot open", errno);
    return -1;
  }
  struct stat st {};
  std::string problem =
      ::fstat(fd, &st) != 0 ? ErrnoProblem("cannot access", errno) : KindProblem(st);
  if (!problem.empty()) {
    ::close(fd);
    *error = std::move(problem);
    return -1;
  }
  // A regular file never blocks; clear the flag so reads behave as usual.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

bool ReadRegularFile(const std::string& path, size_t max_bytes, std::string* text,
                     std::string* error) {
  const int fd = OpenRegularFile(path, error);
  if (fd < 0) return false;
  text->clear();
  char buf[65536];
  while (text->size() <= max_bytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = ErrnoProblem("cannot read", errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text->size() > max_bytes) {
    *error = "larger than " + std::to_string(max_bytes) + " bytes (the limit for this file)";
    return false;
  }
  return true;
}

}  // namespace callsim::agent
