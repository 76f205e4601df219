// Opening and reading a file named by untrusted input (a scenario, an LLM script, a tool file, a
// recording). The file is opened non-blocking and checked with fstat before anything is read, so
// a FIFO never blocks, a directory or a device is named as what it is (not "no such file"), and
// no more than a stated bound is ever read. Errors leave out the path: callers prefix it.
#pragma once

#include <cstddef>
#include <string>

namespace callsim::agent {

// "" when `path` (symlinks followed) names a regular file; else what is wrong, in words: "no such
// file", "is a directory", "is not a regular file (a FIFO)", "is not a regular file (a character
// device)", "cannot access: <reason>". Only stats; never opens.
std::string RegularFileProblem(const std::string& path);

// Opens the regular file at `path` for reading: a file descriptor the caller owns (close it), or
// -1 with *error set as by RegularFileProblem, or "cannot open: <reason>". Never blocks.
int OpenRegularFile(const std::string& path, std::string* error);

// Reads the regular file at `path` whole into *text. False with *error when it cannot be opened
// (see OpenRegularFile), cannot be read, or holds more than `max_bytes` ("larger than N bytes");
// *text is then unspecified. At most max_bytes + 1 bytes are read.
bool ReadRegularFile(const std::string& path, size_t max_bytes, std::string* text,
                     std::string* error);

}  // namespace callsim::agent
