#include "agent/tools/valijson_support.h"

#include <algorithm>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>

namespace callsim::agent {
namespace {

constexpr std::string_view kWrappers[] = {
    "Failed to validate against schema associated with property name",
    "Failed to validate item #",
    "Failed to validate against additional properties schema",
    "Failed to validate against child schema",
    "Failed to validate against schema associated with pattern",
};

}  // namespace

void PopulateDraft7(const nlohmann::json& doc, valijson::Schema* out) {
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  parser.populateSchema(adapter, *out);
}

bool IsWrapperMessage(std::string_view description) {
  return std::any_of(std::begin(kWrappers), std::end(kWrappers),
                     [&](std::string_view w) { return description.starts_with(w); });
}

std::vector<std::string> ContextSegments(const std::vector<std::string>& context) {
  std::vector<std::string> out;
  for (const std::string& c : context) {
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']') {
      out.push_back(c.substr(1, c.size() - 2));
    }
  }
  return out;
}

}  // namespace callsim::agent
