#include "harness/run/available_memory.h"

#include <sys/sysinfo.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace callsim::harness {
namespace {

std::optional<std::string> ReadSmallFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<int64_t> ParseInt(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() || value < 0) return std::nullopt;
  return value;
}

// The headroom under this process's cgroup v2 memory limit; nullopt when unlimited or unknown.
std::optional<int64_t> CgroupHeadroom() {
  const std::optional<std::string> max = ReadSmallFile("/sys/fs/cgroup/memory.max");
  const std::optional<std::string> current = ReadSmallFile("/sys/fs/cgroup/memory.current");
  if (!max || !current) return std::nullopt;
  const std::optional<int64_t> limit = ParseInt(*max);  // "max" when unlimited: no number
  const std::optional<int64_t> used = ParseInt(*current);
  if (!limit || !used) return std::nullopt;
  return *limit > *used ? *limit - *used : 0;
}

}  // namespace

std::optional<int64_t> ParseMemAvailable(std::string_view meminfo) {
  constexpr std::string_view kKey = "MemAvailable:";
  const size_t at = meminfo.find(kKey);
  if (at == std::string_view::npos || (at > 0 && meminfo[at - 1] != '\n')) return std::nullopt;
  std::string_view rest = meminfo.substr(at + kKey.size());
  rest = rest.substr(0, rest.find('\n'));
  const std::optional<int64_t> kib = ParseInt(rest);
  if (!kib || rest.find("kB") == std::string_view::npos) return std::nullopt;
  return *kib * 1024;
}

std::optional<AvailableMemory> ReadAvailableMemory() {
  std::optional<AvailableMemory> found;
  if (const std::optional<std::string> meminfo = ReadSmallFile("/proc/meminfo")) {
    if (const std::optional<int64_t> bytes = ParseMemAvailable(*meminfo)) {
      found = AvailableMemory{*bytes, "MemAvailable"};
    }
  }
  if (!found) {
    struct sysinfo info {};
    if (sysinfo(&info) == 0) {
      const int64_t unit = info.mem_unit > 0 ? info.mem_unit : 1;
      found = AvailableMemory{static_cast<int64_t>(info.freeram + info.bufferram) * unit, "sysinfo"};
    }
  }
  const std::optional<int64_t> cgroup = CgroupHeadroom();
  if (cgroup && (!found || *cgroup < found->bytes)) {
    found = AvailableMemory{*cgroup, "cgroup memory.max"};
  }
  return found;
}

}  // namespace callsim::harness
