#include "agent/tools/tool_schema.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <regex>
#include <string_view>
#include <utility>
#include <vector>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace callsim::agent {
namespace {

using Json = nlohmann::json;

// The JSON Schema draft-07 meta-schema, without "$id" and "$schema" so that its "$ref"s resolve
// inside this document and never name a remote one.
constexpr std::string_view kMetaSchemaText = R"json({
  "definitions": {
    "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "nonNegativeIntegerDefault0": {
      "allOf": [{"$ref": "#/definitions/nonNegativeInteger"}, {"default": 0}]},
    "simpleTypes": {
      "enum": ["array", "boolean", "integer", "null", "number", "object", "string"]},
    "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": true,
                    "default": []}
  },
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string", "format": "uri-reference"},
    "$schema": {"type": "string", "format": "uri"},
    "$ref": {"type": "string", "format": "uri-reference"},
    "$comment": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "default": true,
    "readOnly": {"type": "boolean", "default": false},
    "examples": {"type": "array", "items": true},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/nonNegativeInteger"},
    "minLength": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "pattern": {"type": "string", "format": "regex"},
    "additionalItems": {"$ref": "#"},
    "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}], "default": true},
    "maxItems": {"$ref": "#/definitions/nonNegativeInteger"},
    "minItems": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "uniqueItems": {"type": "boolean", "default": false},
    "contains": {"$ref": "#"},
    "maxProperties": {"$ref": "#/definitions/nonNegativeInteger"},
    "minProperties": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "required": {"$ref": "#/definitions/stringArray"},
    "additionalProperties": {"$ref": "#"},
    "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "properties": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "patternProperties": {"type": "object", "additionalProperties": {"$ref": "#"},
                          "propertyNames": {"format": "regex"}, "default": {}},
    "dependencies": {"type": "object", "additionalProperties": {
      "anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/stringArray"}]}},
    "propertyNames": {"$ref": "#"},
    "const": true,
    "enum": {"type": "array", "items": true},
    "type": {"anyOf": [
      {"$ref": "#/definitions/simpleTypes"},
      {"type": "array", "items": {"$ref": "#/definitions/simpleTypes"}, "minItems": 1,
       "uniqueItems": true}]},
    "format": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "allOf": {"$ref": "#/definitions/schemaArray"},
    "anyOf": {"$ref": "#/definitions/schemaArray"},
    "oneOf": {"$ref": "#/definitions/schemaArray"},
    "not": {"$ref": "#"}
  },
  "default": true
})json";

// Declared schemas are configuration, but a bound keeps the refusal walk's recursion small.
constexpr int kMaxSchemaDepth = 64;

// valijson's messages that only say "something below failed"; the something is reported too.
constexpr std::string_view kWrappers[] = {
    "Failed to validate against schema associated with property name",
    "Failed to validate item #",
    "Failed to validate against additional properties schema",
    "Failed to validate against child schema",
    "Failed to validate against schema associated with pattern",
};

constexpr std::string_view kRequiredPrefix = "Missing required property '";
constexpr std::string_view kAdditionalPrefix =
    "Object contains a property that could not be validated using 'properties' or "
    "'additionalProperties' constraints: '";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void Populate(const Json& doc, valijson::Schema* out) {
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  parser.populateSchema(adapter, *out);
}

// Compiled once; the text is a constant tested with the module, so this cannot fail at run time.
const valijson::Schema& MetaSchema() {
  static const std::unique_ptr<valijson::Schema> meta = [] {
    auto schema = std::make_unique<valijson::Schema>();
    Populate(Json::parse(kMetaSchemaText), schema.get());
    return schema;
  }();
  return *meta;
}

const Json& MetaSchemaDoc() {
  static const Json doc = Json::parse(kMetaSchemaText);
  return doc;
}

