#include "harness/scenario/schema_check.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string_view>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "agent/tools/valijson_support.h"
#include "harness/scenario/schema_text.h"

namespace callsim::harness {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;  // keeps the schema file's key order for messages

// The keywords of rules across fields. In the schema they only ever appear inside "allOf" items
// that carry a description of the rule (and inside those items).
constexpr std::string_view kRuleKeywords[] = {"allOf", "anyOf", "oneOf", "not",
                                              "if",    "then",  "else",  "dependencies"};

// Valijson's messages for a failed rule (its wrappers of failed subschemas), by prefix.
constexpr std::string_view kRuleFailures[] = {
    "Failed to validate against any child schemas allowed by oneOf",
    "Failed to validate against exactly one child schema",
    "Failed to validate against any schemas allowed by anyOf",
    "Failed to validate against a conditional schema",
    "Target should not validate against schema specified in 'not'",
    "Missing dependency",
    "Failed to validate against dependent schema",
};

template <size_t N>
bool StartsWithAny(std::string_view s, const std::string_view (&prefixes)[N]) {
  return std::any_of(std::begin(prefixes), std::end(prefixes),
                     [&](std::string_view p) { return s.starts_with(p); });
}

// The schema without its rules: types, ranges, enums, keys and list sizes only. Validating
// against it gives exactly the per-value findings; the full schema's extra failures are rules.
void StripRules(Json* schema) {
  if (!schema->is_object()) return;
  for (std::string_view k : kRuleKeywords) schema->erase(std::string(k));
  for (const char* map_of_schemas : {"properties", "definitions"}) {
    if (auto it = schema->find(map_of_schemas); it != schema->end() && it->is_object()) {
      for (auto& [name, sub] : it->items()) StripRules(&sub);
    }
  }
  for (const char* single : {"items", "additionalProperties"}) {
    if (auto it = schema->find(single); it != schema->end()) StripRules(&*it);
  }
}

struct CompiledSchema {
  OrderedJson doc;
  valijson::Schema full;
  valijson::Schema shape;
};

// Parsed once. The text is compiled in and tested, so a failure here is a build defect; it
// throws (std::exception) rather than pretending every scenario is valid.
const CompiledSchema& Compiled() {
  static const std::unique_ptr<CompiledSchema> compiled = [] {
    auto c = std::make_unique<CompiledSchema>();
    c->doc = OrderedJson::parse(ScenarioSchemaText());
    Json full = Json::parse(ScenarioSchemaText());
    agent::PopulateDraft7(full, &c->full);
    StripRules(&full);
    agent::PopulateDraft7(full, &c->shape);
    return c;
  }();
  return *compiled;
}

std::string Dotted(const std::vector<std::string>& segments) {
  std::string path;
  for (const std::string& s : segments) path += (path.empty() ? "" : ".") + s;
  return path;
}

std::string ChildPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

const OrderedJson* Resolve(const OrderedJson& root, const OrderedJson* node) {
  for (int hops = 0; node && node->is_object() && node->contains("$ref") && hops < 8; ++hops) {
    const std::string ref = (*node)["$ref"].get<std::string>();
    if (!ref.starts_with("#")) return nullptr;
    const OrderedJson::json_pointer pointer(ref.substr(1));
    node = root.contains(pointer) ? &root.at(pointer) : nullptr;
  }
  return node;
}

// The subschema that describes the value at `segments` (rules hold no per-value schemas, so the
// walk follows properties, items and additionalProperties only); nullptr when there is none.
const OrderedJson* SubschemaAt(const OrderedJson& root, const std::vector<std::string>& segments) {
  const OrderedJson* node = Resolve(root, &root);
  for (const std::string& segment : segments) {
    if (!node || !node->is_object()) return nullptr;
    const OrderedJson* next = nullptr;
    if (auto p = node->find("properties"); p != node->end() && p->contains(segment)) {
      next = &(*p)[segment];
    } else if (auto items = node->find("items"); items != node->end()) {
      next = &*items;
    } else if (auto extra = node->find("additionalProperties");
               extra != node->end() && extra->is_object()) {
      next = &*extra;
    }
    node = Resolve(root, next);
  }
  return node;
}

const Json* InstanceAt(const Json& doc, const std::vector<std::string>& segments) {
  const Json* node = &doc;
  for (const std::string& segment : segments) {
    if (node->is_object() && node->contains(segment)) {
      node = &(*node)[segment];
    } else if (node->is_array() && !segment.empty() &&
               segment.find_first_not_of("0123456789") == std::string::npos &&
               std::stoull(segment) < node->size()) {
      node = &(*node)[std::stoull(segment)];
    } else {
      return nullptr;
    }
  }
  return node;
}

// What a per-value finding is about, for Tidy.
enum class Kind { kType, kRange, kKey, kKeyCount, kOther };

struct Item {
  SchemaFinding finding;
  Kind kind = Kind::kOther;
};

// Turns valijson's errors into findings, reading what each needs from the schema and the document.
class Translator {
 public:
  Translator(const OrderedJson& schema, const Json& doc, const YamlIndex* index)
      : schema_(schema), doc_(doc), index_(index) {}

