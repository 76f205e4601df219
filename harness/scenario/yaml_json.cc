#include "harness/scenario/yaml_json.h"

#include <cstdint>
#include <limits>

namespace callsim::harness {
namespace {

struct Converter {
  const YamlToJsonOptions& options;
  YamlIndex* index;
  size_t nodes = 0;
  std::string error;
  std::string error_path;

  bool Fail(const std::string& path, std::string message) {
    error = std::move(message);
    error_path = path;
    return false;
  }

  nlohmann::json Scalar(const YAML::Node& node) const {
    nlohmann::json v = ScalarToJson(node);
    if (options.clamp_to_int64 && v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      v = std::numeric_limits<int64_t>::max();
    }
    return v;
  }

  bool Convert(const Field& f, size_t depth, nlohmann::json* out) {
    // Indexed before the bounds are checked, so an error about this node has its line.
    if (index) index->insert_or_assign(f.path, f);
    if (++nodes > kMaxYamlNodes) {
      return Fail(f.path, "the scenario expands to more than " + std::to_string(kMaxYamlNodes) +
                              " values (YAML aliases?)");
    }
    if (depth > kMaxYamlDepth) {
      return Fail(f.path, "the scenario nests deeper than " + std::to_string(kMaxYamlDepth) +
                              " levels (an alias to an enclosing node?)");
    }
    const YAML::Node& v = f.value;
    if (v.IsMap()) return ConvertMap(f, depth, out);
    if (v.IsSequence()) {
      *out = nlohmann::json::array();
      size_t i = 0;
      for (auto it = v.begin(); it != v.end(); ++it, ++i) {
        nlohmann::json item;
        if (!Convert(Field{f.Child(std::to_string(i)), YAML::Node(), *it}, depth + 1, &item)) {
          return false;
        }
        out->push_back(std::move(item));
      }
      return true;
    }
    *out = v.IsScalar() ? Scalar(v) : nlohmann::json(nullptr);
    return true;
  }

  bool ConvertMap(const Field& f, size_t depth, nlohmann::json* out) {
    *out = nlohmann::json::object();
    for (auto it = f.value.begin(); it != f.value.end(); ++it) {
      if (!it->first.IsScalar() || out->contains(it->first.Scalar())) continue;
      nlohmann::json child;
      const Field entry{f.Child(it->first.Scalar()), it->first, it->second};
      if (!Convert(entry, depth + 1, &child)) return false;
      (*out)[it->first.Scalar()] = std::move(child);
    }
    return true;
  }
};

}  // namespace

nlohmann::json ScalarToJson(const YAML::Node& node) {
  if (!node.IsScalar()) return nullptr;
  const std::string& text = node.Scalar();
  if (IsQuoted(node)) return text;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (const std::optional<bool> b = ParseYamlBool(text)) return *b;
  if (const std::optional<int64_t> i = ParseYamlInt64(text)) return *i;
  if (const std::optional<uint64_t> u = ParseYamlUint64(text)) return *u;
  if (const std::optional<double> d = ParseYamlDouble(text)) return *d;
  return text;
}

bool YamlToJson(const YAML::Node& root, const std::string& path, const YamlToJsonOptions& options,
                nlohmann::json* out, YamlIndex* index, std::string* error,
                std::string* error_path) {
  Converter c{options, index, 0, {}, {}};
  if (c.Convert(Field{path, YAML::Node(), root}, 0, out)) return true;
  *error = c.error;
  *error_path = c.error_path;
  return false;
}

}  // namespace callsim::harness
