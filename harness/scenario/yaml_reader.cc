#include "harness/scenario/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include "agent/runtime/input_file.h"
#include "harness/scenario/audio_header.h"

namespace callsim::harness {
namespace {

constexpr size_t kMaxShownChars = 40;

template <typename T>
std::optional<T> ParseInteger(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  T v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> CloseMatch(std::string_view name,
                                           const std::vector<std::string_view>& known) {
  for (std::string_view k : known) {
    const size_t limit = k.size() >= 6 ? 2 : k.size() >= 3 ? 1 : 0;  // no guesses for "p" or "r"
    if (EditDistance(name, k) <= limit) return k;
  }
  return std::nullopt;
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string list;
  for (std::string_view k : names) list += (list.empty() ? "" : ", ") + std::string(k);
  return list;
}

std::string Lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

bool IsPlainScalar(const YAML::Node& node) { return node.IsScalar() && !IsQuoted(node); }

std::optional<double> ParseYamlDouble(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const size_t first = !s.empty() && s[0] == '-' ? 1 : 0;
  // A digit or a point must follow the sign: this rejects inf, nan and a doubled sign, which
  // from_chars would accept.
  if (s.size() <= first) return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(s[first])) && s[first] != '.') return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseYamlInt64(std::string_view s) { return ParseInteger<int64_t>(s); }

std::optional<uint64_t> ParseYamlUint64(std::string_view s) { return ParseInteger<uint64_t>(s); }

std::optional<bool> ParseYamlBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool IsSameOrUnder(const std::string& path, const std::string& parent) {
  if (parent.empty() || path == parent) return true;
  return path.size() > parent.size() && path.compare(0, parent.size(), parent) == 0 &&
         path[parent.size()] == '.';
}

std::string UnknownKeyMessage(std::string_view name, const std::vector<std::string_view>& known,
                              std::string_view noun) {
  std::string message = "unknown " + std::string(noun) + " " + std::string(name);
  const std::optional<std::string_view> close = CloseMatch(name, known);
  if (noun != "key") {
    if (close) message += " (did you mean " + std::string(*close) + "?)";
    return message + "; known " + std::string(noun) + "s: " + JoinNames(known);
  }
  if (close) return message + " (did you mean " + std::string(*close) + "?)";
  if (known.empty()) return message + " (this map takes no keys)";
  return message + " (expected one of: " + JoinNames(known) + ")";
}

std::string FormatNumber(double v) {
  // Whole numbers in full (1000000, not 1e+06): bounds read best that way.
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

ParseContext::ParseContext(std::string file, std::vector<AppliedOverride> overrides,
                           std::vector<ScenarioError>* errors)
    : file_(std::move(file)), overrides_(std::move(overrides)), errors_(errors) {}

void ParseContext::Error(const std::string& path, const YAML::Mark& mark, std::string message) {
  if (errors_->size() >= kMaxErrors) {
    truncated_ = true;
    return;
  }
  errors_->push_back({Locate(path, mark), path, std::move(message)});
}

SourceLocation ParseContext::Locate(const std::string& path, const YAML::Mark& mark) const {
  // The last override that set this field or a parent of it supplied the bad value.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    if (IsSameOrUnder(path, it->path)) return it->where;
  }
  // A map an override created on its way down was not in the file: its mark (yaml-cpp gives
  // built nodes line 0, column 0) means nothing, so blame the override.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    const bool copied = std::any_of(it->copied_marks.begin(), it->copied_marks.end(),
                                    [&](const auto& c) { return c.first == path; });
    if (!path.empty() && IsSameOrUnder(it->path, path) && !copied) return it->where;
  }
  const YAML::Mark at = mark.is_null() ? CopiedMark(path) : mark;
  if (!at.is_null()) return {file_, at.line + 1, at.column + 1};
  // A map the override created on its way down has no mark: blame the override below it.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    if (IsSameOrUnder(it->path, path)) return it->where;
  }
  return {file_, 0, 0};
}

YAML::Mark ParseContext::CopiedMark(const std::string& path) const {
  // The nearest: an error about a missing key points at the enclosing map.
  YAML::Mark best = YAML::Mark::null_mark();
  std::optional<size_t> best_length;
  for (const AppliedOverride& o : overrides_) {
    for (const auto& [copied, copied_mark] : o.copied_marks) {
      if (IsSameOrUnder(path, copied) && (!best_length || copied.size() > *best_length)) {
        best = copied_mark;
        best_length = copied.size();
      }
    }
  }
  return best;
}

