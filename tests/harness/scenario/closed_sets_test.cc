// The scenario's closed sets: each name table lists exactly the values scenarios/schema.json
// allows, in the same order, so the schema check and the loader accept the same strings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/schema_text.h"

namespace callsim::harness {
namespace {

// The "enum" list at `pointer` in the schema.
std::vector<std::string> SchemaEnum(const std::string& pointer) {
  const nlohmann::json schema = nlohmann::json::parse(ScenarioSchemaText());
  return schema.at(nlohmann::json::json_pointer(pointer + "/enum")).get<std::vector<std::string>>();
}

template <typename Table>
std::vector<std::string> Names(const Table& table, size_t count) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) out.emplace_back(table.names()[i]);
  return out;
}

template <typename Table>
std::vector<std::string> Names(const Table& table) {
  return Names(table, table.names().size());
}

TEST(ClosedSetsTest, NameTablesMatchTheSchema) {
  EXPECT_EQ(Names(agent::kCodecNames), SchemaEnum("/properties/codec"));
  EXPECT_EQ(Names(kNoiseTypeNames),
            SchemaEnum("/properties/caller/properties/noise/properties/type"));
  EXPECT_EQ(Names(kSttProfileNames),
            SchemaEnum("/properties/fakes/properties/stt/properties/profile"));
  EXPECT_EQ(Names(fakes::kJitterDistributionNames),
            SchemaEnum("/definitions/link/properties/jitter_distribution"));
  EXPECT_EQ(Names(kLossModelNames), SchemaEnum("/definitions/loss/properties/model"));
  EXPECT_EQ(Names(kWaitForNames), SchemaEnum("/definitions/turn/properties/wait_for"));
  EXPECT_EQ(Names(kCallEndedByNames, kExpectableCallEnds),
            SchemaEnum("/definitions/expectation/properties/call_ends/properties/by"));
}

TEST(ClosedSetsTest, StoredAndPrintedNamesStayAsTheyWere) {
  // Stored in expectations.kind and printed in failure reasons: part of the store's contract.
  EXPECT_EQ(kExpectationKindNames.Join(",", ","),
            "agent_says,turn_latency,agent_stops,tool_call,no_reply,call_ends,agent_repeats");
  EXPECT_EQ(kCallEndedByNames.Name(CallEndedBy::kOther), "other");
  EXPECT_EQ(kLoadPhaseKindNames.Join(",", ","), "constant,ramp,poisson");
}

}  // namespace
}  // namespace callsim::harness
