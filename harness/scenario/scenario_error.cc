#include "harness/scenario/scenario_error.h"

namespace callsim::harness {

std::string ScenarioError::ToString() const {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line) + ':' + std::to_string(where.column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

}  // namespace callsim::harness
