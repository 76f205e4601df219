#include "agent/tools/tool_schema.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "agent/text/regex.h"
#include "agent/tools/valijson_support.h"

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

constexpr std::string_view kNotPrefix = "Target should not validate against schema specified in 'not'";
constexpr std::string_view kRequiredPrefix = "Missing required property '";
constexpr std::string_view kAdditionalPrefix =
    "Object contains a property that could not be validated using 'properties' or "
    "'additionalProperties' constraints: '";

// Compiled once; the text is a constant tested with the module, so this cannot fail at run time.
const valijson::Schema& MetaSchema() {
  static const std::unique_ptr<valijson::Schema> meta = [] {
    auto schema = std::make_unique<valijson::Schema>();
    PopulateDraft7(Json::parse(kMetaSchemaText), schema.get());
    return schema;
  }();
  return *meta;
}

const Json& MetaSchemaDoc() {
  static const Json doc = Json::parse(kMetaSchemaText);
  return doc;
}

// Draft-07 keywords whose value is a subschema, a list of subschemas, or a map of names to
// subschemas; every other keyword's value is data (enum, const, default, examples, ...).
constexpr std::string_view kSchemaKeys[] = {"additionalItems", "additionalProperties", "contains",
                                            "propertyNames",   "if",   "then", "else", "not", "items"};
constexpr std::string_view kSchemaListKeys[] = {"allOf", "anyOf", "oneOf", "items"};
constexpr std::string_view kSchemaMapKeys[] = {"properties", "patternProperties", "definitions",
                                               "dependencies"};

bool OneOf(std::string_view key, std::span<const std::string_view> keys) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool IsSubschema(const Json& j) { return j.is_object() || j.is_boolean(); }

// Calls fn(child, key, name) for every direct subschema of `node`; `name` is the list index or the
// map key, or nullptr for a keyword whose value is the subschema itself. J is Json or const Json.
template <typename J, typename Fn>
void ForEachSubschema(J& node, Fn&& fn) {
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    auto& value = it.value();
    if (OneOf(key, kSchemaKeys) && IsSubschema(value)) fn(value, key, nullptr);
    if (OneOf(key, kSchemaListKeys) && value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string index = std::to_string(i);
        if (IsSubschema(value[i])) fn(value[i], key, &index);
      }
    }
    if (OneOf(key, kSchemaMapKeys) && value.is_object()) {
      for (auto sub = value.begin(); sub != value.end(); ++sub) {
        if (IsSubschema(sub.value())) fn(sub.value(), key, &sub.key());
      }
    }
  }
}

// The formats valijson 1.0 checks, each with std::regex on the string (which recurses once per
// character); callsim checks them itself with RE2 and hides them from valijson.
bool IsCheckedFormat(const Json& format) {
  return format.is_string() && (format == "date" || format == "time" || format == "date-time");
}

// valijson's date range check: February up to 29, the other months 30 or 31 as the calendar says.
bool DayInMonth(int month, int day) {
  if (month == 2) return day <= 29;
  const int limit = (month <= 7) == (month % 2 == 1) ? 31 : 30;
  return day <= limit;
}

// RFC 3339 full-date, partial-time + offset, and date-time, as valijson 1.0 accepts them (any
// number of year digits; seconds up to 60), except that an offset's sign is + or - only.
bool MatchesFormat(const std::string& format, std::string_view s) {
  static const Regex date("[0-9]+-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])");
  static const Regex time(
      "(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?"
      "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])");
  static const Regex date_time(
      "[0-9]+-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]"
      "(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?"
      "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])");
  const re2::StringPiece text(s.data(), s.size());
  int month = 0;
  int day = 0;
  if (format == "time") return time.FullMatch(s);
  const Regex& re = format == "date" ? date : date_time;
  return RE2::FullMatch(text, *re.re2(), &month, &day) && DayInMonth(month, day);
}

using Patterns = std::map<std::string, Regex, std::less<>>;

