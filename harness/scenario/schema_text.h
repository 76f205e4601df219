// The scenario JSON Schema (draft-07), compiled in: scenarios/schema.json is the truth about the
// scenario format, and the build compiles it in (schema_text.cc.in, filled by CMake at configure
// time) so the binary needs no file at run time.
#pragma once

#include <string_view>

namespace callsim::harness {

// The text of scenarios/schema.json.
std::string_view ScenarioSchemaText();

}  // namespace callsim::harness