YAML::Mark Field::mark() const {
  if (value.IsDefined() && !value.IsNull() && !value.Mark().is_null()) return value.Mark();
  if (key.IsDefined() && !key.IsNull()) return key.Mark();
  return value.Mark();
}

std::string Field::Child(std::string_view name) const {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined: return "nothing";
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: break;
  }
  std::string text = node.Scalar();
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars - 3) + "...";
  return IsQuoted(node) ? "\"" + text + "\"" : text;
}

std::string NumberRange::ToString() const {
  return "a number in " + std::string(lo_open ? "(" : "[") + FormatNumber(lo) + ", " +
         FormatNumber(hi) + "]";
}

bool ReadNumber(ParseContext& ctx, const Field& f, const NumberRange& range, double* out) {
  const std::optional<double> v =
      IsPlainScalar(f.value) ? ParseYamlDouble(f.value.Scalar()) : std::nullopt;
  if (!v || !range.Contains(*v)) {
    ctx.Error(f.path, f.mark(), "expected " + range.ToString() + ", got " + Describe(f.value));
    return false;
  }
  *out = *v;
  return true;
}

bool ReadInt(ParseContext& ctx, const Field& f, int64_t lo, int64_t hi, int64_t* out) {
  const std::optional<int64_t> v =
      IsPlainScalar(f.value) ? ParseYamlInt64(f.value.Scalar()) : std::nullopt;
  if (!v || *v < lo || *v > hi) {
    ctx.Error(f.path, f.mark(),
              "expected a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                  "], got " + Describe(f.value));
    return false;
  }
  *out = *v;
  return true;
}

bool ReadUint64(ParseContext& ctx, const Field& f, uint64_t* out) {
  const std::optional<uint64_t> v =
      IsPlainScalar(f.value) ? ParseYamlUint64(f.value.Scalar()) : std::nullopt;
  if (!v) {
    ctx.Error(f.path, f.mark(),
              "expected a whole number in [0, " +
                  std::to_string(std::numeric_limits<uint64_t>::max()) + "], got " +
                  Describe(f.value));
    return false;
  }
  *out = *v;
  return true;
}

bool ReadString(ParseContext& ctx, const Field& f, std::string* out) {
  if (!f.value.IsScalar()) {
    ctx.Error(f.path, f.mark(), "expected a string, got " + Describe(f.value));
    return false;
  }
  *out = f.value.Scalar();
  return true;
}

