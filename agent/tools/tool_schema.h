// A tool's argument schema (JSON Schema draft-07), compiled once with valijson, and the reason an
// argument object fails it in a few precise words ("/order_id: expected string"). Internal to
// agent/tools (ToolGate). Never aborts or throws on a bad schema or bad arguments: valijson aborts
// the process on a schema it cannot parse, so a schema is first checked against the draft-07
// meta-schema, and what the meta-schema cannot see ($ref, invalid regular expressions) is refused.
#pragma once

#include <memory>
#include <string>

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
};

}  // namespace callsim::agent
