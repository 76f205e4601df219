#include "harness/caller/caller_events.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

#include "agent/pipeline/agent_events.h"
#include "harness/run/call_log.h"

namespace callsim::harness {
namespace {

TEST(CallerEventsTest, EveryKindIsDeclaredOnce) {
  std::set<std::string_view> seen;
  for (std::string_view kind : caller_events::kAll) {
    EXPECT_TRUE(seen.insert(kind).second) << "declared twice: " << kind;
  }
  EXPECT_EQ(seen.size(), 19u);
}

// A kind means one thing in the log whatever its source: no name is shared between sources.
TEST(CallerEventsTest, NoKindIsSharedWithTheAgentOrTheCall) {
  std::set<std::string_view> all(std::begin(caller_events::kAll), std::end(caller_events::kAll));
  for (std::string_view kind : agent::agent_events::kAll) {
    EXPECT_TRUE(all.insert(kind).second) << kind;
  }
  for (std::string_view kind : call_events::kAll) EXPECT_TRUE(all.insert(kind).second) << kind;
  EXPECT_EQ(all.size(), 19u + 52u + 5u);
}

}  // namespace
}  // namespace callsim::harness
