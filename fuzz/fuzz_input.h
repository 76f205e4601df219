// Shared by the fuzz targets: the input as text, and how a target splits one input into parts.
// Each target defines LLVMFuzzerTestOneInput and is built twice: with libFuzzer (clang, `make
// fuzz`) to search, and with replay_main.cc (any compiler, every test build) to run its seed
// corpus as a regression test, under the sanitizers in `make test-sanitize`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace callsim::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at the first occurrence of `separator`: {before, after}; without one, {text, ""}.
inline std::pair<std::string_view, std::string_view> SplitOnce(std::string_view text,
                                                               std::string_view separator) {
  const size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + separator.size())};
}

}  // namespace callsim::fuzz
