#include "harness/run/sweep_plan.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "agent/runtime/input_file.h"
#include "agent/text/utf8.h"
#include "harness/scenario/loader.h"

namespace callsim::harness {
namespace {

constexpr size_t kMaxErrors = 50;
constexpr double kMaxCallersLevel = 1'000'000;

// Collects "file:line:col: path: message" errors, at most kMaxErrors of them.
class PlanContext {
 public:
  PlanContext(std::string file, std::vector<std::string>* errors)
      : file_(std::move(file)), errors_(errors) {}

  void Error(const YAML::Mark& mark, std::string_view path, const std::string& message) {
    ++count_;
    if (count_ > kMaxErrors) return;
    std::string where = file_;
    if (!mark.is_null()) {
      where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    std::string text = where + ": ";
    if (!path.empty()) text += std::string(path) + ": ";
    errors_->push_back(text + message);
    if (count_ == kMaxErrors) errors_->push_back(file_ + ": too many errors; the rest are not shown");
  }
  bool ok() const { return count_ == 0; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string>* errors_;
  size_t count_ = 0;
};

// One map entry with a string key.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  std::string path;

  // A null value's mark is unreliable: point at the key then.
  YAML::Mark mark() const {
    return value.IsDefined() && !value.IsNull() ? value.Mark() : key_node.Mark();
  }
};

std::string Join(std::initializer_list<std::string_view> words) {
  std::string s;
  for (std::string_view w : words) s += (s.empty() ? "" : ", ") + std::string(w);
  return s;
}

// The entries of a map in file order, with non-string, unknown (when `known` is not empty) and
// duplicate keys reported and left out. A value that is not a map is reported too.
std::vector<Entry> ReadMap(PlanContext& ctx, const YAML::Node& node, const YAML::Mark& mark,
                           const std::string& path, std::initializer_list<std::string_view> known) {
  std::vector<Entry> entries;
  if (!node.IsMap()) {
    ctx.Error(mark, path, "expected a map");
    return entries;
  }
  std::map<std::string, YAML::Mark> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // by value: the iterator yields a temporary pair
    if (!key.IsScalar()) {
      ctx.Error(key.Mark(), path, "keys must be plain strings");
      continue;
    }
    const std::string name = key.Scalar();
    const std::string child = path.empty() ? name : path + "." + name;
    bool is_known = known.size() == 0;
    for (std::string_view k : known) is_known = is_known || k == name;
    if (!is_known) {
      ctx.Error(key.Mark(), child, "unknown key " + name + " (expected one of: " + Join(known) + ")");
      continue;
    }
    if (auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      ctx.Error(key.Mark(), child,
                "duplicate key " + name + " (first at line " +
                    std::to_string(first->second.line + 1) + ")");
      continue;
    }
    entries.push_back(Entry{name, key, it->second, child});
  }
  return entries;
}

bool ReadString(PlanContext& ctx, const Entry& e, std::string* out) {
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    ctx.Error(e.mark(), e.path, "expected a non-empty string");
    return false;
  }
  *out = e.value.Scalar();
  return true;
}

// Numbers must be plain scalars: "10" in quotes is a string, as in scenarios.
bool ReadNumber(PlanContext& ctx, const YAML::Node& node, const std::string& path, double* out) {
  if (!node.IsScalar() || node.Tag() == "!") {
    ctx.Error(node.Mark(), path, "expected a number");
    return false;
  }
  const std::string& text = node.Scalar();
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) {
    ctx.Error(node.Mark(), path, "expected a number, got " + text);
    return false;
  }
  *out = v;
  return true;
}

bool IsDottedPath(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char previous = 0;
  for (char c : s) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_';
    if (!word && c != '.') return false;
    if (c == '.' && previous == '.') return false;
    previous = c;
  }
  return true;
}

void ReadParameter(PlanContext& ctx, const Entry& e, SweepPlan* plan) {
  std::string parameter;
  if (!ReadString(ctx, e, &parameter)) return;
  if (!IsDottedPath(parameter)) {
    ctx.Error(e.mark(), e.path, "expected a dotted field path such as load.callers, got " + parameter);
    return;
  }
  plan->parameter = parameter;
}

