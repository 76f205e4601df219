// Call and run statuses are stored by name; the names are the store's contract (its CHECK
// constraints accept exactly these), so they may not change.
#include "harness/run/status.h"

#include <gtest/gtest.h>

namespace callsim::harness {
namespace {

TEST(StatusTest, CallStatusNamesAreTheStoredOnes) {
  EXPECT_EQ(kCallStatusNames.Name(CallStatus::kCompleted), "completed");
  EXPECT_EQ(kCallStatusNames.Name(CallStatus::kFailed), "failed");
  EXPECT_EQ(kCallStatusNames.Name(CallStatus::kDropped), "dropped");
  EXPECT_EQ(kCallStatusNames.Name(CallStatus::kAborted), "aborted");
}

TEST(StatusTest, RunStatusNamesAreTheStoredOnes) {
  EXPECT_EQ(kRunStatusNames.Name(RunStatus::kRunning), "running");
  EXPECT_EQ(kRunStatusNames.Name(RunStatus::kCompleted), "completed");
  EXPECT_EQ(kRunStatusNames.Name(RunStatus::kFailed), "failed");
  EXPECT_EQ(kRunStatusNames.Name(RunStatus::kAborted), "aborted");
  EXPECT_EQ(kRunStatusNames.Parse("cancelled"), std::nullopt);
}

}  // namespace
}  // namespace callsim::harness