  // The finding for a per-value error, or nullopt for a wrapper.
  std::optional<Item> Translate(const valijson::ValidationResults::Error& e) const;
  // Findings for the rules that fail at `segments`.
  std::vector<SchemaFinding> FailedRules(const std::vector<std::string>& segments) const;

 private:
  // A finding about `path`, pointing at the node at `mark_path` (default: `path`); at its key
  // rather than its value with `key_mark`.
  SchemaFinding At(const std::string& path, std::string message, bool key_mark = false,
                   const std::string* mark_path = nullptr) const;
  Item Make(Kind kind, const std::string& path, std::string message, bool key_mark = false,
            const std::string* mark_path = nullptr) const {
    return Item{At(path, std::move(message), key_mark, mark_path), kind};
  }
  std::string Got(const std::string& path, const Json* value) const;
  std::optional<Item> TranslateKeys(const std::string& description,
                                    const std::vector<std::string>& segments,
                                    const OrderedJson& s) const;

  const OrderedJson& schema_;
  const Json& doc_;
  const YamlIndex* index_;
};

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(separator)) + p;
  return out;
}

std::vector<std::string> PropertyNames(const OrderedJson& s) {
  std::vector<std::string> names;
  if (auto p = s.find("properties"); p != s.end() && p->is_object()) {
    for (auto it = p->begin(); it != p->end(); ++it) names.push_back(it.key());
  }
  return names;
}

double Num(const OrderedJson& s, const char* key) { return s[key].get<double>(); }

// "a number in [0, 1]", "a whole number in [1, 16]", "a number >= 0", "a whole number": the
// words of NumberRange::ToString and ReadInt, so both parsers say the same.
std::string RangeText(const OrderedJson& s, bool integer) {
  const std::string what = integer ? "a whole number" : "a number";
  auto format = [&](double v) {
    return integer ? std::to_string(static_cast<int64_t>(v)) : FormatNumber(v);
  };
  const bool open = s.contains("exclusiveMinimum");
  const bool has_lo = open || s.contains("minimum");
  const double lo = open ? Num(s, "exclusiveMinimum") : has_lo ? Num(s, "minimum") : 0;
  if (has_lo && s.contains("maximum")) {
    return what + " in " + (open ? "(" : "[") + format(lo) + ", " + format(Num(s, "maximum")) + "]";
  }
  if (has_lo) return what + (open ? " > " : " >= ") + format(lo);
  return what;
}

// "a list of 1 to 10000 turns", "a list of at most 1000 outages".
std::string ListText(const OrderedJson& s) {
  const std::string title = s.contains("title") ? s["title"].get<std::string>() : "items";
  const bool has_min = s.contains("minItems") && s["minItems"].get<int64_t>() > 0;
  const bool has_max = s.contains("maxItems");
  if (has_min && has_max) {
    return "a list of " + std::to_string(s["minItems"].get<int64_t>()) + " to " +
           std::to_string(s["maxItems"].get<int64_t>()) + " " + title;
  }
  if (has_max)
    return "a list of at most " + std::to_string(s["maxItems"].get<int64_t>()) + " " + title;
  if (has_min)
    return "a list of at least " + std::to_string(s["minItems"].get<int64_t>()) + " " + title;
  return "a list of " + title;
}

std::string TypeText(const OrderedJson& s, const std::string& type) {
  if (type == "number") return RangeText(s, false);
  if (type == "integer") return RangeText(s, true);
  if (type == "string" && s.contains("pattern") && s.contains("examples")) {
    for (const OrderedJson& example : s["examples"]) {
      if (example.is_string()) return "a string like " + example.dump();  // "1%"
    }
  }
  if (type == "string") return s.value("minLength", 0) > 0 ? "a non-empty string" : "a string";
  if (type == "array") return ListText(s);
  if (type == "boolean") return "true or false";
  if (type == "null") return "nothing";
  if (!s.contains("properties") && s.value("additionalProperties", true) == false) return "{}";
  if (s.value("maxProperties", -1) == 1) {
    return "a map with one of: " + Join(PropertyNames(s), ", ");
  }
  return "a map";
}

