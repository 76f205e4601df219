// A SIP server's socket under hostile input: the bytes are split at "\n--\n" into datagrams fed
// to a UasCore that answers every INVITE. Whatever comes, everything it sends parses as SIP, it
// never answers a response, and once its timers have run every dialog and transaction is gone
// (each has a bound and a timeout).
#include <string>
#include <string_view>
#include <vector>

#include "agent/runtime/rng.h"
#include "agent/runtime/sim_scheduler.h"
#include "agent/sip/uas_core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace callsim::agent;
  using namespace callsim::agent::sip;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  SimScheduler scheduler;
  UasConfig config;
  config.local = {"127.0.0.1", 5060};
  config.max_dialogs = 4;
  config.max_transactions = 16;
  UasCore* core = nullptr;
  UasEvents events;
  events.on_invite = [&core](SipDialogId id, const SipMessage&, const HostPort&) {
    core->Answer(id, "v=0\r\n");
  };
  int sends = 0;
  UasCore uas(
      scheduler, config, events,
      [&sends](const std::string& bytes, const HostPort&) {
        ++sends;
        const SipParseResult sent = ParseSipMessage(bytes);
        if (!sent.message) __builtin_trap();
      },
      Rng(1));
  core = &uas;
  const HostPort peer{"127.0.0.1", 5070};
  size_t start = 0;
  constexpr std::string_view kSeparator = "\n--\n";
  while (start <= input.size()) {
    const size_t end = input.find(kSeparator, start);
    const std::string_view datagram =
        input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const SipParseResult parsed = ParseSipMessage(datagram);
    const bool response = parsed.message && !parsed.message->is_request();
    sends = 0;
    uas.OnDatagram(datagram, peer);
    if (response && sends != 0) __builtin_trap();  // a response is never answered
    scheduler.RunUntil(scheduler.NowUs() + 100'000);
    if (end == std::string_view::npos) break;
    start = end + kSeparator.size();
  }
  scheduler.RunAll(1'000'000);
  if (uas.dialogs() != 0 || uas.transactions() != 0) __builtin_trap();
  return 0;
}
