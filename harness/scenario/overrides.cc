#include "harness/scenario/overrides.h"

#include <charconv>

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

// A list index: digits only. Huge values fail to parse and read as out of range.
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
  try {
    o.value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    AddError(errors, text, path, "the value is not valid YAML: " + e.msg);
    return std::nullopt;
  }
  return o;
}

std::optional<std::string> ApplyOverride(const Override& o, YAML::Node& root,
                                         std::vector<ScenarioError>* errors) {
  if (!root.IsMap() && !root.IsNull()) {
    AddError(errors, o.text, "", "the scenario is not a map, so nothing can be set in it");
    return std::nullopt;
  }
  // Failures happen only at existing lists and scalars, before anything is created, so a failed
  // override leaves the tree unchanged. Node::reset rebinds `node` (operator= would overwrite).
  YAML::Node node = root;
  std::string done;
  for (size_t i = 0; i < o.path.size(); ++i) {
    const std::string& segment = o.path[i];
    const bool last = i + 1 == o.path.size();
    if (node.IsSequence()) {
      const std::optional<size_t> index = ParseIndex(segment);
      if (!AllDigits(segment)) {
        AddError(errors, o.text, done, "is a list; expected an index, got " + segment);
        return std::nullopt;
      }
      if (!index || *index >= node.size()) {
        AddError(errors, o.text, Join(done, segment),
                 "index " + segment + " out of range (" + done + " has " +
                     std::to_string(node.size()) + " items, indexed from 0)");
        return std::nullopt;
      }
      done = Join(done, std::to_string(*index));
      if (last) {
        node[*index] = YAML::Clone(o.value);
      } else {
        node.reset(node[*index]);
      }
    } else if (node.IsMap() || node.IsNull() || !node.IsDefined()) {
      done = Join(done, segment);
      if (last) {
        node[segment] = YAML::Clone(o.value);
      } else {
        node.reset(node[segment]);
      }
    } else {
      AddError(errors, o.text, done, "is a scalar, so it has no field " + segment);
      return std::nullopt;
    }
  }
  return done;
}

std::vector<AppliedOverride> ApplyOverrides(const std::vector<std::string>& texts, YAML::Node& root,
                                            std::vector<ScenarioError>* errors) {
  std::vector<AppliedOverride> applied;
  for (const std::string& text : texts) {
    std::optional<Override> o = ParseOverride(text, errors);
    if (!o) continue;
    std::optional<std::string> path = ApplyOverride(*o, root, errors);
    if (path) applied.push_back({std::move(*path), OverrideLocation(text)});
  }
  return applied;
}

}  // namespace callsim::harness
