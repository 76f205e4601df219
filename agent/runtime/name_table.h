// A closed set's one table of names: an enum numbered 0..N-1 and, for each value, the exact string
// that is read, printed and stored for it. Parse accepts those strings only (nullopt otherwise, so
// the reader can name what it got); Name of a value outside the set is a broken invariant and
// aborts (CALLSIM_CHECK), so no made-up name such as "unknown" can reach a log or a row.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "agent/runtime/check.h"

namespace callsim::agent {

template <typename Enum, size_t N>
class NameTable {
  static_assert(std::is_enum_v<Enum>);

 public:
  // names[i] is the name of static_cast<Enum>(i).
  constexpr explicit NameTable(std::array<std::string_view, N> names) : names_(names) {}

  // True when `value` is one of the set's N values (a cast can make others).
  constexpr bool Contains(Enum value) const { return Index(value) < N; }

  std::string_view Name(Enum value) const {
    CALLSIM_CHECK(Contains(value));
    return names_[Index(value)];
  }

  std::optional<Enum> Parse(std::string_view name) const {
    for (size_t i = 0; i < N; ++i) {
      if (names_[i] == name) return static_cast<Enum>(i);
    }
    return std::nullopt;
  }

  const std::array<std::string_view, N>& names() const { return names_; }

  // The names in order, for messages: Join(", ", " or ") gives "a, b or c".
  std::string Join(std::string_view separator, std::string_view last_separator) const {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
      if (i > 0) out += i + 1 == N ? last_separator : separator;
      out += names_[i];
    }
    return out;
  }

 private:
  // A negative value wraps to a huge index, so one comparison covers both ends.
  static constexpr size_t Index(Enum value) {
    return static_cast<size_t>(static_cast<std::underlying_type_t<Enum>>(value));
  }

  std::array<std::string_view, N> names_;
};

}  // namespace callsim::agent
