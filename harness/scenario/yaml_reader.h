// Reading a YAML tree into typed values with errors that say where and what: the building blocks
// of the scenario loader. Nothing here throws on bad input; each reader appends an error to the
// ParseContext and leaves its output untouched, so parsing goes on and reports every problem.
// Internal to harness/scenario.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/runtime/name_table.h"
#include "harness/scenario/overrides.h"
#include "harness/scenario/scenario_error.h"

namespace callsim::harness {

// Collects the errors of one load. Knows which fields --set overrides supplied, so an error in
// an overridden field names the override instead of a file position.
class ParseContext {
 public:
  // A bound on what one context collects (memory); errors past it are dropped and truncated()
  // turns true. The loader reports fewer (kMaxReportedErrors in loader.cc) after merging these
  // with the schema's findings, so this only has to be comfortably larger.
  static constexpr size_t kMaxErrors = 1000;

  ParseContext(std::string file, std::vector<AppliedOverride> overrides,
               std::vector<ScenarioError>* errors);

  // Appends an error about the field at `path`, found at `mark` (a null mark if unknown).
  void Error(const std::string& path, const YAML::Mark& mark, std::string message);
  // Where to report a problem with the field at `path` seen at `mark`: the --set that supplied
  // the field or a parent of it; else the mark (or, for a map or list an override copied, its
  // original's); else the --set that created the field's children; else the file without a line.
  SourceLocation Locate(const std::string& path, const YAML::Mark& mark) const;
  const std::string& file() const { return file_; }
  bool truncated() const { return truncated_; }

 private:
  YAML::Mark CopiedMark(const std::string& path) const;

  std::string file_;
  std::vector<AppliedOverride> overrides_;
  std::vector<ScenarioError>* errors_;
  bool truncated_ = false;
};

// One value in the tree with its dotted path, and its key when it is a map entry.
struct Field {
  std::string path;
  YAML::Node key;  // null node for list elements and the root
  YAML::Node value;

  // Where to point at: the value, unless it is empty (a null value's mark is unreliable).
  YAML::Mark mark() const;
  std::string Child(std::string_view name) const;
};

// The shortest text that reads back as `v` (300, 0.05, 1000000, 1.5e+20), independent of the
// locale; whole numbers below 1e15 in full.
std::string FormatNumber(double v);

// How a scalar reads. Quoted scalars are always strings; a plain one is a number when it follows
// YAML 1.2 core syntax for finite numbers (1e3, .5, +0.25; not .inf, 0x10 or 1_0).
bool IsQuoted(const YAML::Node& node);
bool IsPlainScalar(const YAML::Node& node);
std::optional<double> ParseYamlDouble(std::string_view s);
std::optional<int64_t> ParseYamlInt64(std::string_view s);
std::optional<uint64_t> ParseYamlUint64(std::string_view s);
// true / True / TRUE and false / False / FALSE; nullopt for anything else.
std::optional<bool> ParseYamlBool(std::string_view s);

// True when dotted `path` is `parent` or inside it; everything is inside the root "".
bool IsSameOrUnder(const std::string& path, const std::string& parent);

// "unknown key losss (did you mean loss?)" or "unknown key colour (expected one of: a, b)".
// With noun "metric": "unknown metric p95 (known metrics: turn_latency, ...)", always listing
// them, with a "did you mean" first when one is close.
std::string UnknownKeyMessage(std::string_view name, const std::vector<std::string_view>& known,
                              std::string_view noun = "key");

// How a value looks in a message: 1.5, "text" (quoted if it was quoted), null, a map, a list.
std::string Describe(const YAML::Node& node);

// A closed interval [lo, hi], or (lo, hi] when lo_open.
struct NumberRange {
  double lo;
  double hi;
  bool lo_open = false;

