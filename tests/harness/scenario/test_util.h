// Helpers shared by the scenario loader tests: load a text as "s.yaml" and look at its errors.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/scenario/loader.h"

namespace callsim::harness::testing {

// Loads `text` as "s.yaml" in the working directory (or as `path`, for relative file paths).
inline LoadResult LoadAs(const std::string& text, const std::vector<std::string>& overrides = {},
                         const std::string& path = "s.yaml") {
  return LoadScenarioText(text, path, overrides);
}

inline std::vector<std::string> ErrorStrings(const LoadResult& r) {
  std::vector<std::string> out;
  for (const ScenarioError& e : r.errors) out.push_back(e.ToString());
  return out;
}

// The only error of loading `text`, as a string; "" (and a test failure) otherwise.
inline std::string OnlyErrorOf(const std::string& text,
                               const std::vector<std::string>& overrides = {},
                               const std::string& path = "s.yaml") {
  const LoadResult r = LoadAs(text, overrides, path);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 1u);
  if (r.errors.size() > 1) {
    for (const ScenarioError& e : r.errors) ADD_FAILURE() << "error: " << e.ToString();
  }
  return r.errors.empty() ? "" : r.errors[0].ToString();
}

// Loads `text`, failing the test with every error when it does not load.
inline Scenario MustLoad(const std::string& text, const std::vector<std::string>& overrides = {},
                         const std::string& path = "s.yaml") {
  LoadResult r = LoadAs(text, overrides, path);
  for (const ScenarioError& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.scenario.value_or(Scenario{});
}

}  // namespace callsim::harness::testing
