#include "fakes/llm/llm_script.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "agent/runtime/input_file.h"
#include "agent/text/utf8.h"
#include "agent/text/words.h"

namespace callsim::fakes {
namespace {

using Json = nlohmann::ordered_json;  // keeps the script's key order in the arguments

// Bounds on tool-call arguments: aliases can make a small file expand into a huge (or cyclic) tree.
constexpr int kMaxArgsDepth = 32;
constexpr int kMaxArgsNodes = 10000;

// Collects the first error with its position; every parse step returns false after it.
struct ParseContext {
  std::string name;
  std::string error;
  int args_nodes = 0;

  bool Fail(const YAML::Mark& mark, std::string_view message) {
    if (error.empty()) {
      const int line = mark.is_null() ? 1 : mark.line + 1;  // yaml-cpp marks are 0-based
      const int col = mark.is_null() ? 1 : mark.column + 1;
      error = name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
              std::string(message);
    }
    return false;
  }
};

bool IsOneOf(std::string_view key, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (key == a) return true;
  }
  return false;
}

// Checks that `node` is a map with distinct string keys, each in `allowed` (empty: any key, and
// null values allowed). yaml-cpp 0.7 keeps duplicate keys silently (lookups see the first), so
// duplicates are found here. A missing value is reported at its key: yaml-cpp marks a null value
// at the token after it, often on the next line.
bool CheckMap(const YAML::Node& node, std::string_view what,
              std::initializer_list<std::string_view> allowed, ParseContext& ctx) {
  if (!node.IsMap()) return ctx.Fail(node.Mark(), std::string(what) + " must be a map");
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // by value: the iterator yields a temporary pair
    if (!key.IsScalar()) return ctx.Fail(key.Mark(), "a key must be a string");
    const std::string& k = key.Scalar();
    for (const std::string& s : seen) {
      if (s == k) return ctx.Fail(key.Mark(), "duplicate key `" + k + "` in " + std::string(what));
    }
    if (allowed.size() > 0 && !IsOneOf(k, allowed)) {
      return ctx.Fail(key.Mark(), "unknown key `" + k + "` in " + std::string(what));
    }
    if (allowed.size() > 0 && it->second.IsNull()) {
      return ctx.Fail(key.Mark(), "`" + k + "` has no value");
    }
    seen.push_back(k);
  }
  return true;
}

bool ParseString(const YAML::Node& node, std::string_view what, std::string* out,
                 ParseContext& ctx) {
  if (!node.IsScalar()) return ctx.Fail(node.Mark(), std::string(what) + " must be a string");
  *out = node.Scalar();
  return true;
}

// A list of phrases, each normalized like the user text so that they can match it.
bool ParsePhrases(const YAML::Node& node, std::string_view what, std::vector<std::string>* out,
                  ParseContext& ctx) {
  if (!node.IsSequence() || node.size() == 0) {
    return ctx.Fail(node.Mark(), std::string(what) + " must be a non-empty list of strings");
  }
  for (const YAML::Node& item : node) {
    std::string raw;
    if (!ParseString(item, std::string(what) + " entry", &raw, ctx)) return false;
    std::string phrase = agent::NormalizeText(raw);
    if (phrase.empty()) return ctx.Fail(item.Mark(), "phrase `" + raw + "` has no words");
    out->push_back(std::move(phrase));
  }
  return true;
}

bool ParseRegex(const YAML::Node& node, LlmCondition* out, ParseContext& ctx) {
  if (!ParseString(node, "`matches`", &out->matches_source, ctx)) return false;
  if (out->matches_source.empty()) return ctx.Fail(node.Mark(), "`matches` must not be empty");
  agent::Regex re(out->matches_source, agent::RegexOptions{.case_insensitive = true});
  if (!re.ok()) {
    return ctx.Fail(node.Mark(),
                    "invalid regex `" + out->matches_source + "` (RE2 syntax): " + re.error());
  }
  out->matches = std::move(re);
  return true;
}

bool ParseWhen(const YAML::Node& node, LlmCondition* out, ParseContext& ctx) {
  if (!CheckMap(node, "`when`", {"contains_any", "contains_all", "matches", "after_tool"}, ctx)) {
    return false;
  }
  if (node["contains_any"] &&
      !ParsePhrases(node["contains_any"], "`contains_any`", &out->contains_any, ctx)) {
    return false;
  }
  if (node["contains_all"] &&
      !ParsePhrases(node["contains_all"], "`contains_all`", &out->contains_all, ctx)) {
    return false;
  }
  if (node["matches"] && !ParseRegex(node["matches"], out, ctx)) return false;
  if (node["after_tool"]) {
    if (!ParseString(node["after_tool"], "`after_tool`", &out->after_tool, ctx)) return false;
    if (out->after_tool.empty()) return ctx.Fail(node["after_tool"].Mark(), "empty tool name");
  }
  return true;
}

// A plain (unquoted) scalar resolved as YAML 1.2's core schema does; quoted ones stay strings.
Json PlainScalarToJson(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);  // from_chars rejects a leading '+'
  const char* end = s.data() + s.size();
  int64_t i = 0;
  auto ir = std::from_chars(begin, end, i);
  if (ir.ec == std::errc() && ir.ptr == end) return i;
  double d = 0;
  auto dr = std::from_chars(begin, end, d);  // locale-independent, unlike strtod
  const bool number_syntax = s.find_first_of("0123456789") != std::string::npos &&
                             s.find_first_not_of("+-.0123456789eE") == std::string::npos;
  if (dr.ec == std::errc() && dr.ptr == end && number_syntax && std::isfinite(d)) return d;
  return s;
}

