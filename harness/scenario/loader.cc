#include "harness/scenario/loader.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "agent/runtime/input_file.h"
#include "agent/text/utf8.h"
#include "harness/scenario/overrides.h"
#include "harness/scenario/scenario_parser.h"
#include "harness/scenario/schema_check.h"
#include "harness/scenario/yaml_json.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {
namespace {

// What one load reports at most (its mixed-in files' errors included), so a broken file gives a
// readable list rather than a wall.
constexpr size_t kMaxReportedErrors = 50;

// An error about the whole file (no line, no field). Built field by field: brace-initializing the
// nested aggregate trips GCC 12's -Wmaybe-uninitialized.
ScenarioError FileError(const std::string& file, std::string message) {
  ScenarioError e;
  e.where.file = file;
  e.message = std::move(message);
  return e;
}

SourceLocation At(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

// The single document in `text`, or nullopt with a syntax error appended.
// Counts the nodes of one document and remembers where its first node is.
class DocumentProbe final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Saw(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Saw(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Saw(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Saw(mark);
  }
  void OnMapEnd() override {}

  size_t nodes = 0;
  YAML::Mark first;

 private:
  void Saw(const YAML::Mark& mark) {
    if (nodes++ == 0) first = mark;
  }
};

// The documents in `text` beyond the first: how many (counted up to a bound) and where the second
// starts. yaml-cpp's LoadAll never returns on some malformed streams (one that starts with ','):
// its parser keeps reporting an empty document without consuming anything. Here an empty document
// (a lone null) ends the stream, and at most kMaxYamlDocuments are counted.
constexpr size_t kMaxYamlDocuments = 100;
struct ExtraDocuments {
  size_t count = 0;  // documents in all, when more than one
  YAML::Mark second;
};
std::optional<ExtraDocuments> MoreThanOneDocument(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  ExtraDocuments found{1, {}};
  DocumentProbe first;
  if (!parser.HandleNextDocument(first)) return std::nullopt;
  while (found.count < kMaxYamlDocuments) {
    DocumentProbe next;
    if (!parser.HandleNextDocument(next) || next.nodes == 0) break;
    if (++found.count == 2) found.second = next.first;
  }
  if (found.count == 1) return std::nullopt;
  return found;
}

std::optional<YAML::Node> ParseYaml(const std::string& text, const std::string& file,
                                    std::vector<ScenarioError>* errors) {
  YAML::Node root;
  try {
    if (const std::optional<ExtraDocuments> extra = MoreThanOneDocument(text)) {
      const std::string count = extra->count == kMaxYamlDocuments
                                    ? std::to_string(kMaxYamlDocuments) + " or more"
                                    : std::to_string(extra->count);
      errors->push_back({At(file, extra->second), "", "expected one YAML document, found " + count});
      return std::nullopt;
    }
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own guard, far deeper than ours
    errors->push_back({At(file, e.mark), "",
                       "the scenario nests deeper than " + std::to_string(kMaxYamlDepth) +
                           " levels"});
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    errors->push_back({At(file, e.mark), "", e.msg});
    return std::nullopt;
  }
  return root.IsDefined() ? root : YAML::Node(YAML::NodeType::Null);
}

// By line and column; errors without a line first, those about --set overrides in the order the
// overrides were given.
void SortErrors(const std::vector<std::string>& set_overrides, std::vector<ScenarioError>* errors) {
  auto rank = [&](const ScenarioError& e) {
    for (size_t i = 0; i < set_overrides.size(); ++i) {
      if (e.where.file == OverrideLocation(set_overrides[i]).file) return i;
    }
    return set_overrides.size();
  };
  std::stable_sort(errors->begin(), errors->end(),
                   [&](const ScenarioError& a, const ScenarioError& b) {
                     return std::tuple(a.where.line, a.where.column, rank(a)) <
                            std::tuple(b.where.line, b.where.column, rank(b));
                   });
}

std::string BaseDir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Paths, for "is any of them at or above / at or under this one" in O(log n) per question: a
// scenario can hold hundreds of thousands of findings (one per unknown key), so a scan per error
// would be quadratic.
class PathSet {
 public:
  void Insert(const std::string& path) { paths_.insert(path); }
  // True when some path in the set is `path` or a parent of it (IsSameOrUnder(path, p)).
  bool HasSameOrAbove(const std::string& path) const {
    if (paths_.count("")) return true;
    for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1)) {
      if (paths_.count(path.substr(0, dot))) return true;
    }
    return !path.empty() && paths_.count(path) > 0;
  }
  // True when some path in the set is `path` or inside it (IsSameOrUnder(p, path)).
  bool HasSameOrUnder(const std::string& path) const {
    if (path.empty()) return !paths_.empty();
    if (paths_.count(path)) return true;
    const std::string prefix = path + ".";  // everything under it sorts together from here
    const auto it = paths_.lower_bound(prefix);
    return it != paths_.end() && it->compare(0, prefix.size(), prefix) == 0;
  }

 private:
  std::set<std::string> paths_;
};

// One list from the schema's findings and the typed parser's errors, without saying anything
// twice. The schema's per-value findings (type, range, enum, unknown or missing key, list size)
// come first and win: a typed error at or under the path of one is the same problem. The typed
// parser's errors come next. The schema's deferred findings (patterns, rules across fields) come
// last and only where the typed parser said nothing at or under their path: for those, the
// typed message (which names the offending key) is the better one, and the schema's is a net.
std::vector<ScenarioError> Merge(const ParseContext& ctx,
                                 const std::vector<SchemaFinding>& findings,
                                 std::vector<ScenarioError> typed) {
  std::vector<ScenarioError> out;
  PathSet schema_paths;
  for (const SchemaFinding& f : findings) {
    if (f.deferred) continue;
    out.push_back({ctx.Locate(f.path, f.mark), f.path, f.message});
    schema_paths.Insert(f.path);
  }
  PathSet out_paths = schema_paths;
  for (ScenarioError& e : typed) {
    if (schema_paths.HasSameOrAbove(e.path)) continue;
    out_paths.Insert(e.path);
    out.push_back(std::move(e));
  }
  for (const SchemaFinding& f : findings) {
    if (!f.deferred || out_paths.HasSameOrUnder(f.path)) continue;
    out_paths.Insert(f.path);
    out.push_back({ctx.Locate(f.path, f.mark), f.path, f.message});
  }
  return out;
}

// The schema's findings on `root`, or a single error (appended to *errors) when the tree is too
// large or deep to convert; nullopt then, and nothing else should be checked.
std::optional<std::vector<SchemaFinding>> CheckSchema(const ParseContext& ctx,
                                                      const YAML::Node& root, YamlIndex* index,
                                                      std::vector<ScenarioError>* errors) {
  nlohmann::json doc;
  std::string error, error_path;
  if (!YamlToJson(root, "", {.clamp_to_int64 = true}, &doc, index, &error, &error_path)) {
    const auto at = index->find(error_path);
    errors->push_back(
        {ctx.Locate(error_path, at == index->end() ? YAML::Mark::null_mark() : at->second.mark()),
         error_path, error});
    return std::nullopt;
  }
  if (doc.is_null()) doc = nlohmann::json::object();  // an empty file is an empty scenario
  try {
    return CheckScenarioSchema(doc, index);
  } catch (const std::exception& e) {  // not expected: the schema is compiled in and tested
    errors->push_back(FileError(ctx.file(), std::string("cannot check the schema: ") + e.what()));
    return std::nullopt;
  }
}

LoadResult LoadText(const std::string& yaml_text, const std::string& path,
                    const std::vector<std::string>& set_overrides, bool nested);
LoadResult LoadFile(const std::string& path, const std::vector<std::string>& set_overrides,
                    bool nested);

// Loads each mix entry's scenario (mixed-in files cannot mix in turn). Their errors keep their
// own file:line:col and go to *nested_errors; a mixed-in file with a mix of its own is an error
// at the entry.
void LoadMix(const ParseContext& ctx, const YamlIndex& index, Scenario* s,
             std::vector<ScenarioError>* errors, std::vector<ScenarioError>* nested_errors) {
  for (size_t i = 0; i < s->load.mix.size(); ++i) {
    MixEntry& entry = s->load.mix[i];
    if (entry.scenario_path.empty()) continue;  // not resolved: reported already
    LoadResult r = LoadFile(entry.scenario_path, {}, true);
    nested_errors->insert(nested_errors->end(), r.errors.begin(), r.errors.end());
    if (!r.ok()) continue;
    if (!r.scenario->load.mix.empty()) {
      const std::string at = "load.mix." + std::to_string(i) + ".scenario";
      const auto field = index.find(at);
      errors->push_back(
          {ctx.Locate(at, field == index.end() ? YAML::Mark::null_mark() : field->second.mark()),
           at,
           entry.scenario_path +
               " has a load.mix of its own; mixes do not nest (list its scenarios "
               "here instead)"});
      continue;
    }
    entry.scenario = std::make_shared<const Scenario>(std::move(*r.scenario));
  }
}

// Sorts the file's own errors, then the mixed-in files' (each already sorted), at most
// kMaxReportedErrors in all plus a last line saying so when more were left out.
std::vector<ScenarioError> Report(const std::string& path,
                                  const std::vector<std::string>& set_overrides,
                                  std::vector<ScenarioError> own,
                                  const std::vector<ScenarioError>& nested, bool truncated) {
  SortErrors(set_overrides, &own);
  own.insert(own.end(), nested.begin(), nested.end());
  if (own.size() > kMaxReportedErrors) {
    own.resize(kMaxReportedErrors);
    truncated = true;
  }
  if (truncated) own.push_back(FileError(path, "too many errors; the rest are left out"));
  return own;
}

LoadResult LoadText(const std::string& yaml_text, const std::string& path,
                    const std::vector<std::string>& set_overrides, bool nested) {
  LoadResult result;
  if (yaml_text.size() > kMaxScenarioBytes) {
    result.errors.push_back(FileError(
        path, "the scenario is larger than " + std::to_string(kMaxScenarioBytes) + " bytes"));
    return result;
  }
  if (const std::optional<size_t> bad = agent::FirstInvalidUtf8(yaml_text)) {
    const agent::TextPosition at = agent::PositionOf(yaml_text, *bad);
    result.errors.push_back({{path, static_cast<int>(at.line), static_cast<int>(at.column)}, "",
                             agent::InvalidUtf8Message(yaml_text, *bad) +
                                 "; a scenario must be UTF-8 text"});
    return result;
  }
  std::optional<YAML::Node> root = ParseYaml(yaml_text, path, &result.errors);
  if (!root) return result;
  std::vector<AppliedOverride> applied = ApplyOverrides(set_overrides, *root, &result.errors);
  std::vector<ScenarioError> typed;
  ParseContext ctx(path, std::move(applied), &typed);
  YamlIndex index;
  const std::optional<std::vector<SchemaFinding>> findings =
      CheckSchema(ctx, *root, &index, &result.errors);
  if (!findings) return result;
  Scenario scenario;
  try {
    scenario = ParseScenario(ctx, *root, BaseDir(path));
  } catch (const YAML::Exception& e) {  // not expected: the readers avoid throwing calls
    typed.push_back({At(path, e.mark), "", "cannot read the scenario: " + e.msg});
  }
  std::vector<ScenarioError> own = Merge(ctx, *findings, std::move(typed));
  own.insert(own.begin(), result.errors.begin(), result.errors.end());  // --set errors
  std::vector<ScenarioError> nested_errors;
  if (!nested) LoadMix(ctx, index, &scenario, &own, &nested_errors);
  if (own.empty() && nested_errors.empty()) {
    scenario.source_path = path;
    result.scenario = std::move(scenario);
    return result;
  }
  result.errors = Report(path, set_overrides, std::move(own), nested_errors, ctx.truncated());
  return result;
}

LoadResult LoadFile(const std::string& path, const std::vector<std::string>& set_overrides,
                    bool nested) {
  LoadResult result;
  // The path is stored with the run (as JSON, which must be UTF-8) and relative paths inside the
  // scenario resolve against it.
  if (const std::optional<size_t> bad = agent::FirstInvalidUtf8(path)) {
    result.errors.push_back(FileError(
        path, "cannot read the scenario: its path has " + agent::InvalidUtf8Message(path, *bad) +
                  "; rename it"));
    return result;
  }
  std::string text;
  std::string error;
  if (!agent::ReadRegularFile(path, kMaxScenarioBytes, &text, &error)) {
    result.errors.push_back(FileError(path, "cannot read the scenario: " + error));
    return result;
  }
  return LoadText(text, path, set_overrides, nested);
}

}  // namespace

LoadResult LoadScenarioText(const std::string& yaml_text, const std::string& path,
                            const std::vector<std::string>& set_overrides) {
  return LoadText(yaml_text, path, set_overrides, false);
}

LoadResult LoadScenarioFile(const std::string& path,
                            const std::vector<std::string>& set_overrides) {
  return LoadFile(path, set_overrides, false);
}

}  // namespace callsim::harness
