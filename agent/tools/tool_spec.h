// A tool the reference agent may run, as declared in its configuration: the JSON Schema its
// arguments must satisfy, whether it changes something that cannot be undone (destructive: the
// caller must confirm it aloud first), how long it may take and which back end runs it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace callsim::agent {

struct ToolSpec {
  std::string name;
  // Said in the confirmation question of a destructive tool ("cancel your order"), and given to
  // the model. Plain words.
  std::string description;
  // JSON Schema (draft-07) for the arguments object. An empty object accepts any object.
  nlohmann::json parameters = nlohmann::json::object();
  bool destructive = false;
  // The call fails with "timeout" (and counts against the back end's circuit breaker) when the
  // back end has not answered after this long.
  double timeout_ms = 3000;
  // The back end that runs the tool; one circuit breaker per back end name.
  std::string backend;
};

}  // namespace callsim::agent
