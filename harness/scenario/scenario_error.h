// An error found in a scenario or in a --set override, with where it was found and the dotted
// path of the field (the path --set takes, e.g. network.uplink.loss or turns.1.user), so the user
// can fix it from the message alone.
#pragma once

#include <string>

#include "harness/scenario/scenario.h"

namespace callsim::harness {

struct ScenarioError {
  SourceLocation where;
  std::string path;  // empty when the error is not about one field (a YAML syntax error)
  std::string message;

  // "file:line:col: path: message"; without ":line:col" when the line is unknown (0), e.g.
  // "--set network.uplink.losss=0.1: network.uplink.losss: unknown key losss ...", and without
  // "path: " when the path is empty.
  std::string ToString() const;
};

}  // namespace callsim::harness
