// What the fake back ends' tools do: deterministic functions of their arguments, so that a
// scenario can know what the agent must say ("order 4567 has shipped, two days"). A back end
// never trusts its caller, so arguments are checked again here: a wrong shape is an error,
// never a crash.
//
//   "orders"        check_order_status {order_id} -> {order_id, status, eta_days}
//                   cancel_order {order_id}       -> {order_id, cancelled: true}
//   "appointments"  find_slots {day}              -> {day, slots: [3 times "HH:MM"]}
//                   book_appointment {day, time}  -> {confirmation: "A<6 digits>", day, time}
//                   cancel_appointment {confirmation} -> {confirmation, cancelled: true}
//   "payments"      take_payment {amount, card_number} -> {payment_id: "P<8 digits>", amount,
//                                                          card_last4}
//                   refund {order_id, amount}     -> {refund_id: "R<8 digits>", order_id, amount}
//   "transfer"      transfer_to_human {department} -> {queue: department, expected_wait_s}
//
// Orders: an order id is known when it is 3 to 12 digits and does not start with 0; otherwise
// "order not found". Its status comes from the sum of its digits modulo 3 (0 processing,
// 1 shipped, 2 delivered), and eta_days from its last digit d: processing 4 + d % 3, shipped
// 1 + d % 3, delivered 0. So "4567" has shipped, eta 2 days; "1236" is processing, eta 4 days;
// "1235" is delivered. Amounts must be finite numbers > 0 ("invalid amount"); a card number 13 to
// 19 digits ("invalid card number"); a confirmation "A" then 1 to 11 digits ("appointment not
// found"); day, time and department non-empty strings ("invalid arguments").
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/tools/tool_backend.h"

namespace callsim::fakes {

// Runs `tool` of back end `backend`: ok with its result, or an error in the back end's words.
// A tool the back end does not have: "unknown tool".
agent::ToolOutcome RunFakeTool(std::string_view backend, std::string_view tool,
                               const nlohmann::json& args);

// Whether `tool` changes something when it succeeds (counted as an executed action): every fake
// tool except the read-only check_order_status and find_slots.
bool FakeToolChangesSomething(std::string_view tool);

}  // namespace callsim::fakes
