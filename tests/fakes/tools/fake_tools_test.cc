#include "fakes/tools/fake_tools.h"

#include <string>

#include <gtest/gtest.h>

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;

Json Result(const char* backend, const char* tool, const char* args) {
  const agent::ToolOutcome o = RunFakeTool(backend, tool, Json::parse(args));
  EXPECT_TRUE(o.ok) << tool << " " << args << ": " << o.error;
  return o.result;
}

std::string Error(const char* backend, const char* tool, const char* args) {
  const agent::ToolOutcome o = RunFakeTool(backend, tool, Json::parse(args));
  EXPECT_FALSE(o.ok) << tool << " " << args;
  return o.error;
}

TEST(FakeToolsTest, OrderStatusComesFromTheDigits) {
  EXPECT_EQ(Result("orders", "check_order_status", R"({"order_id": "4567"})"),
            Json::parse(R"({"order_id": "4567", "status": "shipped", "eta_days": 2})"));
  EXPECT_EQ(Result("orders", "check_order_status", R"({"order_id": "1236"})"),
            Json::parse(R"({"order_id": "1236", "status": "processing", "eta_days": 4})"));
  EXPECT_EQ(Result("orders", "check_order_status", R"({"order_id": "1235"})"),
            Json::parse(R"({"order_id": "1235", "status": "delivered", "eta_days": 0})"));
}

TEST(FakeToolsTest, UnknownOrdersAreNotFound) {
  for (const char* args : {R"({"order_id": "0123"})", R"({"order_id": "12a4"})",
                           R"({"order_id": "12"})", R"({"order_id": "1234567890123"})",
                           R"({"order_id": 4567})", R"({})"}) {
    EXPECT_EQ(Error("orders", "check_order_status", args), "order not found") << args;
    EXPECT_EQ(Error("orders", "cancel_order", args), "order not found") << args;
  }
  EXPECT_EQ(Result("orders", "cancel_order", R"({"order_id": "4567"})"),
            Json::parse(R"({"order_id": "4567", "cancelled": true})"));
}

TEST(FakeToolsTest, SlotsAreThreeOrderedHalfHoursDuringTheDayPerDay) {
  for (const char* day : {"monday", "tuesday", "friday", "next week", "x"}) {
    const Json r = Result("appointments", "find_slots", (R"({"day": ")" + std::string(day) + "\"}").c_str());
    ASSERT_EQ(r["slots"].size(), 3u) << day;
    std::string previous = "08:59";
    for (const Json& slot : r["slots"]) {
      const std::string t = slot.get<std::string>();
      ASSERT_EQ(t.size(), 5u);
      EXPECT_TRUE(t.substr(3) == "00" || t.substr(3) == "30") << t;
      EXPECT_GT(t, previous);
      EXPECT_LE(t, "16:30");
      previous = t;
    }
  }
  EXPECT_EQ(Result("appointments", "find_slots", R"({"day": "Monday"})")["slots"],
            Result("appointments", "find_slots", R"({"day": "monday"})")["slots"]);
  EXPECT_EQ(Error("appointments", "find_slots", R"({"day": ""})"), "invalid arguments");
}

TEST(FakeToolsTest, BookingGivesAStableConfirmationThatCancels) {
  const Json r = Result("appointments", "book_appointment", R"({"day": "monday", "time": "10:30"})");
  const std::string confirmation = r["confirmation"];
  ASSERT_EQ(confirmation.size(), 7u);
  EXPECT_EQ(confirmation[0], 'A');
  EXPECT_EQ(confirmation.find_first_not_of("0123456789", 1), std::string::npos);
  EXPECT_EQ(Result("appointments", "book_appointment", R"({"day": "monday", "time": "10:30"})"), r);
  EXPECT_NE(Result("appointments", "book_appointment", R"({"day": "monday", "time": "11:00"})")
                ["confirmation"],
            confirmation);
  const Json cancel = Json{{"confirmation", confirmation}};
  EXPECT_EQ(RunFakeTool("appointments", "cancel_appointment", cancel).result,
            Json({{"confirmation", confirmation}, {"cancelled", true}}));
  EXPECT_EQ(Error("appointments", "cancel_appointment", R"({"confirmation": "B123"})"),
            "appointment not found");
  EXPECT_EQ(Error("appointments", "book_appointment", R"({"day": "monday"})"), "invalid arguments");
}

TEST(FakeToolsTest, PaymentsAndRefunds) {
  const Json p = Result("payments", "take_payment", R"({"amount": 42.5, "card_number": "4111111111111234"})");
  EXPECT_EQ(p["amount"], 42.5);
  EXPECT_EQ(p["card_last4"], "1234");
  const std::string id = p["payment_id"];
  EXPECT_EQ(id.size(), 9u);
  EXPECT_EQ(id[0], 'P');
  EXPECT_EQ(Error("payments", "take_payment", R"({"amount": 0, "card_number": "4111111111111234"})"),
            "invalid amount");
  EXPECT_EQ(Error("payments", "take_payment", R"({"amount": "5", "card_number": "4111111111111234"})"),
            "invalid amount");
  EXPECT_EQ(Error("payments", "take_payment", R"({"amount": 5, "card_number": "4111-1111-1111"})"),
            "invalid card number");
  EXPECT_EQ(Error("payments", "take_payment", R"({"amount": 5, "card_number": "411111111111"})"),
            "invalid card number");
  const Json r = Result("payments", "refund", R"({"order_id": "4567", "amount": 10})");
  EXPECT_EQ(r["order_id"], "4567");
  EXPECT_EQ(r["amount"], 10);
  EXPECT_EQ(r["refund_id"].get<std::string>()[0], 'R');
  EXPECT_EQ(Error("payments", "refund", R"({"order_id": "0001", "amount": 10})"), "order not found");
}

TEST(FakeToolsTest, TransferQueuesForTheDepartment) {
  const Json r = Result("transfer", "transfer_to_human", R"({"department": "billing"})");
  EXPECT_EQ(r["queue"], "billing");
  EXPECT_GE(r["expected_wait_s"].get<int>(), 30);
  EXPECT_LE(r["expected_wait_s"].get<int>(), 300);
}

TEST(FakeToolsTest, ToolsBelongToTheirBackEnd) {
  EXPECT_EQ(Error("orders", "take_payment", R"({"amount": 5, "card_number": "4111111111111234"})"),
            "unknown tool");
  EXPECT_EQ(Error("nowhere", "check_order_status", R"({"order_id": "4567"})"), "unknown tool");
  EXPECT_EQ(Error("orders", "check_order_status", "[1, 2]"), "order not found");
}

TEST(FakeToolsTest, OnlyReadOnlyToolsChangeNothing) {
  EXPECT_FALSE(FakeToolChangesSomething("check_order_status"));
  EXPECT_FALSE(FakeToolChangesSomething("find_slots"));
  EXPECT_FALSE(FakeToolChangesSomething("unknown"));
  for (const char* tool : {"cancel_order", "book_appointment", "cancel_appointment",
                           "take_payment", "refund", "transfer_to_human"}) {
    EXPECT_TRUE(FakeToolChangesSomething(tool)) << tool;
  }
}

}  // namespace
}  // namespace callsim::fakes
