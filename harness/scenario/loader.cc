#include "harness/scenario/loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <yaml-cpp/yaml.h>

#include "harness/scenario/overrides.h"
#include "harness/scenario/scenario_parser.h"
#include "harness/scenario/yaml_reader.h"

namespace callsim::harness {
namespace {

SourceLocation At(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

// The single document in `text`, or nullopt with a syntax error appended.
std::optional<YAML::Node> ParseYaml(const std::string& text, const std::string& file,
                                    std::vector<ScenarioError>* errors) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    errors->push_back({At(file, e.mark), "", e.msg});
    return std::nullopt;
  }
  if (docs.size() > 1) {
    errors->push_back({At(file, docs[1].Mark()), "",
                       "expected one YAML document, found " + std::to_string(docs.size())});
    return std::nullopt;
  }
  return docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
}

void SortErrors(std::vector<ScenarioError>* errors) {
  std::stable_sort(errors->begin(), errors->end(),
                   [](const ScenarioError& a, const ScenarioError& b) {
                     return std::pair(a.where.line, a.where.column) <
                            std::pair(b.where.line, b.where.column);
                   });
}

std::string BaseDir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

LoadResult LoadScenarioText(const std::string& yaml_text, const std::string& path,
                            const std::vector<std::string>& set_overrides) {
  LoadResult result;
  if (yaml_text.size() > kMaxScenarioBytes) {
    result.errors.push_back({{path, 0, 0}, "",
                             "the scenario is larger than " + std::to_string(kMaxScenarioBytes) +
                                 " bytes"});
    return result;
  }
  std::optional<YAML::Node> root = ParseYaml(yaml_text, path, &result.errors);
  if (!root) return result;
  std::vector<AppliedOverride> applied = ApplyOverrides(set_overrides, *root, &result.errors);
  ParseContext ctx(path, std::move(applied), &result.errors);
  Scenario scenario;
  try {
    scenario = ParseScenario(ctx, *root, BaseDir(path));
  } catch (const YAML::Exception& e) {  // not expected: the readers avoid throwing calls
    result.errors.push_back({At(path, e.mark), "", "cannot read the scenario: " + e.msg});
  }
  if (result.errors.empty()) {
    scenario.source_path = path;
    result.scenario = std::move(scenario);
    return result;
  }
  SortErrors(&result.errors);
  if (ctx.truncated()) {
    result.errors.push_back({{path, 0, 0}, "", "too many errors; the rest are left out"});
  }
  return result;
}

LoadResult LoadScenarioFile(const std::string& path,
                            const std::vector<std::string>& set_overrides) {
  LoadResult result;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    result.errors.push_back({{path, 0, 0}, "",
                             std::filesystem::exists(path, ec)
                                 ? "cannot read the scenario: not a regular file"
                                 : "cannot read the scenario: no such file"});
    return result;
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxScenarioBytes) {
    result.errors.push_back({{path, 0, 0}, "",
                             ec ? "cannot read the scenario: " + ec.message()
                                : "the scenario is larger than " +
                                      std::to_string(kMaxScenarioBytes) + " bytes"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad() || !in.is_open()) {
    result.errors.push_back({{path, 0, 0}, "", "cannot read the scenario"});
    return result;
  }
  return LoadScenarioText(text, path, set_overrides);
}

}  // namespace callsim::harness
