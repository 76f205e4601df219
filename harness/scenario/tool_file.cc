#include "harness/scenario/tool_file.h"

#include <charconv>
#include <set>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "agent/runtime/input_file.h"
#include "agent/text/utf8.h"
#include "agent/tools/tool_schema.h"
#include "harness/scenario/yaml_json.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {
namespace {

const NumberRange kToolTimeoutMs{0, 600'000, true};

// The field that segments `at[i..]` (map keys and list indexes, as ToolSchema::error_at gives them)
// lead to from `f`, or the deepest one of them found. Recursive: a schema nests at most 64 deep.
Field Descend(const Field& f, const std::vector<std::string>& at, size_t i) {
  if (i == at.size()) return f;
  const std::string& seg = at[i];
  if (f.value.IsMap()) {
    for (auto it = f.value.begin(); it != f.value.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == seg) {
        return Descend(Field{f.Child(seg), it->first, it->second}, at, i + 1);
      }
    }
  } else if (f.value.IsSequence()) {
    size_t index = 0;
    const auto [end, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
    if (ec == std::errc() && end == seg.data() + seg.size() && index < f.value.size()) {
      return Descend(Field{f.Child(seg), YAML::Node(), f.value[index]}, at, i + 1);
    }
  }
  return f;
}

// A schema the agent could not use ($ref, a wrong type name, a pattern RE2 refuses) is an input
// error here, reported where it is, rather than a blocked tool call at run time.
void CheckSchema(ParseContext& ctx, const Field& params, const nlohmann::json& schema) {
  const agent::ToolSchema compiled(schema);
  if (compiled.ok()) return;
  const Field at = Descend(params, compiled.error_at(), 0);
  ctx.Error(at.path, at.mark(), "unusable JSON Schema: " + compiled.error());
}

bool ParseOneTool(ParseContext& ctx, const Field& f, agent::ToolSpec* tool) {
  MapReader m(ctx, f, {"name", "description", "backend", "destructive", "timeout_ms", "parameters"});
  if (!m.is_map()) return false;
  if (m.Require("name")) m.String("name", &tool->name);
  if (m.Require("description")) m.String("description", &tool->description);
  if (m.Require("backend")) m.String("backend", &tool->backend);
  m.Bool("destructive", &tool->destructive);
  m.Number("timeout_ms", kToolTimeoutMs, &tool->timeout_ms);
  if (std::optional<Field> params = m.Get("parameters")) {
    std::string error;
    std::string error_path;
    if (!YamlToJson(params->value, params->path, YamlToJsonOptions{true}, &tool->parameters,
                    nullptr, &error, &error_path)) {
      ctx.Error(error_path, params->mark(), error);
    } else if (!tool->parameters.is_object()) {
      ctx.Error(params->path, params->mark(), "expected a JSON Schema object");
    } else {
      CheckSchema(ctx, *params, tool->parameters);
    }
  }
  return true;
}

}  // namespace

bool ParseToolFile(const std::string& yaml_text, const std::string& name_for_errors,
                   std::vector<agent::ToolSpec>* out, std::string* error) {
  if (const std::optional<std::string> bad = agent::Utf8FileError(yaml_text, name_for_errors)) {
    *error = *bad + "; a tool file must be UTF-8 text";
    return false;
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    // yaml-cpp says only "bad file" when its recursion guard trips.
    const bool too_deep = dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr;
    *error = name_for_errors + ":" + std::to_string(e.mark.line + 1) + ":" +
             std::to_string(e.mark.column + 1) + ": " +
             (too_deep ? "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels"
                       : e.msg);
    return false;
  }
  std::vector<ScenarioError> errors;
  ParseContext ctx(name_for_errors, {}, &errors);
  const Field top{"", YAML::Node(), root};
  if (!root.IsSequence()) {
    ctx.Error("", top.mark(), "expected a list of tools, got " + Describe(root));
  } else if (root.size() > kMaxDeclaredTools) {
    ctx.Error("", top.mark(), "expected at most " + std::to_string(kMaxDeclaredTools) + " tools");
  } else {
    std::set<std::string> names;
    size_t index = 0;
    for (auto it = root.begin(); it != root.end(); ++it, ++index) {
      const Field f{std::to_string(index), YAML::Node(), *it};
      agent::ToolSpec tool;
      if (!ParseOneTool(ctx, f, &tool)) continue;
      if (!tool.name.empty() && !names.insert(tool.name).second) {
        ctx.Error(f.Child("name"), f.mark(), "tool " + tool.name + " is declared twice");
      }
      out->push_back(std::move(tool));
    }
  }
  if (errors.empty()) return true;
  *error = errors.front().ToString();
  return false;
}

bool LoadToolFile(const std::string& path, std::vector<agent::ToolSpec>* out, std::string* error) {
  std::string text;
  std::string problem;
  if (!agent::ReadRegularFile(path, kMaxToolFileBytes, &text, &problem)) {
    *error = path + ": cannot read the tool file: " + problem;
    return false;
  }
  return ParseToolFile(text, path, out, error);
}

}  // namespace callsim::harness