bool ToJson(const YAML::Node& node, int depth, Json* out, ParseContext& ctx) {
  if (depth > kMaxArgsDepth) return ctx.Fail(node.Mark(), "`args` nested too deeply");
  if (++ctx.args_nodes > kMaxArgsNodes) return ctx.Fail(node.Mark(), "`args` too large");
  if (node.IsNull()) {
    *out = nullptr;
  } else if (node.IsScalar()) {
    *out = node.Tag() == "?" ? PlainScalarToJson(node.Scalar()) : Json(node.Scalar());
  } else if (node.IsSequence()) {
    *out = Json::array();
    for (const YAML::Node& item : node) {
      Json v;
      if (!ToJson(item, depth + 1, &v, ctx)) return false;
      out->push_back(std::move(v));
    }
  } else {
    if (!CheckMap(node, "`args`", {}, ctx)) return false;
    *out = Json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      Json v;
      if (!ToJson(it->second, depth + 1, &v, ctx)) return false;
      const std::string key = it->first.Scalar();
      (*out)[key] = std::move(v);
    }
  }
  return true;
}

bool ParseToolCall(const YAML::Node& node, LlmToolCall* out, ParseContext& ctx) {
  if (!CheckMap(node, "`tool_call`", {"name", "args"}, ctx)) return false;
  if (!node["name"]) return ctx.Fail(node.Mark(), "`tool_call` needs a `name`");
  if (!ParseString(node["name"], "`name`", &out->name, ctx)) return false;
  if (out->name.empty()) return ctx.Fail(node["name"].Mark(), "empty tool name");
  const YAML::Node args = node["args"];
  if (!args) {
    out->arguments_json = "{}";
  } else if (args.IsScalar()) {
    out->arguments_json = args.Scalar();  // verbatim, maybe deliberately malformed
  } else if (args.IsMap() || args.IsSequence()) {
    Json json;
    if (!ToJson(args, 0, &json, ctx)) return false;
    out->arguments_json = json.dump();  // compact: no spaces
  } else {
    return ctx.Fail(args.Mark(), "`args` must be a map, a list or a string");
  }
  return true;
}

// Only whitespace: `say` would stream no tokens (see SplitLlmTokens in rule_llm.h).
bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool ParseRule(const YAML::Node& node, LlmRule* out, ParseContext& ctx) {
  if (!CheckMap(node, "a rule", {"when", "say", "tool_call"}, ctx)) return false;
  out->line = node.Mark().line + 1;
  if (node["when"]) {
    out->when.emplace();
    if (!ParseWhen(node["when"], &*out->when, ctx)) return false;
  }
  if (node["say"] && !ParseString(node["say"], "`say`", &out->say, ctx)) return false;
  if (node["tool_call"]) {
    out->tool_call.emplace();
    if (!ParseToolCall(node["tool_call"], &*out->tool_call, ctx)) return false;
  }
  if (IsBlank(out->say) && !out->tool_call) {
    return ctx.Fail(node.Mark(), "a rule needs a non-empty `say`, a `tool_call` or both");
  }
  return true;
}

bool ParseRoot(const YAML::Node& root, LlmScript* out, ParseContext& ctx) {
  if (!root.IsMap()) return ctx.Fail(root.Mark(), "the script must be a map with `rules`");
  if (!CheckMap(root, "the script", {"rules"}, ctx)) return false;
  const YAML::Node rules = root["rules"];
  if (!rules) return ctx.Fail(root.Mark(), "the script needs `rules`");
  if (!rules.IsSequence()) return ctx.Fail(rules.Mark(), "`rules` must be a list");
  for (const YAML::Node& item : rules) {
    LlmRule rule;
    if (!ParseRule(item, &rule, ctx)) return false;
    out->rules.push_back(std::move(rule));
  }
  return true;
}

}  // namespace

bool ParseLlmScript(const std::string& yaml_text, const std::string& name_for_errors,
                    LlmScript* out, std::string* error) {
  ParseContext ctx;
  ctx.name = name_for_errors;
  if (const std::optional<std::string> bad = agent::Utf8FileError(yaml_text, name_for_errors)) {
    *error = *bad + "; a script must be UTF-8 text";
    return false;
  }
  LlmScript script;
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    ParseRoot(root, &script, ctx);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp says only "bad file"
    ctx.Fail(e.mark, "nesting too deep");
  } catch (const YAML::Exception& e) {
    ctx.Fail(e.mark, e.msg);
  } catch (const std::exception& e) {
    ctx.Fail(YAML::Mark::null_mark(), e.what());
  }
  if (!ctx.error.empty()) {
    *error = ctx.error;
    return false;
  }
  *out = std::move(script);
  return true;
}

bool LoadLlmScript(const std::string& path, LlmScript* out, std::string* error) {
  std::string text;
  std::string problem;
  if (!agent::ReadRegularFile(path, kMaxLlmScriptBytes, &text, &problem)) {
    *error = path + ": cannot read the LLM script: " + problem;
    return false;
  }
  return ParseLlmScript(text, path, out, error);
}

}  // namespace callsim::fakes
