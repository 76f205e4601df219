// How much memory a new run may use: the kernel's MemAvailable (/proc/meminfo), else sysinfo's
// free and buffer RAM, lowered to the cgroup v2 limit's headroom when the process runs in one.
// Read once before a run; the parsers are pure so tests can feed them text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callsim::harness {

struct AvailableMemory {
  int64_t bytes = 0;
  std::string source;  // "MemAvailable", "sysinfo" or "cgroup memory.max"
};

// Nullopt when no source could be read (then nothing is refused).
std::optional<AvailableMemory> ReadAvailableMemory();

// The MemAvailable line of /proc/meminfo text, in bytes; nullopt when absent or malformed.
std::optional<int64_t> ParseMemAvailable(std::string_view meminfo);

}  // namespace callsim::harness
