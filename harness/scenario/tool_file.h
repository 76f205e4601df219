// The declared tools of an agent, read from a YAML list (scenarios/tools/standard.yaml):
//
//   - name: cancel_order
//     description: cancel your order          # said in the confirmation question
//     backend: orders                         # the fake back end that runs it
//     destructive: true                       # the caller must say yes first
//     timeout_ms: 3000
//     parameters:                             # JSON Schema (draft-07) for the arguments, as YAML
//       type: object
//       required: [order_id]
//       additionalProperties: false
//       properties: { order_id: { type: string, pattern: "^[0-9]{1,12}$" } }
//
// Unknown keys, wrong types, duplicate names and parameters that are not a schema object are
// errors as "file:line:col: path: message".
#pragma once

#include <string>
#include <vector>

#include "agent/tools/tool_spec.h"

namespace callsim::harness {

inline constexpr size_t kMaxToolFileBytes = 1 << 20;
inline constexpr size_t kMaxDeclaredTools = 200;

bool LoadToolFile(const std::string& path, std::vector<agent::ToolSpec>* out, std::string* error);
bool ParseToolFile(const std::string& yaml_text, const std::string& name_for_errors,
                   std::vector<agent::ToolSpec>* out, std::string* error);

}  // namespace callsim::harness