// What the schema `s` accepts, in words: "l16 | pcmu | opus", "a number in [0, 1] or a map".
std::string Expected(const OrderedJson& s) {
  if (auto e = s.find("enum"); e != s.end()) {
    std::vector<std::string> values;
    for (const auto& v : *e) values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    return Join(values, " | ");
  }
  std::vector<std::string> types;
  if (auto t = s.find("type"); t != s.end()) {
    if (t->is_string()) types.push_back(TypeText(s, t->get<std::string>()));
    if (t->is_array()) {
      for (const auto& one : *t) types.push_back(TypeText(s, one.get<std::string>()));
    }
  }
  return types.empty() ? "a valid value" : Join(types, " or ");
}

SchemaFinding Translator::At(const std::string& path, std::string message, bool key_mark,
                             const std::string* mark_path) const {
  SchemaFinding f{path, YAML::Mark::null_mark(), std::move(message), false};
  if (!index_) return f;
  if (auto it = index_->find(mark_path ? *mark_path : path); it != index_->end()) {
    f.mark = key_mark && it->second.key.IsDefined() && !it->second.key.IsNull()
                 ? it->second.key.Mark()
                 : it->second.mark();
  }
  return f;
}

std::string Translator::Got(const std::string& path, const Json* value) const {
  if (index_) {
    if (auto it = index_->find(path); it != index_->end()) return Describe(it->second.value);
  }
  if (!value) return "nothing";
  if (value->is_object()) return "a map";
  if (value->is_array()) return "a list";
  return value->dump();
}

std::optional<Item> Translator::TranslateKeys(const std::string& d,
                                              const std::vector<std::string>& segments,
                                              const OrderedJson& s) const {
  const std::string path = Dotted(segments);
  // The key is the last quoted word: "...: 'losss'." and "Missing required property 'name'."
  const size_t end = d.rfind('\'');
  const size_t quote =
      end == std::string::npos || end == 0 ? std::string::npos : d.rfind('\'', end - 1);
  const std::string key = quote != std::string::npos ? d.substr(quote + 1, end - quote - 1) : "";
  if (d.starts_with("Missing required property")) {
    return Make(Kind::kKey, ChildPath(path, key), "missing required key " + key, false, &path);
  }
  if (d.starts_with("Object contains a property that could not be validated")) {
    const std::vector<std::string> names = PropertyNames(s);
    const std::vector<std::string_view> known(names.begin(), names.end());
    return Make(Kind::kKey, ChildPath(path, key), UnknownKeyMessage(key, known), true);
  }
  return std::nullopt;
}

bool HasType(const OrderedJson& s, std::string_view type) {
  const auto t = s.find("type");
  if (t == s.end()) return false;
  if (t->is_string()) return t->get<std::string>() == type;
  return std::any_of(t->begin(), t->end(), [&](const OrderedJson& one) { return one == type; });
}

std::optional<Item> Translator::Translate(const valijson::ValidationResults::Error& e) const {
  const std::string& d = e.description;
  if (agent::IsWrapperMessage(d)) return std::nullopt;
  const std::vector<std::string> segments = agent::ContextSegments(e.context);
  const std::string path = Dotted(segments);
  const OrderedJson* s = SubschemaAt(schema_, segments);
  const Json* value = InstanceAt(doc_, segments);
  if (!s || !value) return Make(Kind::kOther, path, d);
  if (std::optional<Item> keys = TranslateKeys(d, segments, *s)) return keys;
  const std::string got = ", got " + Got(path, value);
  const std::string size =
      std::to_string(value->is_string() ? value->get<std::string>().size() : value->size());
  if (d.starts_with("Value type not permitted") ||
      d.starts_with("Failed to match against any enum")) {
    return Make(Kind::kType, path, "expected " + Expected(*s) + got);
  }
  if (d.starts_with("Expected number")) {
    const bool integer = value->is_number_integer() && HasType(*s, "integer");
    return Make(Kind::kRange, path, "expected " + RangeText(*s, integer) + got);
  }
  if (d.starts_with("String should be no fewer")) {
    return Make(Kind::kRange, path, "expected " + Expected(*s) + got);
  }
  if (d.starts_with("String should be no more")) {
    return Make(Kind::kRange, path,
                "expected at most " + std::to_string(s->value("maxLength", 0)) +
                    " characters, got " + size);
  }
  if (d.starts_with("Array should contain")) {
    return Make(Kind::kRange, path, "expected " + ListText(*s) + ", got " + size);
  }
  if (d.starts_with("Object should have")) {
    return Make(Kind::kKeyCount, path,
                "expected one of " + Join(PropertyNames(*s), ", ") + " per list item, got " + size);
  }
  // A string that misses the pattern where other types are accepted too (a loss probability:
  // 0.01 or "1%") is a wrong value, like a wrong type: say every form that would do.
  if (d.starts_with("Failed to match regex") && s->contains("type") && (*s)["type"].is_array()) {
    return Make(Kind::kType, path, "expected " + Expected(*s) + got);
  }
  if (d.starts_with("Failed to match regex")) {
    Item item = Make(Kind::kOther, path,
                     "expected text matching " + s->value("pattern", std::string()) + got);
    item.finding.deferred = true;
    return item;
  }
  return Make(Kind::kOther, path, d);
}