  bool Contains(double v) const { return (lo_open ? v > lo : v >= lo) && v <= hi; }
  // "a number in [0, 1]".
  std::string ToString() const;
};

// Each reader returns false, appends an error and leaves `out` untouched when the value has the
// wrong type or is out of range. Numbers must be plain (unquoted) YAML scalars: "40" is a string.
bool ReadNumber(ParseContext& ctx, const Field& f, const NumberRange& range, double* out);
bool ReadInt(ParseContext& ctx, const Field& f, int64_t lo, int64_t hi, int64_t* out);
bool ReadUint64(ParseContext& ctx, const Field& f, uint64_t* out);
// Any scalar reads as its text; null, maps and lists do not.
bool ReadString(ParseContext& ctx, const Field& f, std::string* out);
// True when `text` has a letter or a digit: phrases are spoken and matched as words.
bool HasWord(std::string_view text);
// A string with at least one word in it.
bool ReadWords(ParseContext& ctx, const Field& f, std::string* out);
bool ReadBool(ParseContext& ctx, const Field& f, bool* out);
// A string that must be one of `choices`; writes its index in them.
bool ReadChoice(ParseContext& ctx, const Field& f, std::span<const std::string_view> choices,
                size_t* index);
// A string that must be one of `table`'s names (only the first `count` of them, when given),
// read as its enum.
template <typename Enum, size_t N>
bool ReadEnum(ParseContext& ctx, const Field& f, const agent::NameTable<Enum, N>& table, Enum* out,
              size_t count = N) {
  size_t index = 0;
  if (!ReadChoice(ctx, f, std::span(table.names()).first(count), &index)) return false;
  *out = static_cast<Enum>(index);
  return true;
}
// A path to an existing regular file, relative paths resolved against `base_dir` (the scenario's
// folder). With `extensions` (lowercase, with the dot), the name must end in one of them, in any
// case. A directory, FIFO or device is reported as what it is; the file is only stat'ed, never
// opened, so a FIFO cannot block. Writes the resolved, lexically normal path.
bool ReadExistingFile(ParseContext& ctx, const Field& f, const std::string& base_dir,
                      std::initializer_list<std::string_view> extensions, std::string* out);
// ReadExistingFile for a .wav or .flac recording that also opens it and checks its header
// (OpenAudioFile in audio_header.h: format, channels, sample rate, length up to `max_seconds`,
// size), so a bad recording is reported at its reference in the scenario, not at run time.
bool ReadAudioFile(ParseContext& ctx, const Field& f, const std::string& base_dir,
                   double max_seconds, std::string* out);

// Reads a YAML map whose keys are known in advance. The constructor reports a value that is not a
// map (null reads as an empty map), keys that are not plain strings, duplicate keys (yaml-cpp
// keeps them silently) and unknown keys, listing the known ones.
class MapReader {
 public:
  MapReader(ParseContext& ctx, const Field& field, std::initializer_list<std::string_view> known)
      : MapReader(ctx, field, std::vector<std::string_view>(known)) {}
  // `noun` names the keys in the unknown-key message (see UnknownKeyMessage).
  MapReader(ParseContext& ctx, const Field& field, const std::vector<std::string_view>& known,
            std::string_view noun = "key");

  bool is_map() const { return is_map_; }
  // Keys reported as unknown, duplicate or not strings. Lets a caller skip a follow-on error
  // ("nothing given") that a misspelt key already explains.
  size_t rejected_keys() const { return rejected_keys_; }
  const Field& field() const { return field_; }
  ParseContext& ctx() const { return ctx_; }
  // The entry for `key` (one of the known keys), or nullopt when absent.
  std::optional<Field> Get(std::string_view key) const;
  // The known keys present, in file order.
  const std::vector<Field>& entries() const { return entries_; }
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  // Reports a missing key that must be present; returns false if it is missing.
  bool Require(std::string_view key) const;

  // Shorthands: read `key` into `out` when present. Absent keys leave the default in place.
  void Number(std::string_view key, const NumberRange& range, double* out) const;
  void String(std::string_view key, std::string* out) const;
  void Bool(std::string_view key, bool* out) const;
  template <typename E, size_t N>
  void Enum(std::string_view key, const agent::NameTable<E, N>& table, E* out,
            size_t count = N) const {
    if (std::optional<Field> f = Get(key)) ReadEnum(ctx_, *f, table, out, count);
  }

 private:
  ParseContext& ctx_;
  Field field_;
  bool is_map_ = false;
  size_t rejected_keys_ = 0;
  std::vector<Field> entries_;  // in file order; unknown and duplicate keys left out
};

}  // namespace callsim::harness
