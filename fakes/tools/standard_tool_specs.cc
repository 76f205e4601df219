#include "fakes/tools/standard_tool_specs.h"

#include <utility>

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;

Json Text(int min_length, int max_length, const char* description) {
  return {{"type", "string"},
          {"minLength", min_length},
          {"maxLength", max_length},
          {"description", description}};
}

Json Amount() {
  return {{"type", "number"},
          {"exclusiveMinimum", 0},
          {"maximum", 100000},
          {"description", "in dollars"}};
}

Json OrderId() { return Text(1, 32, "the order number, digits only"); }

// An object schema that requires every one of `properties` and allows no others.
Json Arguments(Json properties) {
  Json required = Json::array();
  for (const auto& [name, schema] : properties.items()) required.push_back(name);
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

agent::ToolSpec Spec(const char* name, const char* description, const char* backend,
                     bool destructive, double timeout_ms, Json properties) {
  agent::ToolSpec spec;
  spec.name = name;
  spec.description = description;
  spec.parameters = Arguments(std::move(properties));
  spec.destructive = destructive;
  spec.timeout_ms = timeout_ms;
  spec.backend = backend;
  return spec;
}

}  // namespace

std::vector<agent::ToolSpec> StandardToolSpecs() {
  return {
      Spec("check_order_status", "check the status of your order", "orders", false, 3000,
           {{"order_id", OrderId()}}),
      Spec("cancel_order", "cancel your order", "orders", true, 3000, {{"order_id", OrderId()}}),
      Spec("find_slots", "find open appointment times", "appointments", false, 3000,
           {{"day", Text(1, 32, "the day, e.g. monday")}}),
      Spec("book_appointment", "book an appointment", "appointments", false, 3000,
           {{"day", Text(1, 32, "the day, e.g. monday")},
            {"time", Text(1, 16, "a time find_slots offered, HH:MM")}}),
      Spec("cancel_appointment", "cancel your appointment", "appointments", true, 3000,
           {{"confirmation", Text(2, 12, "the confirmation code, A and digits")}}),
      Spec("take_payment", "take a payment from your card", "payments", true, 5000,
           {{"amount", Amount()}, {"card_number", Text(13, 19, "the card number, digits only")}}),
      Spec("refund", "refund your order", "payments", true, 5000,
           {{"order_id", OrderId()}, {"amount", Amount()}}),
      Spec("transfer_to_human", "transfer you to a person", "transfer", false, 2000,
           {{"department", Text(1, 32, "e.g. billing, support")}}),
  };
}

std::map<std::string, FakeToolBackendSpec> StandardFakeToolBackendSpecs() {
  FakeToolBackendSpec quick;
  quick.latency = {150, 400, 10000};
  FakeToolBackendSpec slow = quick;
  slow.latency = {400, 1200, 10000};
  return {{"orders", quick}, {"appointments", quick}, {"payments", slow}, {"transfer", quick}};
}

}  // namespace callsim::fakes
