#include "harness/scenario/overrides.h"

#include <charconv>

#include "agent/text/utf8.h"

namespace callsim::harness {
namespace {

void AddError(std::vector<ScenarioError>* errors, const std::string& text, std::string path,
              std::string message) {
  errors->push_back({OverrideLocation(text), std::move(path), std::move(message)});
}

std::string Join(const std::string& prefix, const std::string& segment) {
  return prefix.empty() ? segment : prefix + "." + segment;
}

bool IsPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Splits "a.b.c" into segments; nullopt when a segment is empty or holds other than [A-Za-z0-9_-].
std::optional<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string_view segment =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) return std::nullopt;
    for (char c : segment) {
      if (!IsPathChar(c)) return std::nullopt;
    }
    segments.emplace_back(segment);
    if (dot == std::string_view::npos) return segments;
    start = dot + 1;
  }
}

// A list index: digits only; nullopt for anything else and for values too large for size_t.
std::optional<size_t> ParseIndex(const std::string& segment) {
  size_t index = 0;
  const char* end = segment.data() + segment.size();
  const auto [ptr, ec] = std::from_chars(segment.data(), end, index);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return index;
}

bool AllDigits(const std::string& s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

std::optional<YAML::Node> WithValue(const YAML::Node& node, const Override& o, size_t i,
                                    const std::string& path, AppliedOverride* applied,
                                    std::vector<ScenarioError>* errors);

// WithValue for a list: o.path[i] must index an existing element.
std::optional<YAML::Node> SequenceWithValue(const YAML::Node& node, const Override& o, size_t i,
                                            const std::string& path, AppliedOverride* applied,
                                            std::vector<ScenarioError>* errors) {
  const std::string& segment = o.path[i];
  if (!AllDigits(segment)) {
    AddError(errors, o.text, path, "is a list; expected an index, got " + segment);
    return std::nullopt;
  }
  const std::optional<size_t> index = ParseIndex(segment);  // nullopt: too large
  if (!index || *index >= node.size()) {
    AddError(errors, o.text, Join(path, segment),
             "index " + segment + " out of range (" + path + " has " +
                 std::to_string(node.size()) + " items, indexed from 0)");
    return std::nullopt;
  }
  YAML::Node copy(YAML::NodeType::Sequence);
  size_t j = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++j) {
    if (j != *index) {
      copy.push_back(*it);
      continue;
    }
    std::optional<YAML::Node> child =
        WithValue(*it, o, i + 1, Join(path, std::to_string(j)), applied, errors);
    if (!child) return std::nullopt;
    copy.push_back(*child);
  }
  return copy;
}

// WithValue for a map (or null, read as an empty map): o.path[i] is added if missing.
std::optional<YAML::Node> MapWithValue(const YAML::Node& node, const Override& o, size_t i,
                                       const std::string& path, AppliedOverride* applied,
                                       std::vector<ScenarioError>* errors) {
  const std::string& segment = o.path[i];
  YAML::Node copy(YAML::NodeType::Map);
  bool found = false;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // With duplicate keys (reported later), the first: the one yaml-cpp itself would read.
    if (found || !it->first.IsScalar() || it->first.Scalar() != segment) {
      copy.force_insert(it->first, it->second);
      continue;
    }
    found = true;
    std::optional<YAML::Node> child =
        WithValue(it->second, o, i + 1, Join(path, segment), applied, errors);
    if (!child) return std::nullopt;
    copy.force_insert(it->first, *child);
  }
  if (!found) {
    std::optional<YAML::Node> child = WithValue(YAML::Node(YAML::NodeType::Null), o, i + 1,
                                                Join(path, segment), applied, errors);
    if (!child) return std::nullopt;
    copy.force_insert(segment, *child);
  }
  return copy;
}

// A copy of `node` (at canonical `path`) with the override's value at o.path[i..], sharing all
// that is off the path with the original; nullopt (with an error) when the path cannot be
// followed. Copying rather than editing in place matters because yaml-cpp shares aliased nodes.
std::optional<YAML::Node> WithValue(const YAML::Node& node, const Override& o, size_t i,
                                    const std::string& path, AppliedOverride* applied,
                                    std::vector<ScenarioError>* errors) {
  if (i == o.path.size()) {
    applied->path = path;
    return YAML::Clone(o.value);
  }
  if (!node.IsNull() && !node.Mark().is_null()) {
    applied->copied_marks.emplace_back(path, node.Mark());
  }
  if (node.IsSequence()) return SequenceWithValue(node, o, i, path, applied, errors);
  if (node.IsMap() || node.IsNull()) return MapWithValue(node, o, i, path, applied, errors);
  AddError(errors, o.text, path, "is a scalar, so it has no field " + o.path[i]);
  return std::nullopt;
}

}  // namespace

SourceLocation OverrideLocation(std::string_view text) {
  return SourceLocation{"--set " + std::string(text), 0, 0};
}

std::optional<Override> ParseOverride(const std::string& text, std::vector<ScenarioError>* errors) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) {
    AddError(errors, text, "", "expected PATH=VALUE, e.g. network.uplink.loss=0.05");
    return std::nullopt;
  }
  Override o;
  o.text = text;
  const std::string path = text.substr(0, eq);
  std::optional<std::vector<std::string>> segments = SplitPath(path);
  if (!segments) {
    AddError(errors, text, "",
             "bad path \"" + path + "\": expected dot-separated keys and list indices, "
             "e.g. network.uplink.loss or turns.1.user");
    return std::nullopt;
  }
  o.path = std::move(*segments);
  const std::string value = text.substr(eq + 1);
  if (const std::optional<size_t> bad = agent::FirstInvalidUtf8(value)) {
    AddError(errors, text, path,
             "the value is not UTF-8 text: " + agent::InvalidUtf8Message(value, *bad) +
                 " at character " + std::to_string(agent::PositionOf(value, *bad).column));
    return std::nullopt;
  }
  try {
    o.value = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    AddError(errors, text, path, "the value is not valid YAML: " + e.msg);
    return std::nullopt;
  }
  return o;
}

std::optional<AppliedOverride> ApplyOverride(const Override& o, YAML::Node& root,
                                             std::vector<ScenarioError>* errors) {
  if (!root.IsMap() && !root.IsNull()) {
    AddError(errors, o.text, "", "the scenario is not a map, so nothing can be set in it");
    return std::nullopt;
  }
  AppliedOverride applied{"", OverrideLocation(o.text), {}};
  std::optional<YAML::Node> copy = WithValue(root, o, 0, "", &applied, errors);
  if (!copy) return std::nullopt;
  root = *copy;  // replaces the content of a bound node; binds an unbound one
  return applied;
}

std::vector<AppliedOverride> ApplyOverrides(const std::vector<std::string>& texts, YAML::Node& root,
                                            std::vector<ScenarioError>* errors) {
  std::vector<AppliedOverride> applied;
  for (const std::string& text : texts) {
    std::optional<Override> o = ParseOverride(text, errors);
    if (!o) continue;
    if (std::optional<AppliedOverride> a = ApplyOverride(*o, root, errors)) {
      applied.push_back(std::move(*a));
    }
  }
  return applied;
}

}  // namespace callsim::harness