bool HasWord(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

bool ReadWords(ParseContext& ctx, const Field& f, std::string* out) {
  std::string text;
  if (!ReadString(ctx, f, &text)) return false;
  if (!HasWord(text)) {
    ctx.Error(f.path, f.mark(), "expected some words, got " + Describe(f.value));
    return false;
  }
  *out = std::move(text);
  return true;
}

bool ReadBool(ParseContext& ctx, const Field& f, bool* out) {
  const std::optional<bool> v =
      IsPlainScalar(f.value) ? ParseYamlBool(f.value.Scalar()) : std::nullopt;
  if (!v) {
    ctx.Error(f.path, f.mark(), "expected true or false, got " + Describe(f.value));
    return false;
  }
  *out = *v;
  return true;
}

bool ReadChoice(ParseContext& ctx, const Field& f, std::span<const std::string_view> choices,
                size_t* index) {
  std::string text;
  if (!ReadString(ctx, f, &text)) return false;
  const auto it = std::find(choices.begin(), choices.end(), text);
  if (it == choices.end()) {
    std::string list;
    for (std::string_view c : choices) list += (list.empty() ? "" : " | ") + std::string(c);
    ctx.Error(f.path, f.mark(), "expected " + list + ", got " + Describe(f.value));
    return false;
  }
  *index = static_cast<size_t>(it - choices.begin());
  return true;
}

bool ReadExistingFile(ParseContext& ctx, const Field& f, const std::string& base_dir,
                      std::initializer_list<std::string_view> extensions, std::string* out) {
  std::string given;
  if (!ReadString(ctx, f, &given)) return false;
  std::filesystem::path path(given);
  const std::string extension = Lowercase(path.extension().string());
  if (extensions.size() > 0 &&
      std::find(extensions.begin(), extensions.end(), extension) == extensions.end()) {
    std::string list;
    for (std::string_view e : extensions) list += (list.empty() ? "" : " or ") + std::string(e);
    ctx.Error(f.path, f.mark(), "expected a " + list + " file, got " + Describe(f.value));
    return false;
  }
  if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
  path = path.lexically_normal();
  const std::string problem = given.empty() ? "no such file" : agent::RegularFileProblem(path);
  if (problem == "no such file") {
    ctx.Error(f.path, f.key.Mark(),
              "no such file: " + path.string() +
                  " (relative paths start at the scenario's folder)");
    return false;
  }
  if (!problem.empty()) {  // a directory, a FIFO, a device: say so
    ctx.Error(f.path, f.key.Mark(), path.string() + ": " + problem);
    return false;
  }
  *out = path.string();
  return true;
}

bool ReadAudioFile(ParseContext& ctx, const Field& f, const std::string& base_dir,
                   double max_seconds, std::string* out) {
  std::string path;
  if (!ReadExistingFile(ctx, f, base_dir, {".wav", ".flac"}, &path)) return false;
  AudioHeader header;
  std::string error;
  if (!OpenAudioFile(path, max_seconds, &header, &error)) {
    ctx.Error(f.path, f.mark(), path + ": " + error);
    return false;
  }
  *out = std::move(path);
  return true;
}

MapReader::MapReader(ParseContext& ctx, const Field& field,
                     const std::vector<std::string_view>& known, std::string_view noun)
    : ctx_(ctx), field_(field) {
  const YAML::Node& v = field.value;
  if (!v.IsDefined() || v.IsNull()) {
    is_map_ = true;  // `key:` with nothing after it reads as an empty map
    return;
  }
  if (!v.IsMap()) {
    ctx.Error(field.path, field.mark(), "expected a map, got " + Describe(v));
    return;
  }
  is_map_ = true;
  // Every plain key once, known or not, with where it was first seen, to find duplicates. A hash
  // set, not a scan of the keys so far: a map may hold hundreds of thousands of (unknown) keys.
  std::unordered_map<std::string, YAML::Mark> seen;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      ++rejected_keys_;
      ctx.Error(field.path, key.Mark(), "expected a string key, got " + Describe(key));
      continue;
    }
    Field entry{field.Child(key.Scalar()), key, it->second};
    const auto [first, inserted] = seen.try_emplace(key.Scalar(), key.Mark());
    if (!inserted) {
      const SourceLocation at = ctx.Locate(entry.path, first->second);
      ctx.Error(entry.path, key.Mark(),
                "duplicate key " + key.Scalar() +
                    (at.line > 0 ? " (first at line " + std::to_string(at.line) + ")" : ""));
      ++rejected_keys_;
      continue;
    }
    if (std::find(known.begin(), known.end(), key.Scalar()) == known.end()) {
      ++rejected_keys_;
      ctx.Error(entry.path, key.Mark(), UnknownKeyMessage(key.Scalar(), known, noun));
      continue;
    }
    entries_.push_back(std::move(entry));
  }
}

std::optional<Field> MapReader::Get(std::string_view key) const {
  const std::string path = field_.Child(key);
  for (const Field& e : entries_) {
    if (e.path == path) return e;
  }
  return std::nullopt;
}

bool MapReader::Require(std::string_view key) const {
  if (!is_map_ || Has(key)) return true;  // a non-map was reported already
  ctx_.Error(field_.Child(key), field_.mark(), "missing required key " + std::string(key));
  return false;
}

void MapReader::Number(std::string_view key, const NumberRange& range, double* out) const {
  if (std::optional<Field> f = Get(key)) ReadNumber(ctx_, *f, range, out);
}

void MapReader::String(std::string_view key, std::string* out) const {
  if (std::optional<Field> f = Get(key)) ReadString(ctx_, *f, out);
}

void MapReader::Bool(std::string_view key, bool* out) const {
  if (std::optional<Field> f = Get(key)) ReadBool(ctx_, *f, out);
}

}  // namespace callsim::harness
