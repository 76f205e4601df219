// What callsim's two JSON Schema users (tool argument schemas, agent/tools/tool_schema.h, and the
// scenario schema, harness/scenario/schema_check.h) share about valijson: compiling a draft-07
// schema, recognising the messages that only wrap a failure further down, and reading the path of
// a failure from valijson's context.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace valijson {
class Schema;
}  // namespace valijson

namespace callsim::agent {

// Compiles `doc` as a draft-07 schema into `*out`. Throws (std::exception) on a schema valijson
// cannot parse.
void PopulateDraft7(const nlohmann::json& doc, valijson::Schema* out);

// Whether a valijson error description only says "something below failed" (the failure below is
// reported separately, so the wrapper adds nothing for a person).
bool IsWrapperMessage(std::string_view description);

// valijson's context {"<root>", "[network]", "[1]"} -> {"network", "1"}.
std::vector<std::string> ContextSegments(const std::vector<std::string>& context);

}  // namespace callsim::agent