bool CompilesAsRegex(const std::string& pattern) {
  try {
    std::regex re(pattern);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// What the meta-schema lets through but valijson cannot take without aborting or throwing later:
// any "$ref" (it would fetch or fail to resolve), and patterns std::regex does not compile.
std::string Refusal(const Json& node, int depth) {
  if (depth > kMaxSchemaDepth) return "nested deeper than 64 levels";
  if (node.is_array()) {
    for (const Json& item : node) {
      if (std::string why = Refusal(item, depth + 1); !why.empty()) return why;
    }
    return "";
  }
  if (!node.is_object()) return "";
  for (const auto& [key, value] : node.items()) {
    if (key == "$ref") return "$ref is not supported";
    if (key == "pattern" && value.is_string() && !CompilesAsRegex(value.get<std::string>())) {
      return "invalid pattern " + value.dump();
    }
    if (key == "patternProperties" && value.is_object()) {
      for (const auto& [pattern, sub] : value.items()) {
        if (!CompilesAsRegex(pattern)) return "invalid pattern " + Json(pattern).dump();
      }
    }
    if (std::string why = Refusal(value, depth + 1); !why.empty()) return why;
  }
  return "";
}

// valijson's context {"<root>", "[list]", "[1]"} -> {"list", "1"}.
std::vector<std::string> Segments(const std::vector<std::string>& context) {
  std::vector<std::string> out;
  for (const std::string& c : context) {
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']') out.push_back(c.substr(1, c.size() - 2));
  }
  return out;
}

// RFC 6901, except that the root is "/" (it reads better in a message than "").
std::string Pointer(const std::vector<std::string>& segments) {
  if (segments.empty()) return "/";
  std::string out;
  for (const std::string& s : segments) {
    out += '/';
    for (char c : s) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

bool ParseIndex(const std::string& s, size_t* index) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *index);
  return ec == std::errc() && end == s.data() + s.size();
}

// What sits at `segments`: the value, and the subschema that describes it, found by following
// properties, additionalProperties and items along the instance. Either is nullptr when there is
// none (or when a rule such as anyOf would be needed to say which subschema applies).
struct Located {
  const Json* schema = nullptr;
  const Json* value = nullptr;
};

Located Locate(const Json& schema, const Json& instance, const std::vector<std::string>& segments) {
  Located at{&schema, &instance};
  for (const std::string& seg : segments) {
    const Json* s = at.schema && at.schema->is_object() ? at.schema : nullptr;
    const Json* v = at.value;
    at = Located{};
    size_t index = 0;
    if (v && v->is_object()) {
      const auto child = v->find(seg);
      if (child != v->end()) at.value = &*child;
      if (!s) continue;
      const auto props = s->find("properties");
      const auto extra = s->find("additionalProperties");
      if (props != s->end() && props->is_object() && props->contains(seg)) {
        at.schema = &(*props)[seg];
      } else if (extra != s->end() && extra->is_object()) {
        at.schema = &*extra;
      }
    } else if (v && v->is_array() && ParseIndex(seg, &index)) {
      if (index < v->size()) at.value = &(*v)[index];
      if (!s) continue;
      const auto items = s->find("items");
      if (items != s->end() && items->is_object()) at.schema = &*items;
      if (items != s->end() && items->is_array() && index < items->size()) {
        at.schema = &(*items)[index];
      }
    }
  }
  if (at.schema && !at.schema->is_object()) at.schema = nullptr;
  return at;
}

const char* TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::null:
      return "null";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    default:
      return "number";
  }
}

