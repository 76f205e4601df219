// A tool's argument schema (JSON Schema draft-07), compiled once with valijson, and the reason an
// argument object fails it in a few precise words ("/order_id: expected string"). Used by ToolGate
// and by the tool file loader (to refuse an unusable schema before anything runs). Never aborts,
// throws, hangs or overflows the stack on a bad schema or hostile arguments: valijson aborts the
// process on a schema it cannot parse, so a schema is first checked against the draft-07
// meta-schema, and what the meta-schema cannot see ($ref, patterns RE2 refuses) is refused.
// valijson 1.0 matches `pattern`, `patternProperties` and the date and time formats with
// std::regex, which recurses once per character of the model's text; those keywords are matched
// with RE2 (agent/text/regex.h) instead, and valijson never sees them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace callsim::agent {

class ToolSchema {
 public:
  explicit ToolSchema(const nlohmann::json& schema);
  ~ToolSchema();
  ToolSchema(const ToolSchema&) = delete;
  ToolSchema& operator=(const ToolSchema&) = delete;

  // False when the schema could not be compiled; error() says why.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Where in the schema the problem is, as path segments from its root (property names and list
  // indexes, e.g. {"properties", "id", "pattern"}); empty for the root or when ok().
  const std::vector<std::string>& error_at() const { return error_at_; }

  // "" when `args` satisfies the schema; otherwise "<json pointer>: <what was expected>", e.g.
  // "/order_id: expected string", "/: missing required property amount",
  // "/: unexpected property colour", "/amount: expected a number > 0". With several problems the
  // first by (pointer, message) is named, so the answer never depends on valijson's order. A
  // schema that is not ok() gives "/: unusable schema (<error>)".
  std::string Check(const nlohmann::json& args) const;

 private:
  struct Compiled;
  nlohmann::json doc_;
  std::unique_ptr<Compiled> compiled_;
  std::string error_;
  std::vector<std::string> error_at_;
};

}  // namespace callsim::agent