void ReadLevels(PlanContext& ctx, const Entry& e, SweepPlan* plan) {
  if (!e.value.IsSequence() || e.value.size() == 0) {
    ctx.Error(e.mark(), e.path, "expected a non-empty list of numbers such as [10, 50, 100]");
    return;
  }
  if (e.value.size() > kMaxSweepLevels) {
    ctx.Error(e.mark(), e.path, std::to_string(e.value.size()) + " levels; the limit is " +
                                    std::to_string(kMaxSweepLevels));
    return;
  }
  const bool callers = plan->parameter == "load.callers";
  for (size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    const std::string path = e.path + "." + std::to_string(i);
    double level = 0;
    if (!ReadNumber(ctx, item, path, &level)) continue;
    if (callers && (level < 1 || level > kMaxCallersLevel || level != std::floor(level))) {
      ctx.Error(item.Mark(), path, "load.callers levels must be whole numbers from 1 to 1000000");
      continue;
    }
    if (!plan->levels.empty() && level <= plan->levels.back()) {
      ctx.Error(item.Mark(), path, "levels must be strictly increasing (" + FormatLevel(level) +
                                       " after " + FormatLevel(plan->levels.back()) + ")");
      continue;
    }
    plan->levels.push_back(level);
  }
}

void ReadSets(PlanContext& ctx, const Entry& e, SweepPlan* plan) {
  if (!e.value.IsSequence()) {
    ctx.Error(e.mark(), e.path, "expected a list of \"dotted.path=VALUE\" strings");
    return;
  }
  if (e.value.size() > kMaxSweepSets) {
    ctx.Error(e.mark(), e.path, "more than " + std::to_string(kMaxSweepSets) + " entries");
    return;
  }
  for (size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    const std::string path = e.path + "." + std::to_string(i);
    const std::string text = item.IsScalar() ? item.Scalar() : "";
    const size_t eq = text.find('=');
    if (eq == std::string::npos || !IsDottedPath(std::string_view(text).substr(0, eq))) {
      ctx.Error(item.Mark(), path, "expected \"dotted.path=VALUE\", got " + YAML::Dump(item));
      continue;
    }
    if (text.substr(0, eq) == plan->parameter) {
      ctx.Error(item.Mark(), path, "sets " + plan->parameter + ", which each level sets");
      continue;
    }
    plan->set.push_back(text);
  }
}

void ReadMetricSlo(PlanContext& ctx, const Entry& e, const MetricInfo& metric, SweepPlan* plan) {
  if (!e.value.IsSequence() || e.value.size() == 0) {
    ctx.Error(e.mark(), e.path, "expected a non-empty list of expressions such as [\"p(95)<2000\"]");
    return;
  }
  for (size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    const std::string path = e.path + "." + std::to_string(i);
    Threshold t;
    t.metric = e.key;
    std::string error;
    if (!item.IsScalar()) {
      ctx.Error(item.Mark(), path, "expected an expression such as \"p(95)<2000\"");
      continue;
    }
    if (!ParseThresholdExpr(item.Scalar(), metric, &t.expr, &error)) {
      ctx.Error(item.Mark(), path, error);
      continue;
    }
    t.where = {ctx.file(), item.Mark().line + 1, item.Mark().column + 1};
    plan->slo.push_back(std::move(t));
  }
}

void ReadSlo(PlanContext& ctx, const Entry& e, SweepPlan* plan) {
  for (const Entry& m : ReadMap(ctx, e.value, e.mark(), e.path, {})) {
    const MetricInfo* metric = FindMetric(m.key);
    if (metric == nullptr) {
      ctx.Error(m.key_node.Mark(), m.path,
                "unknown metric " + m.key + " (known: " + KnownMetricNames() + ")");
      continue;
    }
    ReadMetricSlo(ctx, m, *metric, plan);
  }
}

void ReadScenarioPath(PlanContext& ctx, const Entry& e, SweepPlan* plan) {
  std::string written;
  if (!ReadString(ctx, e, &written)) return;
  std::filesystem::path p(written);
  if (p.is_relative()) p = std::filesystem::path(ctx.file()).parent_path() / p;
  std::string resolved = p.lexically_normal().string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(resolved, ec)) {
    ctx.Error(e.mark(), e.path, "no scenario file at " + resolved);
    return;
  }
  plan->scenario_path = std::move(resolved);
}