std::string PatternRefusal(const std::string& pattern, Patterns* patterns) {
  Regex re(pattern);
  if (!re.ok()) return "invalid pattern " + Json(pattern).dump() + ": " + re.error();
  patterns->emplace(pattern, std::move(re));
  return "";
}

// What the meta-schema lets through but callsim refuses: any "$ref" (valijson would fetch it or
// fail to resolve it), and patterns RE2 does not compile. `at` is left at the offending keyword.
// Compiles every pattern into `out` and notes whether any keyword depends on the strings of the
// arguments (`uses_text`).
std::string Refusal(const Json& node, int depth, std::vector<std::string>* at, Patterns* patterns,
                    bool* uses_text) {
  if (depth > kMaxSchemaDepth) return "nested deeper than 64 levels";
  if (!node.is_object()) return "";
  if (node.contains("$ref")) {
    at->push_back("$ref");
    return "$ref is not supported";
  }
  if (const auto p = node.find("pattern"); p != node.end() && p->is_string()) {
    *uses_text = true;
    if (std::string why = PatternRefusal(p->get<std::string>(), patterns); !why.empty()) {
      at->push_back("pattern");
      return why;
    }
  }
  if (const auto pp = node.find("patternProperties"); pp != node.end() && pp->is_object()) {
    *uses_text = true;
    for (const auto& [pattern, sub] : pp->items()) {
      if (std::string why = PatternRefusal(pattern, patterns); !why.empty()) {
        at->insert(at->end(), {"patternProperties", pattern});
        return why;
      }
    }
  }
  if (const auto f = node.find("format"); f != node.end() && IsCheckedFormat(*f)) {
    *uses_text = true;
  }
  std::string why;
  ForEachSubschema(node, [&](const Json& child, const std::string& key, const std::string* name) {
    if (!why.empty()) return;
    const size_t size = at->size();
    at->push_back(key);
    if (name) at->push_back(*name);
    why = Refusal(child, depth + 1, at, patterns, uses_text);
    if (why.empty()) at->resize(size);
  });
  return why;
}

// Every string in an argument object, values and property names alike. Iterative: the arguments
// come from the model and may nest as deep as their size allows.
std::set<std::string> StringsOf(const Json& instance) {
  std::set<std::string> out;
  std::vector<const Json*> stack{&instance};
  while (!stack.empty()) {
    const Json* j = stack.back();
    stack.pop_back();
    if (j->is_string()) out.insert(j->get<std::string>());
    if (j->is_array()) {
      for (const Json& item : *j) stack.push_back(&item);
    }
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        out.insert(it.key());
        stack.push_back(&it.value());
      }
    }
  }
  return out;
}

// {"not": {"enum": [the strings that fail]}}: for a string of the arguments, the same verdict as
// the pattern or format it replaces; other values pass, as they do a pattern or a format.
void AddStringCheck(const std::set<std::string>& strings, const std::function<bool(const std::string&)>& ok,
                    Json* node) {
  Json failing = Json::array();
  for (const std::string& s : strings) {
    if (!ok(s)) failing.push_back(s);
  }
  if (failing.empty()) return;
  Json& all = (*node)["allOf"];
  if (!all.is_array()) all = Json::array();
  all.push_back(Json{{"not", Json{{"enum", std::move(failing)}}}});
}

