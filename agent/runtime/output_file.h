// Writing a whole output file (the Prometheus exposition) at a path the user named, without
// destroying what is there. A regular file, or a path where nothing exists yet, is replaced
// atomically (a temporary file beside it, then rename), so a reader sees the old text or the new,
// never half. Anything else is written in place, as a shell redirection would: a FIFO, a device
// (/dev/stdout, /dev/null) or a dangling symlink is opened and written, never renamed over. A
// symlink to a regular file is followed: its target is replaced, the link stays.
#pragma once

#include <string>
#include <string_view>

namespace callsim::agent {

// Writes `text` to `path` as above. False with *error ("cannot write PATH: No space left on
// device", "PATH is a directory") when any step fails; a temporary file is then removed, and
// a regular file at `path` keeps its old contents. Opening a FIFO waits for a reader.
bool WriteOutputFile(const std::string& path, std::string_view text, std::string* error);

// "" when WriteOutputFile could plausibly write `path` (it exists and is not a directory, or its
// folder exists); else what is wrong. A cheap check before long work, not a guarantee.
std::string OutputFileProblem(const std::string& path);

}  // namespace callsim::agent
