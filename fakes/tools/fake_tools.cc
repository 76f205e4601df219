#include "fakes/tools/fake_tools.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "agent/runtime/rng.h"

namespace callsim::fakes {
namespace {

using Json = nlohmann::json;
using agent::ToolOutcome;

ToolOutcome Ok(Json result) {
  ToolOutcome outcome;
  outcome.ok = true;
  outcome.result = std::move(result);
  return outcome;
}

// A business refusal: the back end is healthy (ToolOutcome::rejected).
ToolOutcome Error(const char* error) {
  ToolOutcome outcome;
  outcome.error = error;
  outcome.rejected = true;
  return outcome;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// args[key] when it is a non-empty string; nullptr otherwise.
const std::string* Text(const Json& args, const char* key) {
  if (!args.is_object()) return nullptr;
  const auto it = args.find(key);
  if (it == args.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return nullptr;
  }
  return &it->get_ref<const std::string&>();
}

// args[key] when it is a finite number > 0.
bool Amount(const Json& args, const char* key, double* amount) {
  if (!args.is_object() || !args.contains(key) || !args[key].is_number()) return false;
  *amount = args[key].get<double>();
  return std::isfinite(*amount) && *amount > 0;
}

bool KnownOrder(const std::string* id) {
  return id && id->size() >= 3 && id->size() <= 12 && AllDigits(*id) && (*id)[0] != '0';
}

// A stable number with `digits` digits (no leading zero) derived from `text`.
std::string DerivedDigits(std::string_view text, int digits) {
  uint64_t low = 1;
  for (int i = 1; i < digits; ++i) low *= 10;
  return std::to_string(low + agent::Fnv1a64(text) % (9 * low));
}

ToolOutcome CheckOrderStatus(const Json& args) {
  const std::string* id = Text(args, "order_id");
  if (!KnownOrder(id)) return Error("order not found");
  int sum = 0;
  for (char c : *id) sum += c - '0';
  const int last = id->back() - '0';
  static constexpr const char* kStatus[] = {"processing", "shipped", "delivered"};
  const int status = sum % 3;
  const int eta_days = status == 0 ? 4 + last % 3 : status == 1 ? 1 + last % 3 : 0;
  return Ok({{"order_id", *id}, {"status", kStatus[status]}, {"eta_days", eta_days}});
}

ToolOutcome CancelOrder(const Json& args) {
  const std::string* id = Text(args, "order_id");
  if (!KnownOrder(id)) return Error("order not found");
  return Ok({{"order_id", *id}, {"cancelled", true}});
}

std::string Lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Three distinct half-hour slots between 09:00 and 16:30, in order, chosen by the day's name.
ToolOutcome FindSlots(const Json& args) {
  const std::string* day = Text(args, "day");
  if (!day) return Error("invalid arguments");
  const uint64_t h = agent::Fnv1a64("slots/" + Lowercase(*day));
  const uint64_t first = h % 10;             // 0..9
  const uint64_t step = 1 + (h >> 16) % 3;   // 1..3, so the last is at most 15
  Json slots = Json::array();
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t half_hours = first + i * step;
    char time[6];
    std::snprintf(time, sizeof time, "%02d:%02d", static_cast<int>(9 + half_hours / 2),
                  static_cast<int>(half_hours % 2 * 30));
    slots.push_back(time);
  }
  return Ok({{"day", *day}, {"slots", std::move(slots)}});
}

ToolOutcome BookAppointment(const Json& args) {
  const std::string* day = Text(args, "day");
  const std::string* time = Text(args, "time");
  if (!day || !time) return Error("invalid arguments");
  const std::string confirmation = "A" + DerivedDigits(Lowercase(*day) + " " + *time, 6);
  return Ok({{"confirmation", confirmation}, {"day", *day}, {"time", *time}});
}

ToolOutcome CancelAppointment(const Json& args) {
  const std::string* confirmation = Text(args, "confirmation");
  if (!confirmation || confirmation->size() < 2 || confirmation->size() > 12 ||
      (*confirmation)[0] != 'A' || !AllDigits(std::string_view(*confirmation).substr(1))) {
    return Error("appointment not found");
  }
  return Ok({{"confirmation", *confirmation}, {"cancelled", true}});
}

ToolOutcome TakePayment(const Json& args) {
  double amount = 0;
  if (!Amount(args, "amount", &amount)) return Error("invalid amount");
  const std::string* card = Text(args, "card_number");
  if (!card || card->size() < 13 || card->size() > 19 || !AllDigits(*card)) {
    return Error("invalid card number");
  }
  const std::string payment_id = "P" + DerivedDigits(*card + " " + args["amount"].dump(), 8);
  return Ok({{"payment_id", payment_id}, {"amount", args["amount"]},
             {"card_last4", card->substr(card->size() - 4)}});
}

ToolOutcome Refund(const Json& args) {
  const std::string* id = Text(args, "order_id");
  if (!KnownOrder(id)) return Error("order not found");
  double amount = 0;
  if (!Amount(args, "amount", &amount)) return Error("invalid amount");
  const std::string refund_id = "R" + DerivedDigits(*id + " " + args["amount"].dump(), 8);
  return Ok({{"refund_id", refund_id}, {"order_id", *id}, {"amount", args["amount"]}});
}

ToolOutcome TransferToHuman(const Json& args) {
  const std::string* department = Text(args, "department");
  if (!department) return Error("invalid arguments");
  const int wait_s = 30 + static_cast<int>(agent::Fnv1a64(Lowercase(*department)) % 271);
  return Ok({{"queue", *department}, {"expected_wait_s", wait_s}});
}

struct FakeTool {
  std::string_view backend;
  std::string_view name;
  bool changes_something;
  ToolOutcome (*run)(const Json& args);
};

constexpr FakeTool kTools[] = {
    {"orders", "check_order_status", false, CheckOrderStatus},
    {"orders", "cancel_order", true, CancelOrder},
    {"appointments", "find_slots", false, FindSlots},
    {"appointments", "book_appointment", true, BookAppointment},
    {"appointments", "cancel_appointment", true, CancelAppointment},
    {"payments", "take_payment", true, TakePayment},
    {"payments", "refund", true, Refund},
    {"transfer", "transfer_to_human", true, TransferToHuman},
};

}  // namespace

agent::ToolOutcome RunFakeTool(std::string_view backend, std::string_view tool,
                               const nlohmann::json& args) {
  for (const FakeTool& t : kTools) {
    if (t.backend == backend && t.name == tool) return t.run(args);
  }
  return Error("unknown tool");
}

bool FakeToolChangesSomething(std::string_view tool) {
  return std::any_of(std::begin(kTools), std::end(kTools),
                     [&](const FakeTool& t) { return t.name == tool && t.changes_something; });
}

}  // namespace callsim::fakes