bool RuleHolds(const OrderedJson& rule, const Json& instance) {
  valijson::Schema schema;
  agent::PopulateDraft7(Json::parse(rule.dump()), &schema);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(instance);
  return validator.validate(schema, target, nullptr);
}

std::vector<SchemaFinding> Translator::FailedRules(const std::vector<std::string>& segments) const {
  std::vector<SchemaFinding> out;
  const OrderedJson* s = SubschemaAt(schema_, segments);
  const Json* value = InstanceAt(doc_, segments);
  if (!s || !value || !s->contains("allOf")) return out;
  for (const OrderedJson& rule : (*s)["allOf"]) {
    if (RuleHolds(rule, *value)) continue;
    SchemaFinding f = At(Dotted(segments), rule.value("description", std::string("a rule fails")));
    f.deferred = true;
    out.push_back(std::move(f));
  }
  return out;
}

// One finding per path and message; a type error hides the rest at its path (a string that is
// not a number is not also out of range), and an unknown key hides the key count of its map.
std::vector<SchemaFinding> Tidy(std::vector<Item> items) {
  std::set<std::string> type_errors;
  std::set<std::string> maps_with_unknown_keys;
  for (const Item& item : items) {
    if (item.kind == Kind::kType) type_errors.insert(item.finding.path);
    if (item.kind == Kind::kKey && item.finding.message.starts_with("unknown ")) {
      const size_t dot = item.finding.path.rfind('.');
      maps_with_unknown_keys.insert(dot == std::string::npos ? ""
                                                             : item.finding.path.substr(0, dot));
    }
  }
  std::vector<SchemaFinding> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (Item& item : items) {
    const std::string& path = item.finding.path;
    const bool hidden = (item.kind != Kind::kType && type_errors.count(path)) ||
                        (item.kind == Kind::kKeyCount && maps_with_unknown_keys.count(path));
    if (hidden || !seen.insert({path, item.finding.message}).second) continue;
    out.push_back(std::move(item.finding));
  }
  return out;
}

}  // namespace

std::vector<SchemaFinding> CheckScenarioSchema(const Json& doc, const YamlIndex* index) {
  const CompiledSchema& compiled = Compiled();
  valijson::Validator validator;  // strong types: "40" is not a number
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(compiled.full, target, nullptr)) return {};

  const Translator translator(compiled.doc, doc, index);
  std::vector<Item> items;
  valijson::ValidationResults shape;
  validator.validate(compiled.shape, target, &shape);
  for (const valijson::ValidationResults::Error& e : shape) {
    if (std::optional<Item> item = translator.Translate(e)) items.push_back(std::move(*item));
  }
  valijson::ValidationResults full;
  validator.validate(compiled.full, target, &full);
  std::set<std::vector<std::string>> rule_sites;  // ordered: findings come out deterministic
  for (const valijson::ValidationResults::Error& e : full) {
    if (StartsWithAny(e.description, kRuleFailures)) {
      rule_sites.insert(agent::ContextSegments(e.context));
    }
  }
  for (const std::vector<std::string>& site : rule_sites) {
    for (SchemaFinding& f : translator.FailedRules(site))
      items.push_back({std::move(f), Kind::kOther});
  }
  return Tidy(std::move(items));
}

}  // namespace callsim::harness