// `node` as valijson sees it when checking arguments whose strings are `strings`: without
// pattern, patternProperties and checked formats (valijson would run std::regex on the model's
// strings), each replaced by a check of the same meaning for exactly these strings, and without
// "id" (valijson reads it as a URI with std::regex; draft-07 ignores it).
Json Rewritten(const Json& node, const std::set<std::string>& strings, const Patterns& patterns) {
  if (!node.is_object()) return node;
  Json out = node;
  Json pattern_properties;
  if (const auto pp = out.find("patternProperties"); pp != out.end() && pp->is_object()) {
    pattern_properties = std::move(*pp);
    out.erase("patternProperties");
  }
  std::optional<std::string> pattern;
  if (const auto p = out.find("pattern"); p != out.end() && p->is_string()) {
    pattern = p->get<std::string>();
    out.erase("pattern");
  }
  std::string format;
  if (const auto f = out.find("format"); f != out.end() && IsCheckedFormat(*f)) {
    format = f->get<std::string>();
    out.erase("format");
  }
  if (const auto id = out.find("id"); id != out.end() && id->is_string()) out.erase("id");
  ForEachSubschema(out, [&](Json& child, const std::string&, const std::string*) {
    child = Rewritten(child, strings, patterns);
  });
  if (pattern) {
    const Regex& re = patterns.find(*pattern)->second;
    AddStringCheck(strings, [&](const std::string& s) { return re.Search(s); }, &out);
  }
  if (!format.empty()) {
    AddStringCheck(strings, [&](const std::string& s) { return MatchesFormat(format, s); }, &out);
  }
  if (pattern_properties.is_object()) {
    // A property whose name matches patterns must satisfy their schemas and is not additional:
    // exactly what listing it under properties with allOf those schemas means.
    for (const std::string& name : strings) {
      Json all = Json::array();
      for (const auto& [p, sub] : pattern_properties.items()) {
        if (patterns.find(p)->second.Search(name)) all.push_back(Rewritten(sub, strings, patterns));
      }
      if (all.empty()) continue;
      Json& properties = out["properties"];
      if (properties.contains(name)) all.insert(all.begin(), properties[name]);
      properties[name] = Json{{"allOf", std::move(all)}};
    }
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
// The first subschema of `schema`'s patternProperties whose pattern matches `name`, if any.
const Json* PatternSchema(const Json& schema, const std::string& name, const Patterns& patterns) {
  const auto pp = schema.find("patternProperties");
  if (pp == schema.end() || !pp->is_object()) return nullptr;
  for (auto it = pp->begin(); it != pp->end(); ++it) {
    const auto re = patterns.find(it.key());
    if (re != patterns.end() && re->second.Search(name)) return &it.value();
  }
  return nullptr;
}

struct Located {
  const Json* schema = nullptr;
  const Json* value = nullptr;
};

Located Locate(const Json& schema, const Json& instance, const std::vector<std::string>& segments,
               const Patterns& patterns) {
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
      } else if (const Json* by_pattern = PatternSchema(*s, seg, patterns)) {
        at.schema = by_pattern;
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
  const bool greater = d.starts_with("Expected number greater than");
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
    if (!d.starts_with(rule.prefix)) continue;
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

// What a string fails of the pattern or checked format of its subschema `s` (both are checked
// through {"not": {"enum": ...}}, see Rewritten); "" when it fails neither.
std::string StringCheckMessage(const Json* s, const Json* value, const Patterns& patterns) {
  if (!s || !value || !value->is_string()) return "";
  const std::string& text = value->get_ref<const std::string&>();
  if (const auto p = s->find("pattern"); p != s->end() && p->is_string()) {
    const auto re = patterns.find(p->get_ref<const std::string&>());
    if (re != patterns.end() && !re->second.Search(text)) return "expected text matching " + p->dump();
  }
  if (const auto f = s->find("format"); f != s->end() && IsCheckedFormat(*f)) {
    const std::string& format = f->get_ref<const std::string&>();
    if (!MatchesFormat(format, text)) return "expected a valid " + format;
  }
  return "";
}

// The message for one valijson error; "" for a wrapper.
std::string Message(std::string_view d, const Json* s, const Json* value, const Patterns& patterns) {
  if (IsWrapperMessage(d)) {
    return "";
  }
  if (d.starts_with(kRequiredPrefix)) return "missing required property " + Quoted(d, kRequiredPrefix);
  if (d.starts_with(kAdditionalPrefix)) return "unexpected property " + Quoted(d, kAdditionalPrefix);
  if (d.starts_with("Value type not permitted")) {
    if (s && s->contains("type")) {
      const Json& type = (*s)["type"];
      if (type.is_string()) return "expected " + type.get<std::string>();
      if (type.is_array()) return "expected " + Joined(type, " or ", true);
    }
    return value ? std::string("unexpected ") + TypeName(*value) : Plain(d);
  }
  if (d.starts_with("Expected number")) return NumberMessage(d, s);
  if (std::string count = CountMessage(d, s); !count.empty()) return count;
  if (s && d.starts_with("Failed to match against any enum") && s->contains("enum")) {
    return "expected one of " + Joined((*s)["enum"], ", ", false);
  }
  if (s && d.starts_with("Failed to match expected value set by 'const'") && s->contains("const")) {
    return "expected " + (*s)["const"].dump();
  }
  if (d.starts_with(kNotPrefix)) {
    if (std::string why = StringCheckMessage(s, value, patterns); !why.empty()) return why;
  }
  if (s && d.starts_with("Value should be a multiple of") && s->contains("multipleOf")) {
    return "expected a multiple of " + (*s)["multipleOf"].dump();
  }
  if (d.starts_with("Elements at indexes #")) return "expected unique items";
  return Plain(d);
}

// The first finding by (pointer, message): independent of the order valijson reports in.
struct Finding {
  std::vector<std::string> at;  // JSON pointer segments into the instance
  std::string message;
  std::string ToString() const { return Pointer(at) + ": " + message; }
};

Finding FirstFinding(const Json& schema, const Json& instance, valijson::ValidationResults& results,
                     const Patterns& patterns) {
  std::pair<std::string, std::string> best;
  std::vector<std::string> best_at;
  bool found = false;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    std::vector<std::string> segments = ContextSegments(e.context);
    const Located at = Locate(schema, instance, segments, patterns);
    std::string message = Message(e.description, at.schema, at.value, patterns);
    if (message.empty()) continue;
    std::pair<std::string, std::string> finding{Pointer(segments), std::move(message)};
    if (!found || finding < best) {
      best = std::move(finding);
      best_at = std::move(segments);
    }
    found = true;
  }
  if (!found) return Finding{{}, "does not match the schema"};
  return Finding{std::move(best_at), std::move(best.second)};
}

// `doc` as valijson sees it for arguments whose strings are `strings` (see Rewritten), compiled.
void PopulateFor(const Json& doc, const std::set<std::string>& strings, const Patterns& patterns,
                 valijson::Schema* out) {
  PopulateDraft7(Rewritten(doc, strings, patterns), out);
}

}  // namespace

struct ToolSchema::Compiled {
  // Every pattern of the schema (pattern and patternProperties keys), compiled once.
  Patterns patterns;
  // True when a keyword's verdict depends on the strings of the arguments (pattern,
  // patternProperties, a checked format): valijson then gets a schema rewritten for each argument
  // object. Otherwise `fixed` serves them all.
  bool uses_text = false;
  valijson::Schema fixed;
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
    Finding finding = FirstFinding(MetaSchemaDoc(), schema, results, Patterns{});
    error_ = "not a draft-07 schema: " + finding.ToString();
    error_at_ = std::move(finding.at);
    return;
  }
  auto compiled = std::make_unique<Compiled>();
  if (std::string why = Refusal(schema, 0, &error_at_, &compiled->patterns, &compiled->uses_text);
      !why.empty()) {
    error_ = why;
    return;
  }
  try {
    // With no strings to check, every string keyword drops out: what remains must compile too.
    PopulateFor(schema, {}, compiled->patterns, &compiled->fixed);
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
    valijson::Schema for_args;
    if (compiled_->uses_text) PopulateFor(doc_, StringsOf(args), compiled_->patterns, &for_args);
    const valijson::Schema& schema = compiled_->uses_text ? for_args : compiled_->fixed;
    if (validator.validate(schema, target, &results)) return "";
    return FirstFinding(doc_, args, results, compiled_->patterns).ToString();
  } catch (const std::exception& e) {
    return std::string("/: could not be checked (") + e.what() + ")";
  }
}

}  // namespace callsim::agent
