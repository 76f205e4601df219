// A fresh store in its own temporary folder for each report test, removed afterwards.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "harness/store/store.h"

namespace callsim::reports::testing {

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/callsim_reports_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string error;
    store_ = harness::Store::Open(dir_ + "/runs.db", &error);
    ASSERT_NE(store_, nullptr) << error;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<harness::Store> store_;
};

}  // namespace callsim::reports::testing
