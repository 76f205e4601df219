// The tools the fake back ends serve (fake_tools.h), declared as the reference agent declares
// tools: description, JSON Schema for the arguments, destructive flag, timeout and back end.
// scenarios/tools/standard.yaml holds the same list for scenarios (a test keeps the two equal),
// and StandardFakeToolBackendSpecs() gives each back end a plausible latency.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/tools/tool_spec.h"
#include "fakes/tools/fake_tool_backend.h"

namespace callsim::fakes {

// check_order_status, cancel_order, find_slots, book_appointment, cancel_appointment,
// take_payment, refund, transfer_to_human; destructive: cancel_order, cancel_appointment,
// take_payment, refund. Every schema requires all its properties and allows no others.
std::vector<agent::ToolSpec> StandardToolSpecs();

// "orders", "appointments", "payments", "transfer": no errors, timeouts or outages; latency
// p50/p95 of 150/400 ms (payments 400/1200 ms).
std::map<std::string, FakeToolBackendSpec> StandardFakeToolBackendSpecs();

}  // namespace callsim::fakes
