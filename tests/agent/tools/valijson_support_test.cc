#include "agent/tools/valijson_support.h"

#include <gtest/gtest.h>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace callsim::agent {
namespace {

TEST(ValijsonSupport, ContextSegmentsDropTheRootAndUnbracket) {
  EXPECT_EQ(ContextSegments({"<root>", "[network]", "[uplink]"}),
            (std::vector<std::string>{"network", "uplink"}));
  EXPECT_EQ(ContextSegments({"<root>", "[list]", "[1]"}), (std::vector<std::string>{"list", "1"}));
  EXPECT_EQ(ContextSegments({"<root>", "[]"}), (std::vector<std::string>{""}));
  EXPECT_TRUE(ContextSegments({"<root>"}).empty());
}

TEST(ValijsonSupport, OnlyWrappersAreWrappers) {
  EXPECT_TRUE(IsWrapperMessage("Failed to validate item #2 in array."));
  EXPECT_TRUE(
      IsWrapperMessage("Failed to validate against schema associated with property name 'x'."));
  EXPECT_FALSE(IsWrapperMessage("Missing required property 'order_id'."));
  EXPECT_FALSE(IsWrapperMessage("Failed to validate item"));  // shorter than the prefix
  EXPECT_FALSE(IsWrapperMessage(""));
}

// A compiled schema validates: the nested failure and its wrapper are both reported by valijson,
// and only the wrapper is recognised as one.
TEST(ValijsonSupport, PopulateDraft7CompilesASchemaThatValidates) {
  valijson::Schema schema;
  PopulateDraft7(nlohmann::json::parse(
                     R"({"type":"object","properties":{"n":{"type":"integer","maximum":3}}})"),
                 &schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  const nlohmann::json ok = {{"n", 3}};
  const nlohmann::json bad = {{"n", 4}};
  valijson::adapters::NlohmannJsonAdapter ok_adapter(ok), bad_adapter(bad);
  EXPECT_TRUE(validator.validate(schema, ok_adapter, nullptr));
  ASSERT_FALSE(validator.validate(schema, bad_adapter, &results));
  int wrappers = 0, findings = 0;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    (IsWrapperMessage(error.description) ? wrappers : findings)++;
    if (!IsWrapperMessage(error.description)) {
      EXPECT_EQ(ContextSegments(error.context), (std::vector<std::string>{"n"}));
    }
  }
  EXPECT_EQ(wrappers, 1);
  EXPECT_EQ(findings, 1);
}

}  // namespace
}  // namespace callsim::agent