void ReadBool(PlanContext& ctx, const Entry& e, bool* out) {
  const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
  if (text == "true" || text == "false") {
    *out = text == "true";
  } else {
    ctx.Error(e.mark(), e.path, "expected true or false");
  }
}

// Reads the root map; the parameter goes first because the levels' checks depend on it.
void ReadPlan(PlanContext& ctx, const YAML::Node& root, SweepPlan* plan) {
  const std::vector<Entry> entries =
      ReadMap(ctx, root, root.Mark(), "",
              {"name", "scenario", "parameter", "levels", "set", "slo", "stop_on_failure"});
  if (!root.IsMap()) return;
  std::map<std::string, const Entry*> by_key;
  for (const Entry& e : entries) by_key[e.key] = &e;
  auto get = [&by_key](const char* key) -> const Entry* {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : it->second;
  };
  if (const Entry* e = get("parameter")) ReadParameter(ctx, *e, plan);
  if (const Entry* e = get("name")) ReadString(ctx, *e, &plan->name);
  for (const char* required : {"scenario", "levels", "slo"}) {
    if (!get(required)) ctx.Error(root.Mark(), required, "missing (it is required)");
  }
  if (const Entry* e = get("scenario")) ReadScenarioPath(ctx, *e, plan);
  if (const Entry* e = get("levels")) ReadLevels(ctx, *e, plan);
  if (const Entry* e = get("set")) ReadSets(ctx, *e, plan);
  if (const Entry* e = get("slo")) {
    ReadSlo(ctx, *e, plan);
    if (e->value.IsMap() && e->value.size() == 0) {
      ctx.Error(e->mark(), "slo", "give at least one threshold; without one no level can be judged");
    }
  }
  if (const Entry* e = get("stop_on_failure")) ReadBool(ctx, *e, &plan->stop_on_failure);
}

}  // namespace

bool ParseSweepPlan(const std::string& yaml_text, const std::string& path, SweepPlan* out,
                    std::vector<std::string>* errors) {
  PlanContext ctx(path, errors);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    ctx.Error(e.mark, "", "YAML syntax error: " + e.msg);
    return false;
  }
  SweepPlan plan;
  plan.path = path;
  plan.name = std::filesystem::path(path).stem().string();
  ReadPlan(ctx, root, &plan);
  if (!ctx.ok()) return false;
  *out = std::move(plan);
  return true;
}

// Read like every other file from outside: non-blocking, regular files only, bounded, UTF-8.
bool LoadSweepPlan(const std::string& path, SweepPlan* out, std::vector<std::string>* errors) {
  std::string text;
  std::string error;
  if (!agent::ReadRegularFile(path, kMaxSweepPlanBytes, &text, &error)) {
    errors->push_back(path + ": " + error);
    return false;
  }
  if (const std::optional<std::string> bad = agent::Utf8FileError(text, path)) {
    errors->push_back(*bad);
    return false;
  }
  return ParseSweepPlan(text, path, out, errors);
}

bool CheckSweepLevels(const SweepPlan& plan, std::vector<std::string>* errors) {
  bool ok = true;
  for (double level : plan.levels) {
    const LoadResult loaded = LoadScenarioFile(plan.scenario_path, SweepLevelOverrides(plan, level));
    for (const ScenarioError& e : loaded.errors) {
      errors->push_back("level " + FormatLevel(level) + ": " + e.ToString());
    }
    ok = ok && loaded.ok();
    if (!ok) break;  // the same mistake would repeat at every level
  }
  return ok;
}

std::vector<std::string> SweepLevelOverrides(const SweepPlan& plan, double level) {
  std::vector<std::string> overrides = plan.set;
  overrides.push_back(plan.parameter + "=" + FormatLevel(level));
  return overrides;
}

std::string FormatLevel(double level) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, level);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string SweepPlanJson(const SweepPlan& plan) {
  nlohmann::json slo = nlohmann::json::object();
  for (const Threshold& t : plan.slo) slo[t.metric].push_back(t.expr.text);
  nlohmann::json j = {{"name", plan.name},           {"scenario", plan.scenario_path},
                      {"parameter", plan.parameter}, {"levels", plan.levels},
                      {"set", plan.set},             {"slo", slo},
                      {"stop_on_failure", plan.stop_on_failure}};
  return j.dump();
}

}  // namespace callsim::harness