std::string Joined(const Json& values, std::string_view separator, bool bare_strings) {
  std::string out;
  for (const Json& v : values) {
    if (!out.empty()) out += separator;
    out += bare_strings && v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

// `schema[key]` as text ("0", "2.5", "13"), or `fallback` when it is missing.
std::string Bound(const Json* schema, const char* key, const std::string& fallback) {
  if (!schema) return fallback;
  const auto it = schema->find(key);
  return it != schema->end() ? it->dump() : fallback;
}

std::string NumberMessage(std::string_view d, const Json* s) {
  const bool greater = StartsWith(d, "Expected number greater than");
  const bool inclusive = d.find("or equal to") != std::string_view::npos;
  const char* key = greater ? (inclusive ? "minimum" : "exclusiveMinimum")
                            : (inclusive ? "maximum" : "exclusiveMaximum");
  const std::string op = std::string(greater ? ">" : "<") + (inclusive ? "=" : "");
  // valijson prints the bound with std::to_string ("0.000000"): take it from the schema instead.
  const std::string fallback(d.substr(d.rfind(' ') + 1));
  return "expected a number " + op + " " + Bound(s, key, fallback);
}

// "...no fewer than 13 characters..." -> "expected at least 13 characters".
std::string CountMessage(std::string_view d, const Json* s) {
  struct Rule {
    std::string_view prefix;
    const char* key;
    const char* words;
  };
  static constexpr Rule kRules[] = {
      {"String should be no fewer than", "minLength", "at least %s characters"},
      {"String should be no more than", "maxLength", "at most %s characters"},
      {"Array should contain no fewer than", "minItems", "at least %s items"},
      {"Array should contain no more than", "maxItems", "at most %s items"},
      {"Object should have no fewer than", "minProperties", "at least %s properties"},
      {"Object should have no more than", "maxProperties", "at most %s properties"},
  };
  for (const Rule& rule : kRules) {
    if (!StartsWith(d, rule.prefix)) continue;
    std::string words = rule.words;
    words.replace(words.find("%s"), 2, Bound(s, rule.key, "?"));
    return "expected " + words;
  }
  return "";
}

std::string Quoted(std::string_view d, std::string_view prefix) {
  std::string_view rest = d.substr(prefix.size());
  if (rest.size() >= 2 && rest.substr(rest.size() - 2) == "'.") rest.remove_suffix(2);
  return std::string(rest);
}

// valijson's own words, as a message: "Failed to ... constraint." -> "failed to ... constraint".
std::string Plain(std::string_view d) {
  std::string out(d);
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

// The message for one valijson error; "" for a wrapper.
std::string Message(std::string_view d, const Json* s, const Json* value) {
  if (std::any_of(std::begin(kWrappers), std::end(kWrappers),
                  [&](std::string_view w) { return StartsWith(d, w); })) {
    return "";
  }
  if (StartsWith(d, kRequiredPrefix)) return "missing required property " + Quoted(d, kRequiredPrefix);
  if (StartsWith(d, kAdditionalPrefix)) return "unexpected property " + Quoted(d, kAdditionalPrefix);
  if (StartsWith(d, "Value type not permitted")) {
    if (s && s->contains("type")) {
      const Json& type = (*s)["type"];
      if (type.is_string()) return "expected " + type.get<std::string>();
      if (type.is_array()) return "expected " + Joined(type, " or ", true);
    }
    return value ? std::string("unexpected ") + TypeName(*value) : Plain(d);
  }
  if (StartsWith(d, "Expected number")) return NumberMessage(d, s);
  if (std::string count = CountMessage(d, s); !count.empty()) return count;
  if (s && StartsWith(d, "Failed to match against any enum") && s->contains("enum")) {
    return "expected one of " + Joined((*s)["enum"], ", ", false);
  }
  if (s && StartsWith(d, "Failed to match expected value set by 'const'") && s->contains("const")) {
    return "expected " + (*s)["const"].dump();
  }
  if (s && StartsWith(d, "Failed to match regex") && s->contains("pattern")) {
    return "expected text matching " + (*s)["pattern"].dump();
  }
  if (s && StartsWith(d, "Value should be a multiple of") && s->contains("multipleOf")) {
    return "expected a multiple of " + (*s)["multipleOf"].dump();
  }
  if (StartsWith(d, "Elements at indexes #")) return "expected unique items";
  return Plain(d);
}

// The first finding by (pointer, message): independent of the order valijson reports in.
std::string FirstFinding(const Json& schema, const Json& instance,
                         valijson::ValidationResults& results) {
  std::pair<std::string, std::string> best;
  bool found = false;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    const std::vector<std::string> segments = Segments(e.context);
    const Located at = Locate(schema, instance, segments);
    std::string message = Message(e.description, at.schema, at.value);
    if (message.empty()) continue;
    std::pair<std::string, std::string> finding{Pointer(segments), std::move(message)};
    if (!found || finding < best) best = std::move(finding);
    found = true;
  }
  return found ? best.first + ": " + best.second : "/: does not match the schema";
}

}  // namespace

struct ToolSchema::Compiled {
  valijson::Schema schema;
};

ToolSchema::ToolSchema(const nlohmann::json& schema) : doc_(schema) {
  if (!schema.is_object()) {
    error_ = "not a JSON object";
    return;
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(schema);
  if (!validator.validate(MetaSchema(), target, &results)) {
    error_ = "not a draft-07 schema: " + FirstFinding(MetaSchemaDoc(), schema, results);
    return;
  }
  if (std::string why = Refusal(schema, 0); !why.empty()) {
    error_ = why;
    return;
  }
  try {
    auto compiled = std::make_unique<Compiled>();
    Populate(schema, &compiled->schema);
    compiled_ = std::move(compiled);
  } catch (const std::exception& e) {
    error_ = std::string("valijson: ") + e.what();
  }
}

ToolSchema::~ToolSchema() = default;

std::string ToolSchema::Check(const nlohmann::json& args) const {
  if (!compiled_) return "/: unusable schema (" + error_ + ")";
  try {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(args);
    if (validator.validate(compiled_->schema, target, &results)) return "";
    return FirstFinding(doc_, args, results);
  } catch (const std::exception& e) {
    return std::string("/: could not be checked (") + e.what() + ")";
  }
}

}  // namespace callsim::agent
