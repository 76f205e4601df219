#include "agent/runtime/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace callsim::agent {
namespace {

// Reads errno first, before building the message can change it.
std::string ErrnoText(std::string_view what, const std::string& path) {
  const int err = errno;
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

// Writes all of `text` to `fd`, retrying short writes and interruptions.
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Opens what is at `path` (a FIFO, a device, a dangling symlink's target) and writes into it.
bool WriteInPlace(const std::string& path, std::string_view text, std::string* error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = ErrnoText("cannot open", path);
    return false;
  }
  bool ok = WriteAll(fd, text);
  if (!ok) *error = ErrnoText("cannot write", path);
  if (::close(fd) != 0 && ok) {
    *error = ErrnoText("cannot write", path);
    ok = false;
  }
  return ok;
}

// Writes a temporary file beside `path`, then renames it over `path`. `mode`: the permissions
// of the file being replaced, or 0 to keep the default (0666 less the umask).
bool WriteAtomically(const std::string& path, std::string_view text, mode_t mode,
                     std::string* error) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = ErrnoText("cannot create", temp);
    return false;
  }
  bool ok = WriteAll(fd, text) && (mode == 0 || ::fchmod(fd, mode) == 0);
  if (!ok) *error = ErrnoText("cannot write", temp);
  if (::close(fd) != 0 && ok) {
    *error = ErrnoText("cannot write", temp);
    ok = false;
  }
  if (ok && std::rename(temp.c_str(), path.c_str()) != 0) {
    *error = ErrnoText("cannot rename", temp + " to " + path);
    ok = false;
  }
  if (!ok) std::remove(temp.c_str());
  return ok;
}

}  // namespace

bool WriteOutputFile(const std::string& path, std::string_view text, std::string* error) {
  if (path.empty()) {
    *error = "the path is empty";
    return false;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      *error = ErrnoText("cannot access", path);
      return false;
    }
    struct stat link {};
    const bool dangling = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
    return dangling ? WriteInPlace(path, text, error) : WriteAtomically(path, text, 0, error);
  }
  if (S_ISDIR(st.st_mode)) {
    *error = path + " is a directory";
    return false;
  }
  if (!S_ISREG(st.st_mode)) return WriteInPlace(path, text, error);
  // A regular file, perhaps through symlinks: replace the file they lead to, not the link.
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::canonical(path, ec);
  if (ec) {
    *error = "cannot resolve " + path + ": " + ec.message();
    return false;
  }
  return WriteAtomically(target.string(), text, st.st_mode & 07777, error);
}

std::string OutputFileProblem(const std::string& path) {
  if (path.empty()) return "the path is empty";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? path + " is a directory" : "";
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    return "cannot create " + path + ": no such folder " + folder.string();
  }
  return "";
}

}  // namespace callsim::agent
