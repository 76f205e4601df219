// The scenario JSON Schema (draft-07), compiled in: scenarios/schema.json is the truth about the
// scenario format, and this is a byte-for-byte copy of it so the binary needs no file at run time.
// A test (tests/harness/scenario/schema_test.cc) fails when the two drift apart.
#pragma once

#include <string_view>

namespace callsim::harness {

// The text of scenarios/schema.json.
std::string_view ScenarioSchemaText();

}  // namespace callsim::harness
